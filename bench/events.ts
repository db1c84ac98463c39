// Event-driven features: (1) the cost of a durable write per event in events.db (fsync per event vs
// group commit), (2) async events/s end to end through a real platform (Invoke Event -> stored ->
// dispatched -> completed) for a trivial function, and (3) batch-prediction rows/s of `modelfn batch`
// on the iris RandomForest against predicting the same rows in one process (same run, same rows).
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { zipSync } from 'fflate';
import { EventsDatabase } from '../src/backends/sqlite/events-database.js';
import { SqliteMessageQueue } from '../src/backends/sqlite/sqlite-message-queue.js';
import { SqliteRecordStore } from '../src/backends/sqlite/sqlite-record-store.js';
import { loadSklearnModel } from '../src/models/sklearn/index.js';
import { systemClock } from '../src/shared/clock.js';
import { fromPackageRoot } from '../src/shared/paths.js';
import { startPlatform } from './lib/processes.js';
import type { Row } from './lib/report.js';
import { median, printTable } from './lib/report.js';

const NO_AUTH = ['--auth', 'none'];

/** (1) Accepting one event = one message + one record, durable before the 202. */
async function storeCost(events: number): Promise<Row[]> {
  const rows: Row[] = [];
  for (const sync of ['full', 'normal'] as const) {
    for (const groupCommit of [false, true]) {
      const dir = await mkdtemp(join(tmpdir(), 'modelfn-bench-events-'));
      const db = new EventsDatabase(join(dir, 'events.db'), { sync, groupCommit });
      const queue = new SqliteMessageQueue(db, systemClock);
      const records = new SqliteRecordStore(db, systemClock);
      await queue.putQueue('q', { visibilityTimeoutMs: 60_000, retentionMs: 0, delayMs: 0 });
      const body = Buffer.from('{"name":"bench"}');
      const accept = (i: number) =>
        Promise.all([
          queue.send('q', [{ body, attributes: { rid: `r${i}`, at: '0', src: 'bench' } }]),
          records.create({ id: `r${i}`, kind: 'event', functionName: 'f', qualifier: null, status: 'queued', attempts: 0, functionErrors: 0, acceptedAt: 0, startedAt: null, finishedAt: null, nextAttemptAt: null, error: null, detail: {}, updatedAt: 0 }),
        ]);
      // 64 requests in flight, as concurrent HTTP clients would keep them.
      const started = performance.now();
      let next = 0;
      await Promise.all(Array.from({ length: 64 }, async () => {
        while (next < events) await accept(next++);
      }));
      const secs = (performance.now() - started) / 1000;
      rows.push({
        name: `store: accept an event, sync=${sync}, ${groupCommit ? 'group commit' : 'one commit per write'}`,
        value: events / secs,
        unit: 'events/s',
        note: `${events} events, 64 in flight, ${db.commits} commits`,
      });
      await db.close();
      await rm(dir, { recursive: true, force: true });
    }
  }
  return rows;
}

