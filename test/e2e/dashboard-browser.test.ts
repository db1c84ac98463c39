import { after, before, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import type { BrowserContext, Page } from 'playwright-core';
import type { AccessKey, KeyStore } from '../../src/auth/access-keys.js';
import { FileLogStore } from '../../src/backends/files/file-log-store.js';
import { SqliteRegistryStore } from '../../src/backends/sqlite/registry-store.js';
import { DashboardSurface } from '../../src/dashboard/dashboard-surface.js';
import { LiveSeries } from '../../src/dashboard/live-series.js';
import { Registry } from '../../src/registry/registry.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { splitTarget } from '../../src/server/http/request-url.js';
import { systemClock } from '../../src/shared/clock.js';
import { fixture, invoke, mustDeploy, startPlatform } from '../support/platform.js';
import type { RunningPlatform } from '../support/platform.js';
import { need, requirements } from '../support/requirements.js';

// Page functions run in the browser (playwright serialises them); the test's own lib has no DOM.
declare const window: any;
declare const document: any;

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let shots: string;

before(async () => {
  shots = await mkdtemp(join(tmpdir(), 'modelfn-screens-'));
});

after(async () => {
  // Kept when MODELFN_KEEP_SCREENSHOTS is set, to look at them.
  if (!process.env.MODELFN_KEEP_SCREENSHOTS) await rm(shots, { recursive: true, force: true });
  else process.stdout.write(`# screenshots in ${shots}\n`);
});

/** Debian's Chromium through playwright-core, with a fresh profile; closed (and its processes gone) by the caller. */
async function browser(t: TestContext): Promise<{ context: BrowserContext; page: Page; close(): Promise<void> }> {
  const { chromium } = await import('playwright-core');
  const profile = await mkdtemp(join(tmpdir(), 'modelfn-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 900 } });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  const close = async () => {
    await context.close();
    await rm(profile, { recursive: true, force: true });
    assert.deepEqual(errors, [], 'no script errors on the page');
  };
  t.after(close);
  return { context, page, close };
}

/** A PNG that decodes: signature, IHDR, and IDAT data that inflates to the image's size. */
async function assertPng(file: string): Promise<{ width: number; height: number }> {
  const png = await readFile(file);
  assert.ok(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), 'PNG signature');
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const bitDepth = png[24]!;
  const colorType = png[25]!;
  const channels = { 2: 3, 6: 4, 0: 1, 4: 2 }[colorType as 2 | 6 | 0 | 4] ?? 4;
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    const type = png.toString('ascii', at + 4, at + 8);
    if (type === 'IDAT') idat.push(png.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  assert.ok(width > 0 && height > 0);
  assert.equal(raw.length, height * (1 + (width * channels * bitDepth) / 8), 'image data inflates to width x height');
  return { width, height };
}

test('dashboard in Chromium: a deploy appears without reload; function charts, invocations with logs, cost', async (t) => {
  if (!need(t, requirements.chromium)) return;
  const p: RunningPlatform = await startPlatform();
  t.after(() => p.cleanup());
  const { page } = await browser(t);
  await page.goto(`${p.url}/ui`);
  await page.waitForSelector('#no-functions');
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));

  await mustDeploy(p.url, 'probe', fixture('functions', 'telemetry-probe'), { memoryMb: 256 });
  await page.waitForSelector('tr[data-fn="probe"]', { timeout: 15_000 });
  assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 42, 'the page was not reloaded');
  assert.match((await page.textContent('tr[data-fn="probe"]'))!, /scaled to zero/);

  for (let i = 0; i < 5; i++) assert.equal((await invoke(p.url, 'probe', {})).status, 200);
  await invoke(p.url, 'probe', { fail: true });
  await page.waitForFunction(() => /\d busy|\d idle/.test(document.querySelector('tr[data-fn="probe"]')?.textContent ?? ''), undefined, { timeout: 15_000 });
  await page.screenshot({ path: join(shots, 'functions.png'), fullPage: true });
  await assertPng(join(shots, 'functions.png'));

  await page.click('tr[data-fn="probe"] a');
  await page.waitForSelector('#invocations-table tr[data-request-id]');
  assert.equal(await page.locator('.chart canvas').count(), 5, 'five charts');
  // The charts get points from the live stream: wait for a step with the calls in it.
  await page.waitForFunction(() => document.querySelectorAll('#invocations-table tr[data-request-id]').length >= 6, undefined, { timeout: 15_000 });
  await page.locator('#invocations-table tr[data-request-id]').first().click();
  await page.waitForSelector('#invocation-logs .logs');
  const logs = (await page.textContent('#invocation-logs .logs'))!;
  assert.match(logs, /START RequestId: \S+ Version: \$LATEST/);
  assert.match(logs, /REPORT RequestId: \S+\tDuration: [\d.]+ ms/);
  assert.match(logs, /probe failure|Error/, 'the newest call is the failed one, with its error');
  await page.waitForTimeout(2500); // one more chart step
  await page.screenshot({ path: join(shots, 'function.png'), fullPage: true });
  await assertPng(join(shots, 'function.png'));

  await page.click('nav a[href="#/cost"]');
  await page.waitForSelector('#cost-table');
  await page.waitForFunction(() => /probe/.test(document.querySelector('#cost-table')?.textContent ?? ''), undefined, { timeout: 20_000 });
  assert.match((await page.textContent('#cost-totals'))!, /AWS Lambda/);
  await page.screenshot({ path: join(shots, 'cost.png'), fullPage: true });
  const { width } = await assertPng(join(shots, 'cost.png'));
  assert.equal(width, 1280);
});

// ---- sign-in: the dashboard against a key store ---------------------------------------------------

