import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { flushDecision, nextBatchCount, runsAlone } from '../../../../src/models/batching/batch-policy.js';
import { Batcher } from '../../../../src/models/batching/batcher.js';
import { ModelInvocationError } from '../../../../src/models/batching/errors.js';
import { mergeRequests, mergeable, requestRows, splitOutputs } from '../../../../src/models/batching/merge.js';
import { ModelInputError } from '../../../../src/models/codecs/errors.js';
import type { Tensor } from '../../../../src/models/codecs/tensor.js';
import type { ModelRequest } from '../../../../src/models/codecs/validate.js';
import { systemClock } from '../../../../src/shared/clock.js';

const limits = { maxBatchSize: 8, maxDelayMs: 10 };

describe('batch policy (pure)', () => {
  test('flushes when full or when the oldest request has waited maxDelayMs', () => {
    assert.deepEqual(flushDecision({ queuedRows: 0, oldestEnqueuedAt: undefined }, 100, limits), { flush: false, waitMs: Number.POSITIVE_INFINITY });
    assert.deepEqual(flushDecision({ queuedRows: 8, oldestEnqueuedAt: 100 }, 100, limits), { flush: true });
    assert.deepEqual(flushDecision({ queuedRows: 3, oldestEnqueuedAt: 100 }, 104, limits), { flush: false, waitMs: 6 });
    assert.deepEqual(flushDecision({ queuedRows: 3, oldestEnqueuedAt: 100 }, 110, limits), { flush: true });
    assert.deepEqual(flushDecision({ queuedRows: 3, oldestEnqueuedAt: 100 }, 100, { maxBatchSize: 8, maxDelayMs: 0 }), { flush: true });
  });

  test('a batch takes requests oldest first up to maxBatchSize rows, at least one', () => {
    assert.equal(nextBatchCount([3, 3, 3], 8), 2);
    assert.equal(nextBatchCount([3, 5, 1], 8), 2);
    assert.equal(nextBatchCount([20, 1], 8), 1);
    assert.equal(nextBatchCount([1, 1, 1], 8), 3);
    assert.equal(runsAlone(8, limits), true);
    assert.equal(runsAlone(7, limits), false);
  });
});

function rowsRequest(values: number[][], outputs = ['y']): ModelRequest {
  return { inputs: [{ name: 'x', datatype: 'FP32', shape: [values.length, 2], data: Float32Array.from(values.flat()) }], outputs };
}

/** A fake model: y = x0 + x1 per row; z = -y. Rows with x0 < 0 are rejected. */
function fakeModel(calls: ModelRequest[]) {
  return async (request: ModelRequest): Promise<Tensor[]> => {
    calls.push(request);
    const x = request.inputs[0]!;
    const n = x.shape[0]!;
    const d = x.data as Float32Array;
    for (let i = 0; i < n; i++) if (d[i * 2]! < 0) throw new ModelInputError(`row ${i} is negative`);
    const y = new Float32Array(n).map((_, i) => d[i * 2]! + d[i * 2 + 1]!);
    const all: Tensor[] = [
      { name: 'y', datatype: 'FP32', shape: [n], data: y },
      { name: 'z', datatype: 'FP32', shape: [n], data: y.map((v) => -v) },
    ];
    return request.outputs.map((name) => all.find((t) => t.name === name)!);
  };
}

