import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chunkResults, formatBatchOutput, parseBatchInput } from '../../../src/events/batch/batch-input.js';
import { ChunkError, runBatch } from '../../../src/events/batch/batch-runner.js';
import { Journal } from '../../../src/events/batch/journal.js';

test('CSV input: a header is detected, numbers parsed, quotes and CRLF handled; JSONL one value per line', () => {
  const csv = parseBatchInput('\ufeffa,b,label\r\n1,2.5,"x, y"\r\n3,,-4e2\r\n', 'csv');
  assert.deepEqual(csv.header, ['a', 'b', 'label']);
  assert.deepEqual(csv.rows, [[1, 2.5, 'x, y'], [3, null, -400]]);
  assert.deepEqual(parseBatchInput('5.1,3.5\n6.2,2.9\n', 'csv'), { rows: [[5.1, 3.5], [6.2, 2.9]] });
  assert.deepEqual(parseBatchInput('{"x":1}\n\n[1,2]\n', 'jsonl').rows, [{ x: 1 }, [1, 2]]);
  assert.throws(() => parseBatchInput('{"x":1}\nnope\n', 'jsonl'), /line 2 is not JSON/);
  assert.equal(formatBatchOutput([1, 'a,b', [0.1, 0.9]], 'csv'), 'prediction\n1\n"a,b"\n"[0.1,0.9]"\n');
  assert.equal(formatBatchOutput([{ p: 1 }, 2], 'jsonl'), '{"p":1}\n2\n');
  assert.deepEqual(chunkResults([1, 2], 2), [1, 2]);
  assert.deepEqual(chunkResults({ predictions: [1] }, 1), [1]);
  assert.throws(() => chunkResults([1], 2), /1 results for 2 rows/);
  assert.throws(() => chunkResults({ statusCode: 200 }, 1), /must return a JSON array/);
});

test('runBatch: results in input order whatever the completion order; failed chunks retried; throttles not counted', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'modelfn-batch-'));
  try {
    const header = { v: 1 as const, function: 'f', input: 'in', inputBytes: 1, inputMtimeMs: 1, chunkRows: 7 };
    const journal = await Journal.open(join(dir, 'j'), header, false);
    const rows = Array.from({ length: 100 }, (_, i) => i);
    const tries = new Map<number, number>();
    const results = await runBatch({
      rows,
      chunkRows: 7,
      concurrency: 5,
      retries: 2,
      retryDelayMs: 1,
      journal,
      invoke: async (chunk, i) => {
        const n = (tries.get(i) ?? 0) + 1;
        tries.set(i, n);
        if (i === 3 && n === 1) throw new ChunkError('boom');
        if (i === 4 && n <= 5) throw new ChunkError('slow down', true);
        await new Promise((r) => setTimeout(r, (i * 37) % 11));
        return chunk.map((x) => (x as number) * 10);
      },
    });
    assert.deepEqual(results, rows.map((x) => x * 10));
    assert.equal(tries.get(3), 2);
    assert.equal(tries.get(4), 6, 'five throttles and a success: throttles use no retries');
    // Resume: a journal with some chunks done runs only the others.
    const again = await Journal.open(join(dir, 'j'), header, true);
    assert.equal(again.done.size, 15);
    const lines = (await readFile(join(dir, 'j'), 'utf8')).split('\n').filter(Boolean);
    await writeFile(join(dir, 'j'), `${lines.slice(0, 6).join('\n')}\n{"chunk": 9, "resu`);
    const partial = await Journal.open(join(dir, 'j'), header, true);
    assert.equal(partial.done.size, 5, 'a line cut short is ignored');
    const ran: number[] = [];
    const resumed = await runBatch({ rows, chunkRows: 7, concurrency: 2, retries: 0, retryDelayMs: 1, journal: partial, invoke: async (chunk, i) => (ran.push(i), chunk.map((x) => (x as number) * 10)) });
    assert.deepEqual(resumed, rows.map((x) => x * 10));
    assert.equal(ran.length, 10);
    const other = await Journal.open(join(dir, 'j'), { ...header, chunkRows: 8 }, true);
    assert.equal(other.done.size, 0, 'a journal of another run is not reused');
    await assert.rejects(
      runBatch({ rows, chunkRows: 50, concurrency: 1, retries: 1, retryDelayMs: 1, journal: other, invoke: async () => { throw new ChunkError('always'); } }),
      /chunk 1 of 2 \(rows 1-50\) failed after 2 attempts: always/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
