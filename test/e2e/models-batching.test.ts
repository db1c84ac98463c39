// Dynamic batching end to end: concurrent requests to one model become one engine call
// (observable in Triton-style statistics and in the REPORT lines), each caller gets its own
// rows back, and a bad request fails alone.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RunningPlatform } from '../support/platform.js';
import { fixture, startPlatform } from '../support/platform.js';
import { call, mustDeployModel } from './models-support.js';

let platform: RunningPlatform;
let url: string;

/** The linear test model: y = x . [1, 2, 3] + 0.5 */
const linear = (x: number[]) => x[0]! + 2 * x[1]! + 3 * x[2]! + 0.5;
const infer = (model: string, rows: number[][], extra: Record<string, unknown> = {}) =>
  call(url, `/v2/models/${model}/infer`, { inputs: [{ name: 'x', shape: [rows.length, 3], datatype: 'FP32', data: rows }], ...extra });

async function stats(model: string): Promise<{ inference_count: number; execution_count: number; batch_stats: Array<{ batch_size: number; compute_infer: { count: number } }> }> {
  const r = await call(url, `/v2/models/${model}/stats`);
  assert.equal(r.status, 200, r.text);
  return r.json.model_stats[0] ?? { inference_count: 0, execution_count: 0, batch_stats: [] };
}

before(async () => {
  platform = await startPlatform();
  url = platform.url;
  const batching = { maxBatchSize: 64, maxDelayMs: 250 };
  await mustDeployModel(url, 'lin', fixture('onnx', 'linear.onnx'), { batching, routes: [{ method: 'POST', path: '/lin' }] });
  await mustDeployModel(url, 'lin-plain', fixture('onnx', 'linear.onnx'));
  await mustDeployModel(url, 'lookup', fixture('onnx', 'lookup.onnx'), { batching });
  await mustDeployModel(url, 'iris', fixture('sklearn', 'models', 'iris_rfc.joblib'), { batching: { maxBatchSize: 1000, maxDelayMs: 250 } });
  await mustDeployModel(url, 'fixed', fixture('onnx', 'fixed_batch.onnx'), { batching });
  // Warm each once so the measured calls are not stretched by a cold start.
  for (const m of ['lin', 'lin-plain']) assert.equal((await infer(m, [[0, 0, 0]])).status, 200);
  assert.equal((await call(url, '/v2/models/lookup/infer', { inputs: [{ name: 'index', shape: [1], datatype: 'INT64', data: [0] }] })).status, 200);
});

after(async () => {
  await platform?.cleanup();
});

