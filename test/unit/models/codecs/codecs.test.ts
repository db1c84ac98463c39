import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeCall, encodeReply } from '../../../../src/models/codecs/payload.js';
import { decodeResult, encodeEnvelope, encodeResult } from '../../../../src/models/codecs/envelope.js';
import { ModelInputError } from '../../../../src/models/codecs/errors.js';
import { stringifyJson } from '../../../../src/models/codecs/json.js';
import type { ModelSignature } from '../../../../src/models/codecs/signature.js';
import { exampleInferRequest, exampleRows } from '../../../../src/models/codecs/signature.js';
import { validateRequest } from '../../../../src/models/codecs/validate.js';
import { callExamples, shellQuote } from '../../../../src/models/codecs/examples.js';

const iris: ModelSignature = {
  format: 'sklearn',
  platform: 'sklearn',
  description: 'RandomForestClassifier',
  inputs: [{ name: 'input', datatype: 'FP64', shape: [-1, 4] }],
  outputs: [
    { name: 'predict', datatype: 'INT64', shape: [-1] },
    { name: 'predict_proba', datatype: 'FP64', shape: [-1, 3] },
  ],
  predictOutput: 'predict',
  probaOutput: 'predict_proba',
  classes: [0, 1, 2],
  batchable: true,
};

const multi: ModelSignature = {
  format: 'onnx',
  platform: 'onnxruntime_onnx',
  description: 'multi',
  inputs: [
    { name: 'x', datatype: 'FP32', shape: [-1, 2] },
    { name: 'k', datatype: 'INT64', shape: [-1, 1] },
    { name: 'flag', datatype: 'BOOL', shape: [-1] },
    { name: 'word', datatype: 'BYTES', shape: [-1] },
  ],
  outputs: [{ name: 'sum', datatype: 'FP32', shape: [-1, 2] }],
  predictOutput: 'sum',
  batchable: true,
};

function inputError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof ModelInputError && pattern.test(err.message), `expected ModelInputError matching ${pattern}`);
}

