import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileLogStore } from '../../../src/backends/files/file-log-store.js';

const DAY = 86_400_000;

/** A segment file as the store writes them: logs/<fn>/<firstTs>-<seq>.ndjson. */
async function segment(dir: string, ts: number, seq: number, bytes = 100): Promise<string> {
  const name = `${String(ts).padStart(13, '0')}-${seq}.ndjson`;
  const record = JSON.stringify({ ts, functionName: 'fn', version: '$LATEST', instanceId: 'i', requestId: `r${seq}`, kind: 'output', message: 'x'.repeat(bytes), seq });
  await writeFile(join(dir, name), `${record}\n`);
  return name;
}

async function withStore(maxAgeMs: number, maxBytes: number, fn: (store: FileLogStore, dir: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'modelfn-retention-'));
  try {
    const dir = join(root, 'fn');
    await mkdir(dir);
    await fn(await FileLogStore.open(root, { maxAgeMs, maxBytesPerFunction: maxBytes }), dir);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

// The store runs retention on a timer every minute; the tests run it directly.
const enforce = (store: FileLogStore) => (store as unknown as { enforceRetention(): Promise<void> }).enforceRetention();

test('retention by age: segments whose records are all older than the limit go; the rest stay queryable', async () => {
  const now = Date.now();
  await withStore(7 * DAY, 1e9, async (store, dir) => {
    const old1 = await segment(dir, now - 10 * DAY, 1);
    const old2 = await segment(dir, now - 9 * DAY, 2);
    const straddling = await segment(dir, now - 8 * DAY, 3);
    const fresh = await segment(dir, now - 6 * DAY, 4);
    const newest = await segment(dir, now - DAY, 5);
    await enforce(store);
    assert.deepEqual((await readdir(dir)).sort(), [straddling, fresh, newest].sort(), `${old1} and ${old2} are past 7 days`);
    const since = await store.query({ functionName: 'fn', since: now - 7 * DAY });
    assert.deepEqual(since.map((r) => r.requestId), ['r4', 'r5']);
    const range = await store.query({ functionName: 'fn', since: now - 7 * DAY, until: now - 2 * DAY });
    assert.deepEqual(range.map((r) => r.requestId), ['r4'], 'a time range reads only what falls in it');
    await store.close();
  });
});

test('retention by size: the oldest segments go until a function is under its limit (the newest always stays)', async () => {
  const now = Date.now();
  await withStore(30 * DAY, 2500, async (store, dir) => {
    const names = [];
    for (let i = 1; i <= 5; i++) names.push(await segment(dir, now - (10 - i) * 60_000, i, 1000));
    await enforce(store);
    assert.deepEqual((await readdir(dir)).sort(), names.slice(3).sort(), 'five 1.1 KB segments against 2.5 KB: the three oldest go');
    await store.close();
  });
});

test('a quiet function: its last segment goes too once nothing was written to it within the limit; segments roll hourly', async () => {
  const now = Date.now();
  await withStore(7 * DAY, 1e9, async (store, dir) => {
    const old = await segment(dir, now - 9 * DAY, 1);
    const last = await segment(dir, now - 8 * DAY, 2);
    const stale = new Date(now - 8 * DAY);
    await utimes(join(dir, last), stale, stale);
    await enforce(store);
    assert.deepEqual(await readdir(dir), [], `${old} and ${last} both hold only lines older than 7 days`);
    // New lines after that start a new segment; a line more than an hour later starts another.
    store.append({ ts: now - 2 * 3_600_000, functionName: 'fn', version: '$LATEST', instanceId: 'i', requestId: 'a', kind: 'output', message: 'a' });
    await store.flush();
    store.append({ ts: now, functionName: 'fn', version: '$LATEST', instanceId: 'i', requestId: 'b', kind: 'output', message: 'b' });
    await store.flush();
    assert.equal((await readdir(dir)).length, 2);
    assert.deepEqual((await store.query({ functionName: 'fn' })).map((r) => r.requestId), ['a', 'b']);
    await store.close();
  });
});
