import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileLogStore } from '../../../src/backends/files/file-log-store.js';
import { columnsToText, newColumns, pushRecord } from '../../../src/backends/files/log-columns.js';
import { LogFormatter } from '../../../src/backends/files/log-formatter.js';
import { jsonNumber, jsonString } from '../../../src/shared/json.js';
import { LogRenderer } from '../../../src/telemetry/logs/log-record.js';
import type { LogRecord } from '../../../src/telemetry/logs/log-record.js';

const out = (fn: string, requestId: string | null, message: string, ts = Date.now()): LogRecord => ({ ts, functionName: fn, version: '$LATEST', instanceId: 'i1', requestId, kind: 'output', message });
const inv = (fn: string, requestId: string, ts = Date.now()): LogRecord => ({
  ts,
  functionName: fn,
  version: '$LATEST',
  instanceId: 'i1',
  requestId,
  kind: 'invocation',
  message: '',
  report: { startedAt: ts - 5, durationMs: 4.5, billedDurationMs: 5, memoryMb: 128, maxMemoryUsedMb: 40.4, initDurationMs: 61.234 },
});

async function withStore(fn: (root: string) => Promise<void>) {
  const root = await mkdtemp(join(tmpdir(), 'modelfn-logs-'));
  try {
    await fn(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

test('records are queryable by function, request id and time, and rendered as Lambda lines', async () => {
  await withStore(async (root) => {
    const store = await FileLogStore.open(root, { maxAgeMs: 86_400_000, maxBytesPerFunction: 1e9 });
    store.append(out('a', 'r1', 'hello'));
    store.append(inv('a', 'r1'));
    store.append(out('a', 'r2', 'other'));
    store.append(out('b', 'x', 'elsewhere'));
    const r1 = await store.query({ functionName: 'a', requestId: 'r1' });
    const lines = new LogRenderer().render(r1).map((l) => l.message);
    assert.deepEqual(lines.slice(0, 3), ['START RequestId: r1 Version: $LATEST', 'hello', 'END RequestId: r1']);
    assert.equal(lines[3], 'REPORT RequestId: r1\tDuration: 4.50 ms\tBilled Duration: 5 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: 61.23 ms');
    assert.equal((await store.query({ functionName: 'a' })).length, 3);
    assert.equal((await store.query({ functionName: 'a', limit: 1 }))[0]!.message, 'other');
    assert.equal((await store.query({ functionName: 'a', since: Date.now() + 60_000 })).length, 0);
    await store.close();
  });
});

test('sequence numbers continue after a restart; follow subscribers get new records', async () => {
  await withStore(async (root) => {
    const first = await FileLogStore.open(root, { maxAgeMs: 86_400_000, maxBytesPerFunction: 1e9 });
    first.append(out('a', null, 'one'));
    await first.close();
    const second = await FileLogStore.open(root, { maxAgeMs: 86_400_000, maxBytesPerFunction: 1e9 });
    const seen: string[] = [];
    second.subscribe('a', (records) => seen.push(...records.map((r) => `${r.seq}:${r.message}`)));
    second.append(out('a', null, 'two'));
    await second.flush();
    assert.deepEqual(seen, ['2:two']);
    const all = await second.query({ functionName: 'a' });
    assert.deepEqual(all.map((r) => r.seq), [1, 2]);
    await second.deleteFunction('a');
    assert.deepEqual(await readdir(root), []);
    await second.close();
  });
});

/** Strings that need escaping, and plain ones, for the hand-written JSON of the request path. */
const HOSTILE = ['', 'plain', 'say "hi"', 'back\\slash', 'tab\there', 'nl\nx', '\u0000\u001f\u007f', 'é ü 中文 🙂', 'lone \ud800 high', 'lone \udfff low', '\u2028\u2029', 'x'.repeat(97), `${'y'.repeat(120)}"`];

test('jsonString and jsonNumber give the bytes JSON.stringify gives', () => {
  for (const s of HOSTILE) assert.equal(jsonString(s), JSON.stringify(s), JSON.stringify(s));
  for (const n of [0, -0, 1.5, -2, 1e21, 1e-7, 0.1 + 0.2, Number.MAX_SAFE_INTEGER, NaN, Infinity, -Infinity]) assert.equal(jsonNumber(n), JSON.stringify(n));
});

test('log columns give back every record as it was stored, byte for byte, hostile text included', async () => {
  let seq = 0;
  const columns = newColumns();
  const expected: string[] = [];
  for (const text of HOSTILE) {
    const base = inv('fn', text);
    const records: LogRecord[] = [
      out('fn', null, text),
      { ...out('fn', text, text), kind: 'platform' },
      base,
      { ...base, report: { startedAt: 1, durationMs: 0.123456789, billedDurationMs: 1, memoryMb: 256, maxMemoryUsedMb: 45, errorType: text } },
      { ...base, report: { startedAt: 1, durationMs: 2, billedDurationMs: 2, memoryMb: 128, maxMemoryUsedMb: 0, initDurationMs: 0, errorType: '' } },
      { ...base, ts: -0, report: { startedAt: NaN, durationMs: Infinity, billedDurationMs: 1e21, memoryMb: 1e-7, maxMemoryUsedMb: 0.1 + 0.2 } },
    ];
    for (const r of records) {
      const s = ++seq;
      pushRecord(columns, r, s);
      // What the store wrote before columns: the record with its sequence number appended.
      expected.push(`${JSON.stringify({ ...r, seq: s })}\n`);
    }
  }
  assert.equal(columnsToText('fn', columns), expected.join(''));
  // The worker's bytes are the same text.
  const formatter = new LogFormatter();
  try {
    const [bytes] = await formatter.format([{ functionName: 'fn', columns }]);
    assert.equal(Buffer.from(bytes!).toString('utf8'), expected.join(''));
  } finally {
    await formatter.close();
  }
});

test('the formatter formats on this thread once its worker is gone, and loses nothing', async () => {
  const formatter = new LogFormatter();
  const columns = newColumns();
  pushRecord(columns, out('fn', 'r1', 'line', 5), 1);
  await formatter.close();
  const [bytes] = await formatter.format([{ functionName: 'fn', columns }]);
  assert.equal(Buffer.from(bytes!).toString('utf8'), `${JSON.stringify({ ...out('fn', 'r1', 'line', 5), seq: 1 })}\n`);
});
