// Zero-code model functions end to end: every request format on every surface, validation
// errors in each protocol's own format, metadata and health, deploy-time refusal, cleanup.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fromPackageRoot } from '../../src/shared/paths.js';
import type { RunningPlatform } from '../support/platform.js';
import { eventually, fixture, invoke, mustDeploy, startPlatform } from '../support/platform.js';
import { call, deployModel, modelHostPids, mustDeployModel } from './models-support.js';

const IRIS_EXAMPLE = fromPackageRoot('examples', 'iris-joblib', 'model.joblib');
const expected = JSON.parse(readFileSync(fixture('sklearn', 'expected.json'), 'utf8')) as any;
const X: number[][] = expected.inputs.iris;
const irisCase = expected.cases.find((c: any) => c.file === 'models/iris_rfc.joblib');

let platform: RunningPlatform;
let url: string;

before(async () => {
  platform = await startPlatform();
  url = platform.url;
  await mustDeployModel(url, 'iris', IRIS_EXAMPLE, { routes: [{ method: 'POST', path: '/iris' }, { method: 'POST', path: '/iris-v1', payloadFormat: '1.0' }] });
  await mustDeployModel(url, 'irisfix', fixture('sklearn', 'models', 'iris_rfc.joblib'));
  await mustDeployModel(url, 'multi', fixture('onnx', 'multi_io.onnx'), { routes: [{ method: 'POST', path: '/multi' }] });
  await mustDeployModel(url, 'big', fixture('onnx', 'big_int.onnx'));
  await mustDeployModel(url, 'twoclass', fixture('onnx', 'binary_tree_logistic.onnx'));
  await mustDeploy(url, 'echo', fixture('functions', 'echo'));
});

after(async () => {
  await platform?.cleanup();
});

