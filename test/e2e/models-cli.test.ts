// `modelfn deploy model.joblib|model.onnx`: the CLI zips the model, deploys it with the model
// runtime, and prints curl lines that work as printed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fromPackageRoot } from '../../src/shared/paths.js';
import type { RunningPlatform } from '../support/platform.js';
import { cli, fixture, startPlatform } from '../support/platform.js';
import { need, requirements } from '../support/requirements.js';
import { call } from './models-support.js';

let platform: RunningPlatform;

before(async () => {
  platform = await startPlatform();
});

after(async () => {
  await platform?.cleanup();
});

/** The command printed under a label ("  label:\n    command"). */
function printed(stdout: string, label: string): string {
  const lines = stdout.split('\n');
  const at = lines.findIndex((l) => l.trim() === `${label}:`);
  assert.ok(at >= 0, `no "${label}" in:\n${stdout}`);
  return lines[at + 1]!.trim();
}

function sh(command: string): { status: number | null; stdout: string } {
  const r = spawnSync('sh', ['-c', command], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout };
}

describe('modelfn deploy <model file>', () => {
  test('a .joblib model: endpoints and curl lines that work', async (t) => {
    const r = await cli(platform.url, ['deploy', fromPackageRoot('examples', 'iris-joblib', 'model.joblib'), '--name', 'iris', '--route', 'POST /iris']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^deployed model iris \(sklearn, 256 MB, code [0-9a-f]{12}\)/);
    assert.match(r.stdout, /inputs: {2}input FP64 \[-1, 4\]/);
    assert.match(r.stdout, /outputs: predict INT64 \[-1\], predict_proba FP64 \[-1, 3\]/);
    const route = printed(r.stdout, 'route POST /iris');
    assert.match(route, /^curl -s -X POST '.*\/iris' -H 'content-type: application\/json' -d '\[\[1,1\.5,2,2\.5\]\]'$/);
    const oip = printed(r.stdout, 'Open Inference Protocol');
    assert.match(oip, /\/v2\/models\/iris\/infer/);
    assert.match(r.stdout, /invoke: modelfn invoke iris --data '\[\[1,1\.5,2,2\.5\]\]'/);
    if (!need(t, requirements.curl)) return;
    const routeAnswer = sh(route);
    assert.equal(routeAnswer.status, 0);
    assert.equal(JSON.parse(routeAnswer.stdout).length, 1);
    const oipAnswer = JSON.parse(sh(oip).stdout);
    assert.equal(oipAnswer.model_name, 'iris');
    assert.deepEqual(oipAnswer.outputs.map((o: any) => o.name), ['predict', 'predict_proba']);
    const v1Answer = JSON.parse(sh(printed(r.stdout, 'KServe V1')).stdout);
    assert.equal(v1Answer.predictions.length, 1);
  });

  test('an .onnx model with --batch: the batching is set and the curl lines work', async (t) => {
    const r = await cli(platform.url, ['deploy', fixture('onnx', 'multi_io.onnx'), '--batch', '16,3']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^deployed model multi_io \(onnxruntime_onnx,/);
    assert.match(r.stdout, /batching: 16 rows \/ 3 ms/);
    const stats = await call(platform.url, '/v2/models/multi_io/stats');
    assert.equal(stats.status, 200);
    if (!need(t, requirements.curl)) return;
    const answer = JSON.parse(sh(printed(r.stdout, 'Open Inference Protocol')).stdout);
    assert.deepEqual(answer.outputs.map((o: any) => o.name), ['sum', 'negated', 'code']);
    const v1 = JSON.parse(sh(printed(r.stdout, 'KServe V1')).stdout);
    assert.deepEqual(v1.predictions, [[2, 2.5]]);
  });

  test('the printed invoke line works', async () => {
    const r = await cli(platform.url, ['deploy', fromPackageRoot('examples', 'iris-onnx', 'model.onnx'), '--name', 'iris-onnx']);
    assert.equal(r.code, 0, r.stderr);
    const data = /--data '(.*)'$/m.exec(r.stdout)![1]!;
    const inv = await cli(platform.url, ['invoke', 'iris-onnx', '--data', data]);
    assert.equal(inv.code, 0, inv.stderr);
    assert.equal(JSON.parse(inv.stdout).length, 1);
  });

  test('an unsupported estimator is refused with its class named', async () => {
    const r = await cli(platform.url, ['deploy', fixture('sklearn', 'hostile', 'svc.joblib')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /svc\.joblib cannot be served: unsupported estimator sklearn\.svm\._classes\.SVC/);
  });

  test('--batch is for model files only; a malformed --batch is refused', async () => {
    const folder = await cli(platform.url, ['deploy', fixture('functions', 'echo'), '--batch', '8,2']);
    assert.notEqual(folder.code, 0);
    assert.match(folder.stderr, /--batch applies to model files/);
    const bad = await cli(platform.url, ['deploy', fixture('onnx', 'linear.onnx'), '--batch', 'many']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--batch "many" must look like "maxBatchSize,maxDelayMs"/);
    const range = await cli(platform.url, ['deploy', fixture('onnx', 'linear.onnx'), '--batch', '0,2']);
    assert.notEqual(range.code, 0);
    assert.match(range.stderr, /batching\.maxBatchSize: must be between 1 and 4096 rows/);
  });
});
