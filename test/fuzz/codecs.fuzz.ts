import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DATATYPES, elementProblem } from '../../src/models/codecs/datatypes.js';
import type { Datatype } from '../../src/models/codecs/datatypes.js';
import { encodeEnvelope } from '../../src/models/codecs/envelope.js';
import { ModelInputError } from '../../src/models/codecs/errors.js';
import { stringifyJson } from '../../src/models/codecs/json.js';
import { inferResponse, parseInferRequest } from '../../src/models/codecs/oip.js';
import { decodeBody, decodeCall, encodeReply, rowOutput } from '../../src/models/codecs/payload.js';
import type { ModelCall } from '../../src/models/codecs/payload.js';
import { outputRows } from '../../src/models/codecs/rows.js';
import type { ModelSignature, TensorSpec } from '../../src/models/codecs/signature.js';
import { allocValues } from '../../src/models/codecs/datatypes.js';
import type { Tensor } from '../../src/models/codecs/tensor.js';
import { elementCount } from '../../src/models/codecs/tensor.js';
import { parseV1Request, v1ColumnResponse } from '../../src/models/codecs/v1.js';
import type { ModelRequest } from '../../src/models/codecs/validate.js';
import { validateRequest } from '../../src/models/codecs/validate.js';
import type { FuzzOptions } from './harness.js';
import { deepJson, onlyThrows, runs } from './harness.js';

/**
 * Model request parsing (rows, KServe V1, Open Inference Protocol, the internal envelope, API
 * Gateway events around any of them) against random signatures: every input either becomes a
 * request that fits the model exactly or fails with ModelInputError (a 400 on every surface),
 * and whatever validated can be answered (rows, V1, OIP) without a throw.
 */

const isInputError = (err: unknown) => err instanceof ModelInputError;
const NAMES = ['input', 'x', 'k', 'flag', 'word', 'constructor', '__proto__'];

const tensorSpec = (names: readonly string[]): fc.Arbitrary<TensorSpec> =>
  fc.record({
    name: fc.constantFrom(...names),
    datatype: fc.constantFrom(...DATATYPES),
    shape: fc.array(fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 4 })), { minLength: 1, maxLength: 3 }),
  });

const signature: fc.Arbitrary<ModelSignature> = fc
  .record({
    format: fc.constantFrom('sklearn' as const, 'onnx' as const),
    inputs: fc.uniqueArray(tensorSpec(NAMES), { minLength: 1, maxLength: 3, selector: (s) => s.name }),
    outputs: fc.uniqueArray(tensorSpec(['predict', 'predict_proba', 'y', 'toString']), { minLength: 1, maxLength: 3, selector: (s) => s.name }),
    featureNames: fc.option(fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'd', 'hasOwnProperty'), { minLength: 1, maxLength: 4 }), { nil: undefined }),
  })
  .map(({ format, inputs, outputs, featureNames }) => ({
    format,
    platform: format === 'onnx' ? 'onnxruntime_onnx' : 'sklearn',
    description: 'fuzz',
    inputs,
    outputs,
    predictOutput: outputs[0]!.name,
    ...(outputs[1] ? { probaOutput: outputs[1].name } : {}),
    ...(featureNames ? { featureNames } : {}),
    batchable: [...inputs, ...outputs].every((s) => s.shape[0] === -1),
  }));

