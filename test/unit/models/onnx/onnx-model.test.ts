import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { decodeCall } from '../../../../src/models/codecs/payload.js';
import { validateRequest } from '../../../../src/models/codecs/validate.js';
import { OnnxModel, loadOrt, readGraphInfo } from '../../../../src/models/onnx/index.js';
import { fromHalf, toHalf } from '../../../../src/models/onnx/half.js';
import { fixture } from '../../../support/platform.js';

const bytes = (name: string) => new Uint8Array(readFileSync(fixture('onnx', name)));

describe('OnnxModel', () => {
  test('signature from the model: names, datatypes, shapes (-1 for dynamic)', async () => {
    const model = await OnnxModel.load(bytes('multi_io.onnx'));
    const s = model.signature;
    assert.equal(s.platform, 'onnxruntime_onnx');
    assert.deepEqual(s.inputs, [
      { name: 'x', datatype: 'FP32', shape: [-1, 2] },
      { name: 'k', datatype: 'INT64', shape: [-1, 1] },
      { name: 'flag', datatype: 'BOOL', shape: [-1] },
      { name: 'word', datatype: 'BYTES', shape: [-1] },
    ]);
    assert.deepEqual(s.outputs.map((o) => `${o.name}:${o.datatype}`), ['sum:FP32', 'negated:BOOL', 'code:INT64']);
    assert.equal(s.batchable, true);
    const fixed = await OnnxModel.load(bytes('fixed_batch.onnx'));
    assert.equal(fixed.signature.batchable, false);
    await Promise.all([model.release(), fixed.release()]);
  });

  test('runs FP32, INT64, BOOL and BYTES tensors', async () => {
    const model = await OnnxModel.load(bytes('multi_io.onnx'));
    const request = validateRequest(model.signature, [
      { name: 'x', datatype: 'FP32', shape: [2, 2], data: [[1, 2], [3, 4]] },
      { name: 'k', datatype: 'INT64', shape: [2, 1], data: [10, 20] },
      { name: 'flag', datatype: 'BOOL', shape: [2], data: [true, false] },
      { name: 'word', datatype: 'BYTES', shape: [2], data: ['dog', 'bird'] },
    ], undefined);
    const [sum, negated, code] = await model.run(request);
    assert.deepEqual([...(sum!.data as Float32Array)], [11, 12, 23, 24]);
    assert.deepEqual(negated!.data, [false, true]);
    assert.deepEqual([...(code!.data as BigInt64Array)], [2n, -1n]);
    await model.release();
  });

  test('int64 outputs beyond 2^53 stay exact (BigInt)', async () => {
    const model = await OnnxModel.load(bytes('big_int.onnx'));
    const [big] = await model.run(validateRequest(model.signature, [{ name: 'k', datatype: 'INT64', shape: [2], data: [1, 2] }], undefined));
    assert.deepEqual([...(big!.data as BigInt64Array)], [9007199254740994n, 9007199254740995n]);
    await model.release();
  });

  test('two-class tree model: labels come from the probabilities where ONNX Runtime\'s label is wrong', async () => {
    const ort = loadOrt();
    const raw = await ort.InferenceSession.create(bytes('binary_tree_logistic.onnx'));
    const direct = await raw.run({ x: new ort.Tensor('float32', Float32Array.from([0, 0, 1, 0]), [2, 2]) });
    const probs = direct.probabilities!.data as Float32Array;
    assert.ok(probs[1]! > probs[0]!, 'row 0: class 1 is the more probable');
    assert.equal((direct.label!.data as BigInt64Array)[0], 0n, 'ONNX Runtime itself labels row 0 as class 0 (the bug this works around)');
    await raw.release();

    const model = await OnnxModel.load(bytes('binary_tree_logistic.onnx'));
    assert.match(model.signature.notes?.join(' ') ?? '', /labels of 'label' are taken from the highest score in 'probabilities'/);
    assert.equal(model.signature.predictOutput, 'label');
    assert.equal(model.signature.probaOutput, 'probabilities');
    assert.deepEqual(model.signature.classes, [0, 1]);
    const [label] = await model.run(validateRequest(model.signature, [{ name: 'x', datatype: 'FP32', shape: [2, 2], data: [0, 0, 1, 0] }], ['label']));
    assert.deepEqual([...(label!.data as BigInt64Array)], [1n, 1n]);
    await model.release();
  });

  test('the 100-tree iris forest as ONNX predicts what scikit-learn predicted', async () => {
    const expected = JSON.parse(readFileSync(fixture('sklearn', 'expected.json'), 'utf8')) as any;
    const bench = expected.cases.find((c: any) => c.model === 'bench_iris_rfc100');
    const X: number[][] = expected.inputs.iris;
    const model = await OnnxModel.load(bytes('iris_rfc100.onnx'));
    const call = decodeCall(model.signature, { inputs: [{ name: 'input', datatype: 'FP32', shape: [X.length, 4], data: X }] });
    const [label, probabilities] = await model.run(call.request);
    assert.deepEqual([...(label!.data as BigInt64Array)].map(Number), bench.inputs.iris.predict.flat());
    const p = probabilities!.data as Float32Array;
    const want: number[] = bench.inputs.iris.predict_proba.flat();
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(p[i]! - want[i]!) < 1e-6, `probability ${i}: ${p[i]} vs ${want[i]}`);
    await model.release();
  });

  test('refuses files that are not ONNX', async () => {
    await assert.rejects(OnnxModel.load(new Uint8Array([1, 2, 3, 4])), /not a readable ONNX model|cannot load/);
    await assert.rejects(OnnxModel.load(new Uint8Array(readFileSync(fixture('sklearn', 'models', 'iris_rfc.joblib'))).subarray(0, 200)), /ONNX/);
  });
});

describe('ONNX file reading', () => {
  test('graph info: producer, opsets, classifier nodes and their class labels', () => {
    const info = readGraphInfo(bytes('iris_rfc100.onnx'));
    assert.equal(info.producer, 'modelfn-sklearn-to-onnx');
    assert.equal(info.opsets['ai.onnx.ml'], 3);
    assert.deepEqual(info.outputs, ['label', 'probabilities']);
    assert.deepEqual(info.classifiers.map((c) => [c.opType, c.labelOutput, c.scoresOutput, c.classLabels]), [['TreeEnsembleClassifier', 'label', 'probabilities', [0, 1, 2]]]);
    assert.equal(readGraphInfo(bytes('binary_tree_logistic.onnx')).classifiers[0]!.postTransform, 'LOGISTIC');
  });

  test('half precision conversions', () => {
    for (const v of [0, 1, -2.5, 65504, 2 ** -14, 2 ** -24]) assert.equal(fromHalf(toHalf(v)), v);
    assert.equal(fromHalf(toHalf(1e6)), Infinity);
  });
});