function keyStore(keys: AccessKey[]): KeyStore & { revokeNow(id: string): void } {
  const map = new Map(keys.map((k) => [k.accessKeyId, k]));
  return {
    get: (id) => map.get(id),
    list: () => [...map.values()],
    create: () => Promise.reject(new Error('not in this test')),
    revoke: async (id) => map.delete(id),
    revokeNow: (id) => map.set(id, { ...map.get(id)!, revoked: true }),
  };
}

test('dashboard sign-in in Chromium: wrong secret refused, session cookie HttpOnly, API 401 without it, sign out, revoked key ends the session', async (t) => {
  if (!need(t, requirements.chromium)) return;
  const dir = await mkdtemp(join(tmpdir(), 'modelfn-dash-'));
  const store = new SqliteRegistryStore(join(dir, 'modelfn.db'));
  const registry = new Registry(store, { region: 'us-east-1', accountId: '000000000000' });
  await registry.load();
  const logs = await FileLogStore.open(join(dir, 'logs'), { maxAgeMs: 86_400_000, maxBytesPerFunction: 1e9 });
  const scheduler = new Scheduler({
    clock: systemClock,
    launcher: { launch: () => Promise.reject(new Error('no instances in this test')), cleanup: async () => undefined },
    logs,
    memoryBudgetMb: 1024,
    accountConcurrency: 10,
    minUnreservedConcurrency: 1,
    defaultKeepAliveSec: 60,
    maxQueueLength: 1,
    maxQueueWaitMs: 100,
    reapIntervalMs: 1000,
    eagerInstances: 1,
    maxResponseBytes: 1e6,
  });
  const live = new LiveSeries({ instances: () => new Map() });
  const keys = keyStore([{ accessKeyId: 'AKIADASHBOARDTEST01', secretAccessKey: 'right-secret', tenant: 'default', admin: true, createdAt: '', revoked: false, description: '' }]);
  const surface = new DashboardSurface({ keys, registry, scheduler, logs, live, metering: () => undefined, version: 'test' });
  const server: Server = createServer((req, res) => void surface.handle(req, res, splitTarget(req.url)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    live.close();
    await scheduler.shutdown(0);
    await logs.close();
    registry.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  assert.equal((await fetch(`${url}/ui/api/overview`)).status, 401, 'no session, no data');
  const { page, context } = await browser(t);
  await page.goto(`${url}/ui`);
  await page.waitForSelector('#login-form');
  assert.equal(await page.isVisible('#nav'), false, 'no navigation before signing in');
  await page.screenshot({ path: join(shots, 'login.png') });
  await assertPng(join(shots, 'login.png'));

  await page.fill('input[name=accessKeyId]', 'AKIADASHBOARDTEST01');
  await page.fill('input[name=secretAccessKey]', 'wrong-secret');
  await page.click('#login-form button[type=submit]');
  await page.waitForFunction(() => (document.querySelector('#login-error')?.textContent ?? '') !== '');
  assert.match((await page.textContent('#login-error'))!, /wrong secret/);

  await page.fill('input[name=secretAccessKey]', 'right-secret');
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#no-functions');
  assert.match((await page.textContent('#who'))!, /AKIADASHBOARDTEST01/);
  const [cookie] = await context.cookies(`${url}/ui`);
  assert.equal(cookie!.name, 'modelfn_session');
  assert.equal(cookie!.httpOnly, true);
  assert.equal(cookie!.sameSite, 'Strict');
  assert.equal(await page.evaluate(() => document.cookie), '', 'scripts cannot read the session');
  assert.equal((await fetch(`${url}/ui/api/overview`, { headers: { cookie: `modelfn_session=${cookie!.value}` } })).status, 200);
  assert.equal((await fetch(`${url}/ui/api/overview`, { headers: { cookie: `modelfn_session=${cookie!.value.slice(0, -3)}abc` } })).status, 401, 'a tampered cookie is refused');

  await page.click('#sign-out');
  await page.waitForSelector('#login-form');
  assert.deepEqual(await context.cookies(`${url}/ui`), []);

  await page.fill('input[name=accessKeyId]', 'AKIADASHBOARDTEST01');
  await page.fill('input[name=secretAccessKey]', 'right-secret');
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#no-functions');
  keys.revokeNow('AKIADASHBOARDTEST01');
  await page.reload();
  await page.waitForSelector('#login-form');
});

test('dashboard on a platform with access keys: sign in with the key pair the platform wrote; unsigned API and dashboard calls are refused', async (t) => {
  if (!need(t, requirements.chromium)) return;
  const p: RunningPlatform = await startPlatform({ auth: true });
  t.after(() => p.cleanup());
  const { readCredentialsFile } = await import('../../src/auth/credentials-file.js');
  const creds = (await readCredentialsFile(join(p.dataDir, 'credentials')))!;
  assert.ok(creds.accessKeyId.startsWith('AKIA'));
  assert.equal((await fetch(`${p.url}/ui/api/overview`)).status, 401);
  assert.equal((await fetch(`${p.url}/_modelfn/v1/cost`)).status, 403, 'the metering API takes signed requests like the rest of the modelfn API');
  const { page } = await browser(t);
  await page.goto(`${p.url}/ui`);
  await page.waitForSelector('#login-form');
  await page.fill('input[name=accessKeyId]', creds.accessKeyId);
  await page.fill('input[name=secretAccessKey]', creds.secretAccessKey);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#no-functions');
  assert.match((await page.textContent('#who'))!, new RegExp(creds.accessKeyId));
  await page.click('nav a[href="#/cost"]');
  await page.waitForSelector('#cost-table');
});