/** A value of one element: mostly right for some datatype, sometimes hostile. */
const element = fc.oneof(
  { weight: 6, arbitrary: fc.oneof(fc.integer({ min: -300, max: 300 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.string({ maxLength: 4 })) },
  { weight: 1, arbitrary: fc.constantFrom(null, 2 ** 63, -(2 ** 63), 2 ** 64, 1e308, -0, 4294967296, {}, [], [[1]], { toString: 1 }) },
);

/** JSON nested far deeper than any tensor: parsed fine, but too deep for JSON.stringify. */
const DEEP = JSON.parse(deepJson(20_000, 'array')) as unknown;
const DEEP_OBJECT = JSON.parse(deepJson(20_000, 'object')) as unknown;
const hostile = fc.constantFrom<unknown>(DEEP, DEEP_OBJECT, [DEEP], { a: DEEP }, 'x'.repeat(10_000));

function nested(shape: readonly number[], value: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  if (shape.length === 0) return value;
  const [n, ...rest] = shape;
  return fc.array(nested(rest, value), { minLength: n!, maxLength: n! });
}

/** A request that fits `spec` (concrete shape, valid elements), as JSON data. */
function fitting(spec: TensorSpec): fc.Arbitrary<{ shape: number[]; data: unknown }> {
  return fc
    .tuple(...spec.shape.map((d) => (d >= 0 ? fc.constant(d) : fc.integer({ min: 0, max: 3 }))))
    .chain((shape) => fc.tuple(fc.constant(shape), nested(shape, validElement(spec.datatype)), fc.boolean()))
    .map(([shape, data, flat]) => ({ shape, data: flat && Array.isArray(data) ? (data as unknown[]).flat(Infinity) : data }));
}

function validElement(datatype: Datatype): fc.Arbitrary<unknown> {
  if (datatype === 'BOOL') return fc.boolean();
  if (datatype === 'BYTES') return fc.string({ maxLength: 5 });
  if (datatype.startsWith('FP')) return fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 });
  if (datatype.startsWith('U')) return fc.integer({ min: 0, max: 255 });
  return fc.integer({ min: -128, max: 127 });
}

/** A body for a signature: valid OIP/V1/rows/envelope requests, mutated ones, and noise. */
function body(sig: ModelSignature): fc.Arbitrary<unknown> {
  const oipTensor = fc.oneof(
    fc.constantFrom(...sig.inputs).chain((spec) => fitting(spec).map(({ shape, data }) => ({ name: spec.name, shape, datatype: spec.datatype, data }))),
    fc.record(
      {
        name: fc.oneof(fc.constantFrom(...sig.inputs.map((s) => s.name)), fc.jsonValue({ maxDepth: 1 })),
        shape: fc.oneof(fc.array(fc.oneof(fc.integer({ min: -2, max: 5 }), fc.constantFrom(1e300, 2 ** 31, 2 ** 53, 1.5, '2', null)), { maxLength: 4 }), fc.jsonValue({ maxDepth: 1 })),
        datatype: fc.oneof(fc.constantFrom(...DATATYPES), fc.jsonValue({ maxDepth: 1 })),
        data: fc.oneof(fc.array(element, { maxLength: 8 }), fc.array(fc.array(element, { maxLength: 4 }), { maxLength: 4 }), element, hostile),
      },
      { requiredKeys: ['name', 'data'] },
    ),
  );
  const outputsField = fc.oneof(
    fc.array(fc.oneof(fc.constantFrom(...sig.outputs.map((o) => ({ name: o.name }))), fc.constantFrom(...sig.outputs.map((o) => o.name)), fc.jsonValue({ maxDepth: 1 })), { maxLength: 3 }),
    fc.jsonValue({ maxDepth: 1 }),
  );
  const row = fc.oneof(
    sig.inputs.length === 1 ? fitting({ ...sig.inputs[0]!, shape: [1, ...sig.inputs[0]!.shape.slice(1)] }).map(({ data }) => (Array.isArray(data) ? data[0] : data)) : fc.constant([1, 2]),
    fc.dictionary(fc.constantFrom(...sig.inputs.map((s) => s.name), ...(sig.featureNames ?? []), 'zz', '__proto__'), element, { maxKeys: 4 }),
    fc.array(element, { maxLength: 6 }),
    element,
    hostile,
  );
  const rows = fc.array(row, { maxLength: 4 });
  // Valid requests in each format (then, sometimes, one element or key changed).
  const oipValid = fc.tuple(...sig.inputs.map((spec) => fitting(spec).map(({ shape, data }) => ({ name: spec.name, shape, datatype: spec.datatype, data })))).map((inputs) => ({ inputs }));
  const one = sig.inputs[0]!;
  const rowsValid = fc.integer({ min: 1, max: 3 }).chain((n) => fitting({ ...one, shape: [n, ...one.shape.slice(1)] }).map(({ data }) => data));
  const valid = fc.oneof(oipValid, rowsValid, rowsValid.map((instances) => ({ instances })), oipValid.map((r) => ({ modelfn: 'modelfn.infer/1', ...r })));
  const mutated = fc.tuple(valid, fc.jsonValue({ maxDepth: 1 }), fc.nat()).map(([v, junk, at]) => mutate(v, junk, at));
  return fc.oneof(
    { weight: 4, arbitrary: valid },
    { weight: 2, arbitrary: mutated },
    rows,
    fc.record({ inputs: fc.array(oipTensor, { maxLength: 3 }), outputs: outputsField, id: fc.oneof(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 1 })) }, { requiredKeys: ['inputs'] }),
    fc.record({ instances: fc.oneof(rows, element), proba: fc.oneof(fc.boolean(), element) }, { requiredKeys: ['instances'] }),
    fc.record({ inputs: fc.oneof(fc.dictionary(fc.constantFrom(...sig.inputs.map((s) => s.name), 'zz'), fc.oneof(fc.array(element, { maxLength: 6 }), element, hostile), { maxKeys: 3 }), fc.array(element, { maxLength: 6 }), hostile) }),
    fc.record({ modelfn: fc.constant('modelfn.infer/1'), inputs: fc.oneof(fc.array(fc.oneof(oipTensor, element), { maxLength: 3 }), element), outputs: outputsField }, { requiredKeys: ['modelfn'] }),
    fc.jsonValue({ maxDepth: 3 }),
    hostile,
  );
}