describe('validateRequest', () => {
  test('accepts nested and flat data and converts to the model datatype', () => {
    const nested = validateRequest(iris, [{ name: 'input', datatype: 'FP64', shape: [2, 4], data: [[1, 2, 3, 4], [5, 6, 7, 8]] }], undefined);
    const flat = validateRequest(iris, [{ name: 'input', datatype: 'FP64', shape: [2, 4], data: [1, 2, 3, 4, 5, 6, 7, 8] }], undefined);
    assert.deepEqual([...(nested.inputs[0]!.data as Float64Array)], [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(nested.inputs[0]!.data, flat.inputs[0]!.data);
    assert.ok(nested.inputs[0]!.data instanceof Float64Array);
    assert.deepEqual(nested.outputs, ['predict', 'predict_proba']);
  });

  test('scikit-learn models take any numeric datatype; ONNX models insist on theirs', () => {
    const r = validateRequest(iris, [{ name: 'input', datatype: 'INT32', shape: [1, 4], data: [1, 2, 3, 4] }], undefined);
    assert.ok(r.inputs[0]!.data instanceof Float64Array);
    inputError(() => validateRequest(multi, [
      { name: 'x', datatype: 'FP64', shape: [1, 2], data: [1, 2] },
      { name: 'k', datatype: 'INT64', shape: [1, 1], data: [1] },
      { name: 'flag', datatype: 'BOOL', shape: [1], data: [true] },
      { name: 'word', datatype: 'BYTES', shape: [1], data: ['a'] },
    ], undefined), /input 'x': datatype FP64 does not match the model's FP32 \(expected FP32 \[-1, 2\]\)/);
  });

  test('wrong shape names the input and the expected shape', () => {
    inputError(() => validateRequest(iris, [{ name: 'input', datatype: 'FP64', shape: [1, 3], data: [1, 2, 3] }], undefined), /input 'input': shape \[1, 3\] does not match FP64 \[-1, 4\] \(dimension 1 must be 4\)/);
    inputError(() => validateRequest(iris, [{ name: 'input', datatype: 'FP64', shape: [4], data: [1, 2, 3, 4] }], undefined), /input 'input': shape \[4\] has 1 dimension; expected FP64 \[-1, 4\]/);
    inputError(() => validateRequest(iris, [{ name: 'input', datatype: 'FP64', shape: [2, 4], data: [1, 2, 3, 4] }], undefined), /needs 8 elements but "data" has 4/);
    inputError(() => validateRequest(iris, [{ name: 'input', datatype: 'FP64', shape: [2, 4], data: [[1, 2, 3, 4], [5, 6, 7]] }], undefined), /data\[1\] should hold 4 elements/);
  });

  test('wrong element type, missing input, unexpected input, unknown output', () => {
    inputError(() => validateRequest(iris, [{ name: 'input', datatype: 'FP64', shape: [1, 4], data: [1, 'a', 3, 4] }], undefined), /input 'input': element 1 is "a", expected a finite number/);
    inputError(() => validateRequest(multi, [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }], undefined), /missing input 'k' \(expected INT64 \[-1, 1\]\)/);
    inputError(() => validateRequest(iris, [{ name: 'inp', datatype: 'FP64', shape: [1, 4], data: [1, 2, 3, 4] }], undefined), /unexpected input 'inp'; the model's inputs are: 'input' FP64 \[-1, 4\]/);
    inputError(() => validateRequest(iris, [{ name: 'input', datatype: 'FP64', shape: [1, 4], data: [1, 2, 3, 4] }], [{ name: 'nope' }]), /unknown output 'nope'; the model's outputs are: predict, predict_proba/);
    inputError(() => validateRequest(iris, [{ name: 'input', datatype: 'XX', shape: [1, 4], data: [1, 2, 3, 4] }], undefined), /unknown datatype "XX"/);
  });

  test('integer, boolean and string elements are checked against their datatype', () => {
    const base = [
      { name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] },
      { name: 'flag', datatype: 'BOOL', shape: [1], data: [true] },
      { name: 'word', datatype: 'BYTES', shape: [1], data: ['a'] },
    ];
    inputError(() => validateRequest(multi, [...base, { name: 'k', datatype: 'INT64', shape: [1, 1], data: [1.5] }], undefined), /element 0 is 1.5, expected an integer/);
    inputError(() => validateRequest(multi, [base[0]!, base[2]!, { name: 'k', datatype: 'INT64', shape: [1, 1], data: [1] }, { name: 'flag', datatype: 'BOOL', shape: [1], data: [1] }], undefined), /input 'flag': element 0 is 1, expected a boolean/);
    const ok = validateRequest(multi, [...base, { name: 'k', datatype: 'INT64', shape: [1, 1], data: [7] }], ['sum']);
    assert.ok(ok.inputs[1]!.data instanceof BigInt64Array);
    assert.deepEqual(ok.inputs.map((t) => t.name), ['x', 'k', 'flag', 'word']);
  });
});

describe('decodeCall: every request format', () => {
  test('seed rows -> predictions; proba on API Gateway events', () => {
    const rows = decodeCall(iris, [[5.1, 3.5, 1.4, 0.2]]);
    assert.equal(rows.reply.kind, 'rows');
    assert.deepEqual(rows.request.outputs, ['predict']);
    const event = { version: '2.0', rawPath: '/iris', requestContext: { http: {} }, queryStringParameters: { proba: '1' }, body: '[[1,2,3,4]]', isBase64Encoded: false };
    const http = decodeCall(iris, event);
    assert.equal(http.http, true);
    assert.deepEqual(http.request.outputs, ['predict_proba']);
    const b64 = decodeCall(iris, { ...event, queryStringParameters: undefined, body: Buffer.from('[[1,2,3,4]]').toString('base64'), isBase64Encoded: true });
    assert.deepEqual(b64.request.outputs, ['predict']);
  });

  test('non-numeric rows, short rows and malformed bodies are input errors', () => {
    inputError(() => decodeCall(iris, [[1, 2, 'x', 4]]), /row 0, column 2: "x" is not a finite number/);
    inputError(() => decodeCall(iris, [[1, 2, 3]]), /row 0 has 3 values; the model takes 4/);
    inputError(() => decodeCall(iris, []), /holds no rows/);
    inputError(() => decodeCall(iris, 'hello'), /send a JSON array of rows/);
    inputError(() => decodeCall(iris, { version: '2.0', rawPath: '/', requestContext: {}, body: '[[1,2' }), /not valid JSON/);
    inputError(() => decodeCall(iris, { hello: 1 }), /unrecognised request/);
  });

  test('OIP, V1 instances and V1 columns', () => {
    const oip = decodeCall(iris, { id: 'r1', inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP64', data: [1, 2, 3, 4] }], outputs: [{ name: 'predict_proba' }] });
    assert.deepEqual(oip.reply, { kind: 'oip', id: 'r1' });
    assert.deepEqual(oip.request.outputs, ['predict_proba']);
    const v1 = decodeCall(iris, { instances: [[1, 2, 3, 4]], proba: true });
    assert.deepEqual(v1.reply, { kind: 'v1-instances', output: 'predict_proba' });
    const cols = decodeCall(iris, { inputs: [[1, 2, 3, 4], [5, 6, 7, 8]] });
    assert.equal(cols.reply.kind, 'v1-inputs');
    assert.deepEqual(cols.request.inputs[0]!.shape, [2, 4]);
    const named = decodeCall(multi, { instances: [{ x: [1, 2], k: [3], flag: false, word: 'dog' }] });
    assert.deepEqual(named.request.inputs.map((t) => t.shape), [[1, 2], [1, 1], [1], [1]]);
    inputError(() => decodeCall(multi, [[1, 2]]), /each row must be an object keyed by input name/);
  });

  test('feature-named rows for models fitted on named columns', () => {
    const named = { ...iris, featureNames: ['a', 'b', 'c', 'd'] };
    const call = decodeCall(named, [{ a: 1, b: 2, c: 3, d: 4 }]);
    assert.deepEqual([...(call.request.inputs[0]!.data as Float64Array)], [1, 2, 3, 4]);
    inputError(() => decodeCall(named, [{ a: 1, b: 2, c: 3 }]), /row 0 has no value for feature 'd'/);
  });

  test('replies: rows, OIP (id echoed), API Gateway wrapping', () => {
    const outputs = [
      { name: 'predict', datatype: 'INT64' as const, shape: [2], data: BigInt64Array.from([0n, 2n]) },
      { name: 'predict_proba', datatype: 'FP64' as const, shape: [2, 3], data: Float64Array.from([1, 0, 0, 0, 0.1, 0.9]) },
    ];
    const meta = { modelName: 'iris', modelVersion: '1' };
    assert.equal(encodeReply(decodeCall(iris, [[1, 2, 3, 4], [1, 2, 3, 4]]), outputs, meta), '[0,2]');
    const proba = decodeCall(iris, { instances: [[1, 2, 3, 4], [1, 2, 3, 4]], proba: true });
    assert.equal(encodeReply(proba, outputs, meta), '{"predictions":[[1,0,0],[0,0.1,0.9]]}');
    const oip = JSON.parse(encodeReply(decodeCall(iris, { id: '42', inputs: [{ name: 'input', shape: [2, 4], datatype: 'FP64', data: [1, 2, 3, 4, 1, 2, 3, 4] }] }), outputs, meta)) as any;
    assert.equal(oip.id, '42');
    assert.equal(oip.model_name, 'iris');
    assert.deepEqual(oip.outputs[0], { name: 'predict', datatype: 'INT64', shape: [2], data: [0, 2] });
    const http = JSON.parse(encodeReply(decodeCall(iris, { version: '2.0', rawPath: '/', requestContext: {}, body: '[[1,2,3,4]]' }), outputs, meta)) as any;
    assert.equal(http.statusCode, 200);
    assert.equal(http.body, '[0,2]');
  });
});

describe('JSON and the internal envelope', () => {
  test('int64 beyond 2^53 is written exactly', () => {
    assert.equal(stringifyJson({ a: BigInt64Array.from([9007199254740993n, -5n]), b: 12n }), '{"a":[9007199254740993,-5],"b":12}');
    assert.equal(stringifyJson([Float32Array.from([0.5]), NaN, undefined, 'x']), '[[0.5],null,null,"x"]');
  });

  test('results keep unsafe int64 exact through the envelope', () => {
    const text = encodeResult([{ name: 'big', datatype: 'INT64', shape: [1], data: BigInt64Array.from([9007199254740995n]) }]);
    const [big] = decodeResult(Buffer.from(text));
    assert.deepEqual([...(big!.data as BigInt64Array)], [9007199254740995n]);
  });

  test('the envelope round-trips a validated request', () => {
    const request = validateRequest(iris, [{ name: 'input', datatype: 'FP64', shape: [1, 4], data: [1, 2, 3, 4] }], ['predict']);
    const again = decodeCall(iris, JSON.parse(encodeEnvelope(request).toString('utf8')));
    assert.equal(again.reply.kind, 'envelope');
    assert.deepEqual(again.request, request);
  });
});

describe('examples from a signature', () => {
  test('rows and OIP requests that validate, and shell-quoted curl lines', () => {
    assert.deepEqual(exampleRows(iris), [[1, 1.5, 2, 2.5]]);
    const req = exampleInferRequest(multi);
    assert.doesNotThrow(() => validateRequest(multi, req.inputs, undefined));
    assert.doesNotThrow(() => decodeCall(multi, exampleRows(multi)));
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
    const lines = callExamples('http://h:1/', 'iris', iris, [{ method: 'POST', path: '/iris' }]);
    assert.deepEqual(lines.map((l) => l.label), ['route POST /iris', 'Open Inference Protocol', 'KServe V1']);
    assert.match(lines[0]!.command, /^curl -s -X POST 'http:\/\/h:1\/iris' -H 'content-type: application\/json' -d '\[\[1,1\.5,2,2\.5\]\]'$/);
  });
});