describe('request formats', () => {
  test('the seed\'s JSON array of rows on a route -> a JSON array of predictions (payload 2.0 and 1.0)', async () => {
    const rows = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]];
    const v2 = await call(url, '/iris', rows);
    assert.equal(v2.status, 200, v2.text);
    assert.match(v2.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(v2.json, [0, 2]);
    const v1 = await call(url, '/iris-v1', rows);
    assert.deepEqual(v1.json, [0, 2]);
  });

  test('?proba=1 on a route returns predict_proba rows', async () => {
    const r = await call(url, '/iris?proba=1', [[5.1, 3.5, 1.4, 0.2]]);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.length, 1);
    assert.equal(r.json[0].length, 3);
    assert.ok(Math.abs(r.json[0].reduce((a: number, b: number) => a + b, 0) - 1) < 1e-9);
  });

  test('Lambda Invoke: the rows array itself, {"instances"}, and an OIP object', async () => {
    const rows = await invoke(url, 'iris', [[5.1, 3.5, 1.4, 0.2]]);
    assert.equal(rows.status, 200);
    assert.deepEqual(rows.json(), [0]);
    const v1 = await invoke(url, 'iris', { instances: [[6.7, 3.0, 5.2, 2.3]] });
    assert.deepEqual(v1.json(), { predictions: [2] });
    const oip = await invoke(url, 'iris', { id: 'inv-1', inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP64', data: [6.7, 3.0, 5.2, 2.3] }], outputs: [{ name: 'predict' }] });
    assert.deepEqual((oip.json() as any).outputs, [{ name: 'predict', datatype: 'INT64', shape: [1], data: [2] }]);
    assert.equal((oip.json() as any).id, 'inv-1');
  });

  test('OIP infer: nested and flat data give the same answer; the id is echoed', async () => {
    const nested = await call(url, '/v2/models/iris/infer', { id: 'req-7', inputs: [{ name: 'input', shape: [2, 4], datatype: 'FP64', data: [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]] }] });
    const flat = await call(url, '/v2/models/iris/infer', { inputs: [{ name: 'input', shape: [2, 4], datatype: 'FP64', data: [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3] }] });
    assert.equal(nested.status, 200, nested.text);
    assert.equal(nested.json.id, 'req-7');
    assert.equal(flat.json.id, undefined);
    assert.equal(nested.json.model_name, 'iris');
    assert.equal(nested.json.model_version, '$LATEST');
    assert.deepEqual(nested.json.outputs, flat.json.outputs);
    assert.deepEqual(nested.json.outputs.map((o: any) => [o.name, o.datatype, o.shape]), [['predict', 'INT64', [2]], ['predict_proba', 'FP64', [2, 3]]]);
    assert.deepEqual(nested.json.outputs[0].data, [0, 2]);
  });

  test('OIP outputs selection: only predict_proba', async () => {
    const r = await call(url, '/v2/models/iris/versions/$LATEST/infer', { inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [5.1, 3.5, 1.4, 0.2] }], outputs: [{ name: 'predict_proba' }] });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.outputs.map((o: any) => o.name), ['predict_proba']);
  });

  test('KServe V1: instances, columns, ?proba=1, model status', async () => {
    const inst = await call(url, '/v1/models/iris:predict', { instances: [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]] });
    assert.deepEqual(inst.json, { predictions: [0, 2] });
    const cols = await call(url, '/v1/models/iris:predict', { inputs: [[6.7, 3.0, 5.2, 2.3]] });
    assert.deepEqual(cols.json, { outputs: [2] });
    const proba = await call(url, '/v1/models/iris:predict?proba=1', { instances: [[5.1, 3.5, 1.4, 0.2]] });
    assert.equal(proba.json.predictions[0].length, 3);
    const status = await call(url, '/v1/models/iris');
    assert.equal(status.json.name, 'iris');
    assert.equal(status.json.ready, true);
    const named = await call(url, '/v1/models/multi:predict', { instances: [{ x: [1, 2], k: [3], flag: true, word: 'cat' }] });
    assert.deepEqual(named.json, { predictions: [[4, 5]] });
  });

  test('ONNX datatypes through OIP: FP32, INT64, BOOL and BYTES in and out', async () => {
    const r = await call(url, '/v2/models/multi/infer', {
      inputs: [
        { name: 'x', shape: [2, 2], datatype: 'FP32', data: [[0.5, 1], [2, 3]] },
        { name: 'k', shape: [2, 1], datatype: 'INT64', data: [[1], [2]] },
        { name: 'flag', shape: [2], datatype: 'BOOL', data: [true, false] },
        { name: 'word', shape: [2], datatype: 'BYTES', data: ['dog', 'cow'] },
      ],
    });
    assert.equal(r.status, 200, r.text);
    const byName = Object.fromEntries(r.json.outputs.map((o: any) => [o.name, o]));
    assert.deepEqual(byName.sum, { name: 'sum', datatype: 'FP32', shape: [2, 2], data: [1.5, 2, 4, 5] });
    assert.deepEqual(byName.negated, { name: 'negated', datatype: 'BOOL', shape: [2], data: [false, true] });
    assert.deepEqual(byName.code, { name: 'code', datatype: 'INT64', shape: [2], data: [2, -1] });
  });

  test('int64 outputs beyond 2^53 are serialised exactly', async () => {
    const r = await call(url, '/v2/models/big/infer', { inputs: [{ name: 'k', shape: [2], datatype: 'INT64', data: [1, 2] }] });
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /"data":\[9007199254740994,9007199254740995\]/);
    const rows = await call(url, '/v1/models/big:predict', { instances: [1] });
    assert.equal(rows.text, '{"predictions":[9007199254740994]}');
  });

  test('two-class tree model: the label follows the probabilities (ONNX Runtime\'s own label is wrong here)', async () => {
    const r = await call(url, '/v2/models/twoclass/infer', { inputs: [{ name: 'x', shape: [2, 2], datatype: 'FP32', data: [0, 0, 1, 0] }] });
    assert.equal(r.status, 200, r.text);
    const [label, probabilities] = r.json.outputs;
    assert.deepEqual(label.data, [1, 1]);
    assert.ok(probabilities.data[1] > probabilities.data[0]);
    const seed = await call(url, '/v1/models/twoclass:predict', { instances: [[0, 0]] });
    assert.deepEqual(seed.json, { predictions: [1] });
  });

  test('the iris model from the sklearn fixtures predicts what scikit-learn predicted', async () => {
    const r = await call(url, '/v2/models/irisfix/infer', { inputs: [{ name: 'input', shape: [X.length, 4], datatype: 'FP64', data: X }] });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.outputs[0].data, irisCase.inputs.iris.predict.flat());
    const proba: number[] = r.json.outputs[1].data;
    const want: number[] = irisCase.inputs.iris.predict_proba.flat();
    assert.equal(proba.length, want.length);
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(proba[i]! - want[i]!) < 1e-12, `proba ${i}`);
    const rows = await invoke(url, 'irisfix', X);
    assert.deepEqual(rows.json(), irisCase.inputs.iris.predict.flat());
  });
});