/** Replace one leaf of a JSON value (counted depth-first) with junk. */
function mutate(value: unknown, junk: unknown, at: number): unknown {
  let n = 0;
  const count = (v: unknown): void => {
    n++;
    if (typeof v === 'object' && v !== null) for (const c of Object.values(v)) count(c);
  };
  count(value);
  let target = at % n;
  const walk = (v: unknown): unknown => {
    if (target-- === 0) return junk;
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, c]) => [k, walk(c)]));
    return v;
  };
  return walk(value);
}

/** An API Gateway event around a body (text, base64, broken), as a route delivers it. */
function apiGatewayEvent(inner: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.record({
    requestContext: fc.constant({}),
    rawPath: fc.constant('/m'),
    body: fc.oneof(
      inner.map((b) => { try { return JSON.stringify(b); } catch { return '['; } }),
      inner.map((b) => { try { return Buffer.from(JSON.stringify(b)).toString('base64'); } catch { return '!!'; } }),
      fc.constantFrom(null, '', '{"inputs":', 5, '\u0000'),
    ),
    isBase64Encoded: fc.boolean(),
    queryStringParameters: fc.oneof(fc.constant(null), fc.dictionary(fc.constantFrom('proba', 'x'), fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('1', 'TRUE', 'yes')))),
  });
}

/** A validated request fits the signature exactly. */
function assertFits(sig: ModelSignature, request: ModelRequest): void {
  assert.equal(request.inputs.length, sig.inputs.length);
  for (const [i, t] of request.inputs.entries()) {
    const spec = sig.inputs[i]!;
    assert.equal(t.name, spec.name);
    assert.equal(t.datatype, spec.datatype);
    assert.equal(t.shape.length, spec.shape.length);
    for (const [d, want] of spec.shape.entries()) if (want >= 0) assert.equal(t.shape[d], want);
    assert.equal(t.data.length, elementCount(t.shape), `input ${t.name}: data length must be the product of the shape`);
    for (const v of Array.from(t.data as ArrayLike<unknown>)) if (typeof v !== 'bigint') assert.equal(elementProblem(spec.datatype, typeof v === 'number' && spec.datatype === 'FP32' ? Math.fround(v) : v), undefined);
  }
  for (const o of request.outputs) assert.ok(sig.outputs.some((s) => s.name === o));
  // The envelope the instance gets is valid JSON and decodes to the same request there.
  const envelope = JSON.parse(encodeEnvelope(request).toString('utf8')) as unknown;
  decodeBody(sig, envelope, false, false);
}

