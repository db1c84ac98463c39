import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InvocationRecord } from '../../../src/scheduler/scheduler.js';
import { parseCpuTicks } from '../../../src/telemetry/metering/cpu-sampler.js';
import { MeteringStore } from '../../../src/telemetry/metering/metering-store.js';
import { DEFAULT_PRICES_FILE, loadPriceTable, priceUsage } from '../../../src/telemetry/metering/pricing.js';
import type { ProviderPrices } from '../../../src/telemetry/metering/pricing.js';
import { MeterBook, emptyUsage, gbSeconds } from '../../../src/telemetry/metering/usage.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const rec = (over: Partial<InvocationRecord> = {}): InvocationRecord => ({ functionName: 'f', version: '$LATEST', requestId: 'r', durationMs: 10.2, billedDurationMs: 11, memoryMb: 512, ...over });

test('GB-seconds: billed ms (rounded up to 1 ms) plus init, times memory in GB (MB / 1024)', () => {
  const book = new MeterBook();
  book.add(rec({ durationMs: 10.2, billedDurationMs: 11, initDurationMs: 120.3 }), T0);
  book.add(rec({ durationMs: 0.4, billedDurationMs: 1 }), T0 + 1000);
  book.add(rec({ durationMs: 99.9, billedDurationMs: 100, errorType: 'Error' }), T0 + 2000);
  const [row, ...rest] = book.drain();
  assert.equal(rest.length, 0, 'one minute, one version: one bucket');
  assert.equal(row!.minute, T0);
  assert.equal(row!.requests, 3);
  assert.equal(row!.errors, 1);
  assert.equal(row!.coldStarts, 1);
  assert.equal(row!.initMs, 121, 'init rounded up to 1 ms');
  assert.equal(row!.billedMs, 11 + 121 + 1 + 100);
  assert.equal(row!.mbMs, (11 + 121 + 1 + 100) * 512);
  assert.equal(gbSeconds(row!.mbMs), ((11 + 121 + 1 + 100) / 1000) * 0.5);
  // Cloud Run rounds each request (init included) up to 100 ms; Azure has a 100 ms minimum.
  assert.equal(row!.billedMs100, 200 + 100 + 100);
  assert.equal(row!.billedMsMin100, 100 + 121 + 100 + 100);
  assert.deepEqual(book.drain(), [], 'drained');
});

test('a failed init bills the init only; buckets are per minute and per version; throttles and CPU are kept', () => {
  const book = new MeterBook();
  book.add(rec({ durationMs: 0, billedDurationMs: 0, initDurationMs: 40.5, errorType: 'Runtime.ImportModuleError' }), T0);
  book.add(rec({ version: '1' }), T0);
  book.add(rec(), T0 + 60_000);
  book.addThrottle('f', '$LATEST', T0 + 60_001);
  book.addCpu('f', '$LATEST', 250, T0 + 60_002);
  const rows = book.drain().sort((a, b) => a.minute - b.minute || a.version.localeCompare(b.version));
  assert.equal(rows.length, 3);
  assert.equal(rows[0]!.billedMs, 41);
  assert.equal(rows[0]!.billedMsMin100, 41, 'no invocation time: no 100 ms minimum, only the init');
  assert.equal(rows[1]!.version, '1');
  assert.equal(rows[2]!.throttles, 1);
  assert.equal(rows[2]!.cpuMs, 250);
});

test('the store adds buckets up, answers totals and series over a range, and drops old minutes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'modelfn-metering-'));
  try {
    const store = new MeteringStore(join(dir, 'metering.db'));
    const book = new MeterBook();
    for (let i = 0; i < 5; i++) book.add(rec(), T0 + i * 60_000);
    book.add(rec({ functionName: 'g', memoryMb: 128 }), T0);
    store.write(book.drain());
    book.add(rec(), T0);
    store.write(book.drain());
    const totals = store.totals({ since: T0 });
    assert.deepEqual(totals.map((t) => [t.functionName, t.requests]), [['f', 6], ['g', 1]]);
    assert.equal(totals[0]!.mbMs, 6 * 11 * 512);
    assert.equal(store.totals({ since: T0 + 60_000, until: T0 + 3 * 60_000, functionName: 'f' })[0]!.requests, 2);
    const series = store.series({ since: T0, stepMs: 120_000, functionName: 'f' });
    assert.deepEqual(series.map((p) => [p.t - T0, p.requests]), [[0, 3], [120_000, 2], [240_000, 1]]);
    assert.equal(store.deleteBefore(T0 + 2 * 60_000), 3);
    assert.equal(store.totals({ since: 0 })[0]!.requests, 3);
    store.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('cost: each provider prices the same usage with its own rounding, memory cap and CPU', () => {
  const table = loadPriceTable(DEFAULT_PRICES_FILE);
  const byId = new Map(table.providers.map((p) => [p.id, p]));
  assert.deepEqual([...byId.keys()], ['aws-lambda', 'gcp-cloud-run-functions', 'azure-functions-consumption']);
  assert.equal(table.freeTiers, 'excluded');
  // One million 100 ms invocations of a 1024 MB function: 100,000 GB-s.
  const u = { ...emptyUsage(), requests: 1e6, billedMs: 1e8, mbMs: 1e8 * 1024, billedMs100: 1e8, billedMsMin100: 1e8, memoryMb: 1024 };
  const aws = priceUsage(byId.get('aws-lambda')!, u);
  assert.ok(Math.abs(aws.requests - 0.2) < 1e-9);
  assert.ok(Math.abs(aws.compute - 100_000 * 0.0000166667) < 1e-6, String(aws.compute));
  const gcp = priceUsage(byId.get('gcp-cloud-run-functions')!, u);
  assert.ok(Math.abs(gcp.total - (0.4 + 100_000 * 0.0000025 + 100_000 * 0.583 * 0.000024)) < 1e-6, String(gcp.total));
  const azure = priceUsage(byId.get('azure-functions-consumption')!, { ...u, memoryMb: 4096, mbMs: 1e8 * 4096 });
  assert.ok(Math.abs(azure.compute - 1e5 * 1.5 * 0.000016) < 1e-6, 'Azure bills at most 1,536 MB');
  const custom: ProviderPrices = { id: 'x', name: 'X', perMillionRequests: 1, perGbSecond: 0, rounding: '100ms', sources: [] };
  assert.equal(priceUsage(custom, { ...emptyUsage(), requests: 2e6 }).total, 2);
  assert.equal(priceUsage(custom, emptyUsage()).total, 0, 'no usage, no cost');
});

test('a user price table is validated and errors name the field', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'modelfn-prices-'));
  try {
    const file = join(dir, 'p.json');
    await writeFile(file, JSON.stringify({ updated: 'today', providers: [{ id: 'mine', name: 'Mine', perMillionRequests: 1, perGbSecond: 0.1, rounding: '1ms' }] }));
    assert.equal(loadPriceTable(file).providers[0]!.id, 'mine');
    await writeFile(file, JSON.stringify({ updated: 'today', providers: [{ id: 'mine', name: 'Mine', perMillionRequests: -1, perGbSecond: 0.1, rounding: '1ms' }] }));
    assert.throws(() => loadPriceTable(file), /providers\.0\.perMillionRequests/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('CPU ticks come from fields 14 and 15 of /proc/<pid>/stat, whatever the command name holds', () => {
  const stat = '1234 (node (worker) x) S 1 1234 1234 0 -1 4194304 5000 0 0 0 150 25 0 0 20 0 11 0 100 1000000 5000';
  assert.equal(parseCpuTicks(stat), 175);
  assert.equal(parseCpuTicks('garbage'), undefined);
});