describe('dynamic batching', () => {
  test('concurrent requests are merged into one engine call and split back to the right caller', async () => {
    const before = await stats('lin');
    const rows = Array.from({ length: 24 }, (_, i) => [[i, i % 3, 1]]);
    const answers = await Promise.all(rows.map((r, i) => infer('lin', r, { id: `r${i}` })));
    for (const [i, a] of answers.entries()) {
      assert.equal(a.status, 200, a.text);
      assert.equal(a.json.id, `r${i}`);
      assert.deepEqual(a.json.outputs[0].shape, [1, 1]);
      assert.equal(a.json.outputs[0].data[0], linear(rows[i]![0]!));
    }
    const after = await stats('lin');
    const requests = after.inference_count - before.inference_count;
    const calls = after.execution_count - before.execution_count;
    assert.equal(requests, 24);
    assert.ok(calls < requests / 2, `24 concurrent requests took ${calls} engine calls`);
    assert.ok(after.batch_stats.some((b) => b.batch_size > 1), 'some engine call held more than one row');
  });

  test('requests with several rows keep their rows together', async () => {
    const a = [[1, 1, 1], [2, 2, 2], [3, 3, 3]];
    const b = [[10, 0, 0]];
    const [ra, rb] = await Promise.all([infer('lin', a), infer('lin', b)]);
    assert.deepEqual(ra!.json.outputs[0].data, a.map(linear));
    assert.deepEqual(ra!.json.outputs[0].shape, [3, 1]);
    assert.deepEqual(rb!.json.outputs[0].data, b.map(linear));
  });

  test('a request with bad input fails alone; the others in its batch are answered', async () => {
    const good = Array.from({ length: 6 }, (_, i) => infer('lin', [[i, 0, 0]]));
    const badShape = infer('lin', [[1, 2]] as number[][]);
    const badType = call(url, '/v2/models/lin/infer', { inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [1, 'x', 3] }] });
    const [shape, type, ...ok] = await Promise.all([badShape, badType, ...good]);
    assert.equal(shape!.status, 400);
    assert.match(shape!.json.error, /input 'x'/);
    assert.equal(type!.status, 400);
    for (const [i, r] of ok.entries()) {
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.outputs[0].data[0], linear([i, 0, 0]));
    }
  });

  test('a value the model itself rejects (out-of-range index) fails alone after its batch fails', async () => {
    const indexes = [0, 1, 7, 2, 3];
    const answers = await Promise.all(indexes.map((i) => call(url, '/v2/models/lookup/infer', { inputs: [{ name: 'index', shape: [1], datatype: 'INT64', data: [i] }] })));
    for (const [k, i] of indexes.entries()) {
      if (i === 7) {
        assert.equal(answers[k]!.status, 400, answers[k]!.text);
        assert.match(answers[k]!.json.error, /the model rejected the input/);
      } else {
        assert.equal(answers[k]!.status, 200, answers[k]!.text);
        assert.deepEqual(answers[k]!.json.outputs[0].data, [(i + 1) * 10]);
      }
    }
  });

  test('route requests in the seed format are batched too', async () => {
    const before = await stats('lin');
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => call(url, '/lin', [[i, 0, 0]])));
    answers.forEach((a, i) => assert.deepEqual(a.json, [linear([i, 0, 0])]));
    const after = await stats('lin');
    assert.equal(after.inference_count - before.inference_count, 10);
    assert.ok(after.execution_count - before.execution_count < 10);
  });

  test('scikit-learn models batch as well (labels split back per caller)', async () => {
    const X = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.7, 2.8, 4.1, 1.3]];
    const answers = await Promise.all(X.map((x) => call(url, '/v1/models/iris:predict', { instances: [x] })));
    assert.deepEqual(answers.map((a) => a.json.predictions[0]), [0, 2, 1]);
    const s = await stats('iris');
    assert.equal(s.inference_count, 3);
    assert.ok(s.execution_count < 3, `${s.execution_count} engine calls`);
  });

  test('without batching (the default) every request is its own engine call', async () => {
    const before = await stats('lin-plain');
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => infer('lin-plain', [[i, 1, 1]])));
    answers.forEach((a, i) => assert.equal(a.json.outputs[0].data[0], linear([i, 1, 1])));
    const after = await stats('lin-plain');
    assert.equal(after.inference_count - before.inference_count, 8);
    assert.equal(after.execution_count - before.execution_count, 8);
  });

  test('a model with a fixed batch dimension is never merged, even with batching on', async () => {
    const answers = await Promise.all([1, 2, 3].map((v) => call(url, '/v2/models/fixed/infer', { inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [v, v, v] }] })));
    answers.forEach((a, i) => assert.deepEqual(a.json.outputs[0].data, [2 * (i + 1), 2 * (i + 1), 2 * (i + 1)]));
    const s = await stats('fixed');
    assert.equal(s.inference_count, 3);
    assert.equal(s.execution_count, 3);
  });

  test('one REPORT line per engine call', async () => {
    const s = await stats('lin');
    const res = await fetch(`${url}/_modelfn/v1/functions/lin/logs?limit=10000`);
    const reports = (await res.text()).match(/REPORT RequestId/g) ?? [];
    assert.equal(reports.length, s.execution_count);
  });
});