describe('validation errors, each in its protocol\'s format', () => {
  test('wrong shape -> 400 naming the input and the expected shape', async () => {
    const r = await call(url, '/v2/models/iris/infer', { inputs: [{ name: 'input', shape: [1, 3], datatype: 'FP64', data: [1, 2, 3] }] });
    assert.equal(r.status, 400);
    assert.deepEqual(Object.keys(r.json), ['error']);
    assert.match(r.json.error, /input 'input': shape \[1, 3\] does not match FP64 \[-1, 4\]/);
    const route = await call(url, '/iris', [[1, 2, 3]]);
    assert.equal(route.status, 400);
    assert.match(route.json.error, /row 0 has 3 values; the model takes 4/);
    const v1 = await call(url, '/v1/models/iris:predict', { instances: [[1, 2, 3]] });
    assert.equal(v1.status, 400);
    assert.match(v1.json.error, /row 0 has 3 values/);
  });

  test('wrong type -> 400 naming the input and the expected datatype', async () => {
    const base = [
      { name: 'k', shape: [1, 1], datatype: 'INT64', data: [1] },
      { name: 'flag', shape: [1], datatype: 'BOOL', data: [true] },
      { name: 'word', shape: [1], datatype: 'BYTES', data: ['cat'] },
    ];
    const dt = await call(url, '/v2/models/multi/infer', { inputs: [{ name: 'x', shape: [1, 2], datatype: 'INT32', data: [1, 2] }, ...base] });
    assert.equal(dt.status, 400);
    assert.match(dt.json.error, /input 'x': datatype INT32 does not match the model's FP32/);
    const value = await call(url, '/v2/models/multi/infer', { inputs: [{ name: 'x', shape: [1, 2], datatype: 'FP32', data: [1, 'two'] }, ...base] });
    assert.equal(value.status, 400);
    assert.match(value.json.error, /input 'x': element 1 is "two", expected a finite number/);
  });

  test('missing input and unknown output -> 400', async () => {
    const missing = await call(url, '/v2/models/multi/infer', { inputs: [{ name: 'x', shape: [1, 2], datatype: 'FP32', data: [1, 2] }] });
    assert.equal(missing.status, 400);
    assert.match(missing.json.error, /missing input 'k' \(expected INT64 \[-1, 1\]\)/);
    const output = await call(url, '/v2/models/iris/infer', { inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP64', data: [1, 2, 3, 4] }], outputs: [{ name: 'scores' }] });
    assert.equal(output.status, 400);
    assert.match(output.json.error, /unknown output 'scores'/);
  });

  test('unknown model -> 404 {"error"} on OIP and V1; a code function is not a model', async () => {
    for (const path of ['/v2/models/nope/infer', '/v1/models/nope:predict']) {
      const r = await call(url, path, { inputs: [] });
      assert.equal(r.status, 404, path);
      assert.match(r.json.error, /nope/);
    }
    assert.equal((await call(url, '/v2/models/nope')).status, 404);
    assert.equal((await call(url, '/v2/models/nope/ready')).status, 404);
    assert.equal((await call(url, '/v2/models/iris/versions/9/ready')).status, 404);
    const code = await call(url, '/v2/models/echo');
    assert.equal(code.status, 404);
    assert.match(code.json.error, /not a model function/);
  });

  test('malformed JSON -> 400 on OIP, V1 and routes', async () => {
    for (const path of ['/v2/models/iris/infer', '/v1/models/iris:predict', '/iris']) {
      const r = await call(url, path, '{"inputs": [');
      assert.equal(r.status, 400, path);
      assert.match(r.json.error, /JSON/, path);
    }
  });

  test('non-numeric rows: 400 on a route, a ModelInputError function error on Invoke', async () => {
    const route = await call(url, '/iris', [[5.1, 'wide', 1.4, 0.2]]);
    assert.equal(route.status, 400);
    assert.match(route.json.error, /row 0, column 1: "wide" is not a finite number/);
    const inv = await invoke(url, 'iris', [[5.1, 'wide', 1.4, 0.2]]);
    assert.equal(inv.status, 200);
    assert.equal(inv.headers.get('x-amz-function-error'), 'Unhandled');
    assert.equal((inv.json() as any).errorType, 'ModelInputError');
  });

  test('the wrong method -> 405 with Allow', async () => {
    const r = await fetch(`${url}/v2/models/iris/infer`, { method: 'GET' });
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'POST');
    assert.ok(((await r.json()) as any).error);
  });
});

/**
 * The response schemas of kserve/kserve docs/predict-api/v2/rest_predict_v2.yaml, transcribed:
 * required properties and JSON types (tensor data: nested arrays of number/string/boolean).
 */
const SPEC: Record<string, { required: string[]; types: Record<string, string> }> = {
  metadata_server_response: { required: ['name', 'version', 'extensions'], types: { name: 'string', version: 'string', extensions: 'string[]' } },
  metadata_model_response: { required: ['name', 'platform'], types: { name: 'string', versions: 'string[]', platform: 'string', inputs: 'metadata_tensor[]', outputs: 'metadata_tensor[]' } },
  metadata_tensor: { required: ['name', 'datatype', 'shape'], types: { name: 'string', datatype: 'string', shape: 'integer[]' } },
  inference_response: { required: ['model_name', 'outputs'], types: { model_name: 'string', model_version: 'string', id: 'string', parameters: 'object', outputs: 'response_output[]' } },
  response_output: { required: ['name', 'shape', 'datatype', 'data'], types: { name: 'string', shape: 'integer[]', datatype: 'string', parameters: 'object', data: 'tensor_data' } },
  inference_error_response: { required: [], types: { error: 'string' } },
};

function conforms(schema: string, value: any, path = schema): void {
  const spec = SPEC[schema]!;
  assert.equal(typeof value, 'object', path);
  for (const key of spec.required) assert.ok(key in value, `${path}: required "${key}" missing`);
  for (const [key, type] of Object.entries(spec.types)) {
    if (!(key in value)) continue;
    const v = value[key];
    const where = `${path}.${key}`;
    if (type === 'string') assert.equal(typeof v, 'string', where);
    else if (type === 'object') assert.ok(typeof v === 'object' && !Array.isArray(v), where);
    else if (type === 'string[]') assert.ok(Array.isArray(v) && v.every((x: unknown) => typeof x === 'string'), where);
    else if (type === 'integer[]') assert.ok(Array.isArray(v) && v.every((x: unknown) => Number.isInteger(x)), where);
    else if (type === 'tensor_data') {
      const ok = (x: unknown): boolean => (Array.isArray(x) ? x.every(ok) : ['number', 'string', 'boolean'].includes(typeof x));
      assert.ok(Array.isArray(v) && ok(v), where);
    } else if (type.endsWith('[]')) {
      assert.ok(Array.isArray(v), where);
      v.forEach((x: unknown, i: number) => conforms(type.slice(0, -2), x, `${where}[${i}]`));
    }
  }
}

describe('responses conform to rest_predict_v2.yaml', () => {
  test('server metadata, model metadata, inference response, error response', async () => {
    conforms('metadata_server_response', (await call(url, '/v2')).json);
    conforms('metadata_model_response', (await call(url, '/v2/models/multi')).json);
    const infer = await call(url, '/v2/models/iris/infer', { id: 'x', inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP64', data: [1, 2, 3, 4] }] });
    conforms('inference_response', infer.json);
    const error = await call(url, '/v2/models/iris/infer', { inputs: [{ name: 'input', shape: [1], datatype: 'FP64', data: [1] }] });
    assert.equal(error.status, 400);
    conforms('inference_error_response', error.json);
    assert.deepEqual(Object.keys(error.json), ['error']);
  });
});

describe('metadata and health', () => {
  test('server metadata, live and ready', async () => {
    const meta = await call(url, '/v2');
    assert.equal(meta.status, 200);
    assert.equal(meta.json.name, 'modelfn');
    assert.equal(typeof meta.json.version, 'string');
    assert.ok(Array.isArray(meta.json.extensions));
    for (const path of ['/v2/health/live', '/v2/health/ready', '/v2/models/iris/ready', '/v2/models/iris/versions/$LATEST/ready']) {
      const r = await call(url, path);
      assert.equal(r.status, 200, path);
      assert.equal(r.text, '', path);
    }
  });

  test('model metadata from the model itself', async () => {
    const iris = await call(url, '/v2/models/iris');
    assert.deepEqual(iris.json, {
      name: 'iris',
      versions: [],
      platform: 'sklearn',
      inputs: [{ name: 'input', datatype: 'FP64', shape: [-1, 4] }],
      outputs: [{ name: 'predict', datatype: 'INT64', shape: [-1] }, { name: 'predict_proba', datatype: 'FP64', shape: [-1, 3] }],
    });
    const multi = await call(url, '/v2/models/multi');
    assert.equal(multi.json.platform, 'onnxruntime_onnx');
    assert.deepEqual(multi.json.inputs.map((i: any) => i.datatype), ['FP32', 'INT64', 'BOOL', 'BYTES']);
  });
});

describe('deploy and lifecycle', () => {
  test('an unsupported estimator is refused at deploy time with its class named', async () => {
    const r = await deployModel(url, 'svc', fixture('sklearn', 'hostile', 'svc.joblib'));
    assert.equal(r.status, 400);
    const body = (await r.json()) as any;
    assert.equal(body.code, 'INVALID_BUNDLE');
    assert.match(body.message, /unsupported estimator sklearn\.svm\._classes\.SVC/);
    assert.equal((await call(url, '/v2/models/svc')).status, 404);
  });

  test('a file that is not a model, and batching on a code function, are refused', async () => {
    const junk = await deployModel(url, 'junk', fixture('functions', 'echo', 'index.js'), { handler: 'model.onnx' });
    assert.equal(junk.status, 400);
    assert.match(((await junk.json()) as any).message, /model\.onnx cannot be served/);
    const wrongExt = await deployModel(url, 'junk', fixture('functions', 'echo', 'index.js'), { handler: 'index.js' });
    assert.equal(wrongExt.status, 400);
    assert.match(((await wrongExt.json()) as any).message, /not a model file/);
  });

  test('model load time is reported: Init Duration and the MODEL line in the logs', async () => {
    const logs = await eventually(async () => {
      const res = await fetch(`${url}/_modelfn/v1/functions/iris/logs`);
      const text = await res.text();
      return /Init Duration: [\d.]+ ms/.test(text) && /MODEL model\.joblib \(sklearn\.ensemble\._forest\.RandomForestClassifier\) loaded in [\d.]+ ms/.test(text) ? text : undefined;
    }, 10_000, 'the iris logs');
    assert.ok(logs);
  });

  test('model hosts run with ONNX Runtime telemetry off and no home; stopping the platform stops them all', async () => {
    const pid = platform.proc.pid!;
    const hosts = await modelHostPids(pid);
    assert.ok(hosts.length > 0, 'hosts are running before the stop');
    const environ = readFileSync(`/proc/${hosts[0]}/environ`, 'utf8').split('\0');
    assert.ok(environ.includes('ORT_DISABLE_TELEMETRY=1'));
    assert.ok(environ.includes('HOME=/nonexistent'));
    assert.ok(!environ.some((e) => e.startsWith('MODELFN_')), 'nothing of the platform\'s environment leaks in');
    await platform.stop();
    assert.deepEqual(await modelHostPids(pid), []);
  });
});