async function deploy(url: string, name: string, zip: Buffer, spec: Record<string, unknown>): Promise<void> {
  const up = await fetch(`${url}/_modelfn/v1/bundles`, { method: 'POST', body: zip, headers: { 'content-type': 'application/zip' } });
  const { sha256 } = (await up.json()) as { sha256: string };
  const res = await fetch(`${url}/_modelfn/v1/functions/${name}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ memoryMb: 256, code: { sha256 }, ...spec }) });
  if (!res.ok) throw new Error(`deploy ${name} failed: ${res.status} ${await res.text()}`);
}

async function unfinished(url: string, name: string): Promise<boolean> {
  for (const status of ['queued', 'running', 'retrying']) {
    const res = (await (await fetch(`${url}/_modelfn/v1/functions/${name}/invocations?status=${status}&limit=1`)).json()) as { invocations: unknown[] };
    if (res.invocations.length > 0) return true;
  }
  return false;
}

/** (2) Async events end to end: submit `events` with 32 clients, time until every record says done. */
async function asyncThroughput(events: number, rounds: number, env: Record<string, string>, label: string): Promise<Row[]> {
  const platform = await startPlatform(env, NO_AUTH);
  try {
    const handler = Buffer.from("exports.handler = async (event) => ({ ok: true, name: event.name });\n");
    await deploy(platform.url, 'trivial', Buffer.from(zipSync({ 'index.js': handler })), { runtime: 'nodejs20.x', handler: 'index.handler' });
    const url = `${platform.url}/2015-03-31/functions/trivial/invocations`;
    const submit = () => fetch(url, { method: 'POST', body: '{"name":"bench"}', headers: { 'x-amz-invocation-type': 'Event' } }).then((r) => r.arrayBuffer().then(() => r.status));
    for (let i = 0; i < 50; i++) await submit(); // warm: instances and connections
    while (await unfinished(platform.url, 'trivial')) await new Promise((r) => setTimeout(r, 50));
    const endToEnd: number[] = [];
    const accepted: number[] = [];
    let failures = 0;
    for (let r = 0; r < rounds; r++) {
      const started = performance.now();
      let next = 0;
      await Promise.all(Array.from({ length: 32 }, async () => {
        while (next++ < events) if ((await submit()) !== 202) failures++;
      }));
      accepted.push(events / ((performance.now() - started) / 1000));
      while (await unfinished(platform.url, 'trivial')) await new Promise((r2) => setTimeout(r2, 20));
      endToEnd.push(events / ((performance.now() - started) / 1000));
    }
    return [
      { name: `async events end to end (${label})`, value: median(endToEnd), unit: 'events/s', note: `median of ${rounds} x ${events}: 202 -> stored -> dispatched -> completed; ${failures} non-202` },
      { name: `async events accepted (202) (${label})`, value: median(accepted), unit: 'events/s', note: 'submission rate while the dispatcher runs' },
    ];
  } finally {
    await platform.stop();
  }
}

/** Deterministic iris-like rows. */
function irisRows(n: number): number[][] {
  const base = [
    [5.1, 3.5, 1.4, 0.2],
    [6.2, 2.9, 4.3, 1.3],
    [7.7, 3.0, 6.1, 2.3],
  ];
  return Array.from({ length: n }, (_, i) => base[i % 3]!.map((v, j) => Math.round((v + (((i * 7 + j * 13) % 11) - 5) * 0.05) * 100) / 100));
}

/** (3) `modelfn batch` on the iris forest vs the same model predicting the same rows in one process. */
async function batchVsInProcess(n: number): Promise<Row[]> {
  const modelFile = fromPackageRoot('examples', 'iris-joblib', 'model.joblib');
  const rows = irisRows(n);
  const model = loadSklearnModel(await readFile(modelFile));
  const flat = Float64Array.from(rows.flat());
  model.predict(flat.subarray(0, 400), 100);
  const inProc: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    model.predict(flat, n);
    inProc.push(n / ((performance.now() - t) / 1000));
  }
  const platform = await startPlatform({}, NO_AUTH);
  const dir = await mkdtemp(join(tmpdir(), 'modelfn-bench-batch-'));
  try {
    await deploy(platform.url, 'iris', Buffer.from(zipSync({ 'model.joblib': await readFile(modelFile) })), { runtime: 'model', handler: 'model.joblib', timeoutSec: 60 });
    const input = join(dir, 'iris.csv');
    await writeFile(input, `sepal_length,sepal_width,petal_length,petal_width\n${rows.map((r) => r.join(',')).join('\n')}\n`);
    const runs: number[] = [];
    for (let r = 0; r < 3; r++) {
      const output = join(dir, `out-${r}.jsonl`);
      const t = performance.now();
      const code = await new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, [fromPackageRoot('bin', 'modelfn.js'), 'batch', 'iris', input, '-o', output, '--chunk-rows', '2000', '--concurrency', '4'], {
          env: { ...process.env, MODELFN_ENDPOINT: platform.url },
          stdio: ['ignore', 'ignore', 'inherit'],
        });
        child.once('exit', resolve);
      });
      if (code !== 0) throw new Error(`modelfn batch exited with ${code}`);
      runs.push(n / ((performance.now() - t) / 1000));
      const lines = (await readFile(output, 'utf8')).trim().split('\n').length;
      if (lines !== n) throw new Error(`batch wrote ${lines} lines for ${n} rows`);
    }
    const batch = median(runs);
    const single = median(inProc);
    return [
      { name: `modelfn batch, iris RandomForest (100 trees), ${n.toLocaleString('en-US')} CSV rows`, value: batch, unit: 'rows/s', note: 'median of 3; CLI start, CSV parse, 2000-row chunks x 4 in flight, model runtime, JSONL out' },
      { name: 'same model, same rows, one process (loadSklearnModel + predict)', value: single, unit: 'rows/s', note: 'median of 3; one Float64Array, no I/O' },
      { name: 'batch job / in-process', value: batch / single, unit: 'ratio', note: 'the price of HTTP, JSON, chunking and isolation' },
    ];
  } finally {
    await platform.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function benchEvents(options: { storeEvents?: number; asyncEvents?: number; rounds?: number; batchRows?: number } = {}): Promise<Row[]> {
  const rows = [
    ...(await storeCost(options.storeEvents ?? 3000)),
    ...(await asyncThroughput(options.asyncEvents ?? 1500, options.rounds ?? 3, {}, 'default: fsync, group commit')),
    ...(await asyncThroughput(options.asyncEvents ?? 1500, 1, { MODELFN_EVENTS_GROUP_COMMIT: '0' }, 'fsync per write')),
    ...(await batchVsInProcess(options.batchRows ?? 100_000)),
  ];
  printTable('Events: durable accept, async throughput, batch prediction', rows);
  return rows;
}

if (process.argv[1]?.endsWith('events.js')) await benchEvents();