describe('merging', () => {
  test('concatenates rows, unions outputs, splits back by row', () => {
    const a = rowsRequest([[1, 2]]);
    const b = rowsRequest([[3, 4], [5, 6]], ['z']);
    assert.equal(requestRows(b), 2);
    assert.ok(mergeable(a, b));
    const merged = mergeRequests([a, b]);
    assert.deepEqual(merged.inputs[0]!.shape, [3, 2]);
    assert.deepEqual([...(merged.inputs[0]!.data as Float32Array)], [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(merged.outputs, ['y', 'z']);
    const split = splitOutputs([a, b], [1, 2], [
      { name: 'y', datatype: 'FP32', shape: [3], data: Float32Array.from([3, 7, 11]) },
      { name: 'z', datatype: 'FP32', shape: [3], data: Float32Array.from([-3, -7, -11]) },
    ])!;
    assert.deepEqual(split.map((outs) => outs.map((t) => [t.name, [...(t.data as Float32Array)]])), [[['y', [3]]], [['z', [-7, -11]]]]);
    assert.equal(splitOutputs([a, b], [1, 2], [{ name: 'y', datatype: 'FP32', shape: [1], data: Float32Array.from([0]) }]), undefined);
    const other = { inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [1, 3], data: new Float32Array(3) }], outputs: ['y'] };
    assert.equal(mergeable(a, other), false);
  });
});

describe('Batcher', () => {
  test('concurrent requests become one engine call; each caller gets its own rows', async () => {
    const calls: ModelRequest[] = [];
    const batcher = new Batcher({ maxBatchSize: 64, maxDelayMs: 20 }, fakeModel(calls), systemClock);
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => batcher.submit(rowsRequest([[i, 100]]))));
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0]!.inputs[0]!.shape, [10, 2]);
    assert.deepEqual(answers.map((a) => a[0]!.data[0]), Array.from({ length: 10 }, (_, i) => i + 100));
  });

  test('a full batch runs at once; the rest waits for the next', async () => {
    const calls: ModelRequest[] = [];
    const batcher = new Batcher({ maxBatchSize: 4, maxDelayMs: 1000 }, fakeModel(calls), systemClock);
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => batcher.submit(rowsRequest([[i, 0]]))));
    assert.ok(Date.now() - started < 500, 'two full batches run without waiting for the delay');
    assert.deepEqual(calls.map((c) => c.inputs[0]!.shape[0]), [4, 4]);
    assert.deepEqual(answers.map((a) => a[0]!.data[0]), [0, 1, 2, 3, 4, 5, 6, 7]);
  });

  test('a request larger than maxBatchSize runs alone', async () => {
    const calls: ModelRequest[] = [];
    const batcher = new Batcher({ maxBatchSize: 2, maxDelayMs: 1000 }, fakeModel(calls), systemClock);
    const [out] = await batcher.submit(rowsRequest([[1, 1], [2, 2], [3, 3]]));
    assert.deepEqual([...(out!.data as Float32Array)], [2, 4, 6]);
    assert.equal(calls.length, 1);
  });

  test('a request the model rejects fails alone; the others are answered', async () => {
    const calls: ModelRequest[] = [];
    const batcher = new Batcher({ maxBatchSize: 64, maxDelayMs: 20 }, fakeModel(calls), systemClock);
    const results = await Promise.allSettled([
      batcher.submit(rowsRequest([[1, 1]])),
      batcher.submit(rowsRequest([[-1, 1]])),
      batcher.submit(rowsRequest([[2, 2]])),
    ]);
    assert.equal(results[0]!.status, 'fulfilled');
    assert.equal(results[2]!.status, 'fulfilled');
    assert.equal(results[1]!.status, 'rejected');
    assert.ok((results[1] as PromiseRejectedResult).reason instanceof ModelInputError);
    assert.deepEqual(calls.map((c) => c.inputs[0]!.shape[0]), [3, 1, 1, 1], 'one merged call, then one per member');
  });

  test('a platform failure (not a function error) is every member\'s answer, without retries', async () => {
    let calls = 0;
    const batcher = new Batcher({ maxBatchSize: 64, maxDelayMs: 5 }, async () => {
      calls++;
      throw new Error('throttled');
    }, systemClock);
    const results = await Promise.allSettled([batcher.submit(rowsRequest([[1, 1]])), batcher.submit(rowsRequest([[2, 2]]))]);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
    assert.equal(calls, 1);
    assert.ok(ModelInvocationError);
  });
});