/** What a model would answer: each requested output with the request's rows. */
function outputsFor(sig: ModelSignature, request: ModelRequest): Tensor[] {
  const rows = request.inputs[0]?.shape[0] ?? 1;
  return request.outputs.map((name) => {
    const spec = sig.outputs.find((s) => s.name === name)!;
    const shape = spec.shape.map((d, i) => (i === 0 && d < 0 ? rows : d < 0 ? 1 : d));
    return { name, datatype: spec.datatype, shape, data: allocValues(spec.datatype, elementCount(shape)) };
  });
}

function answer(sig: ModelSignature, call: ModelCall): void {
  const outputs = outputsFor(sig, call.request);
  if (call.reply.kind !== 'envelope') JSON.parse(encodeReply(call, outputs, { modelName: 'm', modelVersion: '1' }));
}

export async function fuzzCodecs(options: FuzzOptions): Promise<void> {
  // 1. Any event a model function can receive: a fitting request or ModelInputError.
  let accepted = 0;
  fc.assert(
    fc.property(signature.chain((sig) => fc.tuple(fc.constant(sig), fc.oneof(body(sig), apiGatewayEvent(body(sig))))), ([sig, event]) => {
      const call = onlyThrows(() => decodeCall(sig, event), isInputError, 'decodeCall');
      if (!call) return;
      accepted++;
      assertFits(sig, call.request);
      onlyThrows(() => answer(sig, call), isInputError, 'encodeReply');
    }),
    {
      ...runs(options),
      // Regressions: envelope inputs that are not objects, outputs that is not a list, values too deep to print.
      examples: [
        [[IRIS, { modelfn: 'modelfn.infer/1', inputs: [null] }]],
        [[IRIS, { modelfn: 'modelfn.infer/1', inputs: [{ name: 'input', data: [1, 2, 3, 4], shape: [1, 4] }], outputs: 5 }]],
        [[IRIS, [[DEEP, 1, 2, 3]]]],
        [[IRIS, { inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP64', data: [DEEP, 1, 2, 3] }] }]],
        [[IRIS, { instances: [[1, 2, 3, DEEP_OBJECT]] }]],
        // A dimension of 1e300 next to a 0 holds no element, yet no model can answer it.
        [[DYNAMIC, { inputs: [{ name: 'x', shape: [1e300, 0], datatype: 'FP32', data: [] }] }]],
        // Finite in JSON, Infinity once stored as float32.
        [[DYNAMIC, { inputs: [{ name: 'x', shape: [1, 1], datatype: 'FP32', data: [-3.4028235677973366e38] }] }]],
      ],
    },
  );

  // The generators must reach the success path too, or the properties above say little.
  assert.ok(accepted >= options.numRuns / 20, `only ${accepted} of ${options.numRuns} generated requests were valid`);
  console.log(`codecs: ${accepted} of ${options.numRuns} generated events were valid requests`);

  // 2. The OIP and V1 surfaces' own path: parse, validate, answer.
  fc.assert(
    fc.property(signature.chain((sig) => fc.tuple(fc.constant(sig), body(sig), fc.boolean())), ([sig, b, proba]) => {
      onlyThrows(
        () => {
          const oip = parseInferRequest(b);
          const request = validateRequest(sig, oip.inputs, oip.outputs);
          assertFits(sig, request);
          stringifyJson(inferResponse('m', '1', oip.id, outputsFor(sig, request)));
        },
        isInputError,
        'OIP infer',
      );
      if (typeof b !== 'object' || b === null || Array.isArray(b)) return;
      onlyThrows(
        () => {
          const v1 = parseV1Request(sig, b as Record<string, unknown>);
          const request = validateRequest(sig, v1.inputs, [rowOutput(sig, proba)]);
          assertFits(sig, request);
          const outputs = outputsFor(sig, request);
          stringifyJson(v1.kind === 'instances' ? { predictions: outputRows(outputs[0]!) } : v1ColumnResponse(outputs, v1.named));
        },
        isInputError,
        'V1 predict',
      );
    }),
    runs(options),
  );
}

const IRIS: ModelSignature = {
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

const DYNAMIC: ModelSignature = {
  format: 'onnx',
  platform: 'onnxruntime_onnx',
  description: 'dynamic',
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, -1] }],
  outputs: [{ name: 'y', datatype: 'FP32', shape: [-1] }],
  predictOutput: 'y',
  batchable: true,
};
