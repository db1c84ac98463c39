import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { SklearnInputError, SklearnLoadError } from '../../src/models/sklearn/errors.js';
import { buildEstimator } from '../../src/models/sklearn/estimators/registry.js';
import { readPickledObject } from '../../src/models/sklearn/joblib.js';
import { DEFAULT_LIMITS } from '../../src/models/sklearn/limits.js';
import type { LoadLimits } from '../../src/models/sklearn/limits.js';
import { Op } from '../../src/models/sklearn/pickle/opcodes.js';
import { fromPackageRoot } from '../../src/shared/paths.js';
import type { FuzzOptions } from './harness.js';
import { mutatedBytes, onlyThrows, runs, withinMs } from './harness.js';

/**
 * The safe pickle reader, structure-aware (test/unit/models/sklearn/hostile.test.ts flips bytes
 * of real files): opcode sequences with well-formed and hostile arguments, spliced into real model
 * files or standing alone. Below loadSklearnModel's catch-all: reading, building the estimator
 * and predicting may fail only with SklearnLoadError / SklearnInputError, never another error
 * (which the loader would hide as CORRUPT), and never take long.
 */

const allowed = (e: unknown) => e instanceof SklearnLoadError || e instanceof SklearnInputError;
const LIMITS: LoadLimits = { ...DEFAULT_LIMITS, maxDecompressedBytes: 64 << 20, maxArrayBytes: 64 << 20 };

const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n >>> 0); return b; };
const u64 = (n: bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(n); return b; };
const line = (s: string) => Buffer.from(`${s}\n`, 'latin1');

const GLOBALS = [
  ['numpy.core.multiarray', '_reconstruct'], ['numpy', 'ndarray'], ['numpy', 'dtype'], ['numpy.core.multiarray', 'scalar'],
  ['_codecs', 'encode'], ['builtins', 'set'], ['collections', 'OrderedDict'], ['joblib.numpy_pickle', 'NumpyArrayWrapper'],
  ['sklearn.tree._classes', 'DecisionTreeClassifier'], ['sklearn.tree._tree', 'Tree'], ['sklearn.ensemble._forest', 'RandomForestClassifier'],
  ['sklearn.linear_model._logistic', 'LogisticRegression'], ['sklearn.pipeline', 'Pipeline'], ['sklearn.preprocessing._data', 'StandardScaler'],
  ['numpy.random._pickle', '__randomstate_ctor'], ['os', 'system'], ['builtins', 'eval'], ['sklearn.utils', 'helper'], ['', ''], ['a\u00ff', 'b c'],
];

/** Small numbers mostly, edges sometimes: lengths and memo keys that point past the end. */
const size = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 12 }) }, { weight: 1, arbitrary: fc.constantFrom(255, 65535, 0x7fffffff, 0xffffffff) });
const smallText = fc.string({ maxLength: 8 });

/** One opcode with its argument, well-formed or not. */
const opcode: fc.Arbitrary<Buffer> = fc.oneof(
  // no argument
  fc.constantFrom(Op.MARK, Op.POP, Op.POP_MARK, Op.DUP, Op.NONE, Op.REDUCE, Op.APPEND, Op.BUILD, Op.DICT, Op.EMPTY_DICT, Op.APPENDS, Op.LIST, Op.EMPTY_LIST, Op.SETITEM, Op.TUPLE, Op.EMPTY_TUPLE, Op.SETITEMS, Op.NEWOBJ, Op.TUPLE1, Op.TUPLE2, Op.TUPLE3, Op.NEWTRUE, Op.NEWFALSE, Op.EMPTY_SET, Op.ADDITEMS, Op.FROZENSET, Op.NEWOBJ_EX, Op.STACK_GLOBAL, Op.MEMOIZE, Op.READONLY_BUFFER, Op.PERSID, Op.BINPERSID, Op.OBJ, Op.NEXT_BUFFER, 0x00, 0xff).map((op) => Buffer.from([op])),
  // fixed-size arguments
  fc.tuple(fc.constantFrom(Op.BININT1, Op.BINGET, Op.BINPUT, Op.PROTO, Op.EXT1), fc.integer({ min: 0, max: 255 })).map(([op, a]) => Buffer.from([op, a])),
  fc.tuple(fc.constantFrom(Op.BININT2, Op.EXT2), fc.integer({ min: 0, max: 65535 })).map(([op, a]) => Buffer.from([op, a & 0xff, a >> 8])),
  fc.tuple(fc.constantFrom(Op.BININT, Op.LONG_BINGET, Op.LONG_BINPUT, Op.EXT4), size).map(([op, a]) => Buffer.concat([Buffer.from([op]), u32(a)])),
  fc.double().map((d) => { const b = Buffer.alloc(9); b[0] = Op.BINFLOAT; b.writeDoubleBE(d, 1); return b; }),
  // length-prefixed payloads, the length sometimes a lie
  fc.tuple(fc.constantFrom(Op.SHORT_BINSTRING, Op.SHORT_BINBYTES, Op.SHORT_BINUNICODE, Op.LONG1), fc.uint8Array({ maxLength: 12 }), fc.option(fc.integer({ min: 0, max: 255 }))).map(([op, data, lie]) => Buffer.concat([Buffer.from([op, lie ?? data.length]), Buffer.from(data)])),
  fc.tuple(fc.constantFrom(Op.BINSTRING, Op.BINUNICODE, Op.BINBYTES, Op.LONG4), fc.uint8Array({ maxLength: 16 }), fc.option(size)).map(([op, data, lie]) => Buffer.concat([Buffer.from([op]), u32(lie ?? data.length), Buffer.from(data)])),
  fc.tuple(fc.constantFrom(Op.BINUNICODE8, Op.BINBYTES8, Op.BYTEARRAY8, Op.FRAME), fc.uint8Array({ maxLength: 16 }), fc.option(fc.constantFrom(2n ** 63n, 2n ** 64n - 1n, 2n ** 53n + 1n, 0x100000000n))).map(([op, data, lie]) => Buffer.concat([Buffer.from([op]), u64(lie ?? BigInt(data.length)), Buffer.from(data)])),
  // text-line arguments
  fc.tuple(fc.constantFrom(Op.INT, Op.LONG, Op.FLOAT, Op.GET, Op.PUT), fc.oneof(fc.integer().map(String), fc.constantFrom('00', '01', '1L', '-', 'nan', 'inf', '1e999', '9'.repeat(5000), ''), smallText)).map(([op, text]) => Buffer.concat([Buffer.from([op]), line(text)])),
  fc.tuple(fc.constantFrom(Op.STRING, Op.UNICODE), fc.oneof(smallText.map((s) => `'${s}'`), smallText, fc.constantFrom("'", '"abc', "'\\x'", '\\u12'))).map(([op, text]) => Buffer.concat([Buffer.from([op]), line(text)])),
  fc.constantFrom(...GLOBALS).map(([m, n]) => Buffer.concat([Buffer.from([Op.GLOBAL]), line(m!), line(n!)])),
  fc.constantFrom(...GLOBALS).map(([m, n]) => Buffer.concat([Buffer.from([Op.SHORT_BINUNICODE, Buffer.byteLength(m!)]), Buffer.from(m!), Buffer.from([Op.SHORT_BINUNICODE, Buffer.byteLength(n!)]), Buffer.from(n!), Buffer.from([Op.STACK_GLOBAL])])),
  fc.constantFrom(...GLOBALS).map(([m, n]) => Buffer.concat([Buffer.from([Op.INST]), line(m!), line(n!)])),
);

const stream = fc.tuple(fc.integer({ min: 0, max: 6 }), fc.array(opcode, { maxLength: 40 }), fc.boolean()).map(([proto, ops, stop]) =>
  new Uint8Array(Buffer.concat([Buffer.from([Op.PROTO, proto]), ...ops, stop ? Buffer.from([Op.STOP]) : Buffer.alloc(0)])),
);

/**
 * Well-formed pickles of random Python values shaped like scikit-learn state: objects of allowed
 * (and forbidden) classes built with NEWOBJ + BUILD, numpy arrays through _reconstruct with real
 * dtypes and shapes that may disagree with their bytes, nested lists, tuples, dicts. These get past
 * the reader into the estimator builders, which must refuse what does not fit.
 */
type Py =
  | { t: 'none' | 'true' | 'false' }
  | { t: 'int' | 'float'; v: number }
  | { t: 'str'; v: string }
  | { t: 'bytes'; v: Uint8Array }
  | { t: 'list' | 'tuple'; items: Py[] }
  | { t: 'dict'; entries: Array<[Py, Py]> }
  | { t: 'array'; dtype: string; shape: number[]; data: Uint8Array }
  | { t: 'obj'; module: string; name: string; state: Array<[string, Py]> };

const ATTRIBUTES = ['n_features_in_', 'classes_', 'n_classes_', 'n_outputs_', 'coef_', 'intercept_', 'estimators_', 'tree_', 'steps', 'mean_', 'scale_', 'var_', 'min_', 'max_', 'feature_names_in_', 'init_', 'learning_rate', 'loss', 'n_estimators', 'max_depth', 'node_count', 'nodes', 'values', 'multi_class', 'strategy', 'constant', 'class_prior_', 'estimator', '_sklearn_version', 'constructor', '__proto__'];
const CLASSES = GLOBALS.filter(([m]) => m!.startsWith('sklearn') || m === 'os' || m === 'builtins');

const py: fc.Arbitrary<Py> = fc.letrec<{ value: Py }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom<Py>({ t: 'none' }, { t: 'true' }, { t: 'false' }),
    fc.oneof(fc.integer({ min: -5, max: 300 }), fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 2 ** 40)).map((v): Py => ({ t: 'int', v })),
    fc.double().map((v): Py => ({ t: 'float', v })),
    fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('gini', 'log_loss', 'multinomial', 'ovr', 'passthrough', 'drop', '1.3.0')).map((v): Py => ({ t: 'str', v })),
    fc.uint8Array({ maxLength: 16 }).map((v): Py => ({ t: 'bytes', v })),
    fc.record({ dtype: fc.constantFrom('f8', 'f4', 'i8', 'i4', 'u1', 'b1', 'O', 'U3', 'S2', 'f2', 'c16', 'V8', 'x'), shape: fc.array(fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constantFrom(-1, 2 ** 31, 2 ** 53)), { maxLength: 3 }), data: fc.uint8Array({ maxLength: 64 }) }).map((a): Py => ({ t: 'array', ...a })),
    fc.array(tie('value'), { maxLength: 4 }).map((items): Py => ({ t: 'list', items })),
    fc.array(tie('value'), { maxLength: 4 }).map((items): Py => ({ t: 'tuple', items })),
    fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 3 }).map((entries): Py => ({ t: 'dict', entries })),
    fc.tuple(fc.constantFrom(...CLASSES), fc.array(fc.tuple(fc.constantFrom(...ATTRIBUTES), tie('value')), { maxLength: 8 })).map(([[module, name], state]): Py => ({ t: 'obj', module: module!, name: name!, state })),
  ),
})).value;

function encodePy(v: Py, out: Buffer[]): void {
  const op = (...bytes: number[]): void => void out.push(Buffer.from(bytes));
  const str = (s: string) => { const b = Buffer.from(s, 'utf8'); out.push(Buffer.from([Op.BINUNICODE]), u32(b.length), b); };
  const glob = (m: string, n: string) => out.push(Buffer.from([Op.GLOBAL]), line(m), line(n));
  switch (v.t) {
    case 'none': return op(Op.NONE);
    case 'true': return op(Op.NEWTRUE);
    case 'false': return op(Op.NEWFALSE);
    case 'int': { const b = Buffer.alloc(4); if (Number.isInteger(v.v) && v.v >= -(2 ** 31) && v.v < 2 ** 31) { b.writeInt32LE(v.v); out.push(Buffer.from([Op.BININT]), b); } else out.push(Buffer.from([Op.INT]), line(String(v.v))); return; }
    case 'float': { const b = Buffer.alloc(8); b.writeDoubleBE(v.v); out.push(Buffer.from([Op.BINFLOAT]), b); return; }
    case 'str': return str(v.v);
    case 'bytes': out.push(Buffer.from([Op.BINBYTES]), u32(v.v.length), Buffer.from(v.v)); return;
    case 'list': op(Op.EMPTY_LIST, Op.MARK); for (const i of v.items) encodePy(i, out); return op(Op.APPENDS);
    case 'tuple': op(Op.MARK); for (const i of v.items) encodePy(i, out); return op(Op.TUPLE);
    case 'dict': op(Op.EMPTY_DICT, Op.MARK); for (const [k, x] of v.entries) { encodePy(k, out); encodePy(x, out); } return op(Op.SETITEMS);
    case 'array':
      // numpy.core.multiarray._reconstruct(ndarray, (0,), b'b'), then BUILD (1, shape, dtype, fortran, raw)
      glob('numpy.core.multiarray', '_reconstruct'); glob('numpy', 'ndarray'); op(Op.BININT1, 0, Op.TUPLE1, Op.SHORT_BINBYTES, 1, 0x62, Op.TUPLE3, Op.REDUCE);
      op(Op.MARK, Op.BININT1, 1, Op.MARK); for (const d of v.shape) encodePy({ t: 'int', v: d }, out); op(Op.TUPLE);
      glob('numpy', 'dtype'); str(v.dtype); op(Op.NEWFALSE, Op.NEWTRUE, Op.TUPLE3, Op.REDUCE);
      op(Op.MARK, Op.BININT1, 3); str('<'); op(Op.NONE, Op.NONE, Op.NONE); encodePy({ t: 'int', v: -1 }, out); encodePy({ t: 'int', v: -1 }, out); op(Op.BININT1, 0, Op.TUPLE, Op.BUILD);
      op(Op.NEWFALSE); out.push(Buffer.from([Op.BINBYTES]), u32(v.data.length), Buffer.from(v.data)); op(Op.TUPLE, Op.BUILD);
      return;
    case 'obj':
      glob(v.module, v.name); op(Op.EMPTY_TUPLE, Op.NEWOBJ, Op.EMPTY_DICT, Op.MARK);
      for (const [k, x] of v.state) { str(k); encodePy(x, out); }
      return op(Op.SETITEMS, Op.BUILD);
  }
}

/** Arrays whose bytes match their shape and dtype (the plausible case), float or int. */
const goodArray: fc.Arbitrary<Py> = fc
  .tuple(fc.constantFrom(['f8', 8], ['i8', 8], ['f4', 4], ['i4', 4]), fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 2 }))
  .chain(([[dtype, width], shape]) => {
    const n = shape.reduce((a, b) => a * b, 1) * (width as number);
    return fc.uint8Array({ minLength: n, maxLength: n }).map((data): Py => ({ t: 'array', dtype: dtype as string, shape, data }));
  });

const pyInt = (min: number, max: number) => fc.integer({ min, max }).map((v): Py => ({ t: 'int', v }));
const pyStr = (...values: string[]) => fc.constantFrom(...values).map((v): Py => ({ t: 'str', v }));
const pyBool = fc.constantFrom<Py>({ t: 'true' }, { t: 'false' });

/** The attributes each estimator's builder reads, with plausible values (sizes may disagree). */
const TEMPLATES: Record<string, Record<string, fc.Arbitrary<Py>>> = {
  'sklearn.linear_model._logistic LogisticRegression': { coef_: goodArray, intercept_: goodArray, classes_: goodArray, n_features_in_: pyInt(0, 5), multi_class: pyStr('auto', 'ovr', 'multinomial', 'x'), solver: pyStr('lbfgs', 'liblinear') },
  'sklearn.preprocessing._data StandardScaler': { mean_: goodArray, scale_: goodArray, var_: goodArray, with_mean: pyBool, with_std: pyBool, n_features_in_: pyInt(0, 5) },
  'sklearn.preprocessing._data MinMaxScaler': { min_: goodArray, scale_: goodArray, feature_range: fc.constant<Py>({ t: 'tuple', items: [{ t: 'int', v: 0 }, { t: 'int', v: 1 }] }), clip: pyBool, n_features_in_: pyInt(0, 5) },
  'sklearn.dummy._classes DummyClassifier': { _strategy: pyStr('prior', 'most_frequent', 'constant', 'uniform', 'stratified'), classes_: goodArray, class_prior_: goodArray, n_outputs_: pyInt(0, 2), constant: goodArray, n_features_in_: pyInt(0, 5) },
};

function templated(depth: number): fc.Arbitrary<Py> {
  const pipeline = depth > 0 ? [fc.array(fc.tuple(pyStr('a', 'b', 'passthrough'), fc.oneof(templated(depth - 1), pyStr('passthrough', 'drop'))), { maxLength: 3 }).map((steps): Py => ({ t: 'obj', module: 'sklearn.pipeline', name: 'Pipeline', state: [['steps', { t: 'list', items: steps.map(([n, e]): Py => ({ t: 'tuple', items: [n, e] })) }]] }))] : [];
  return fc.oneof(
    ...Object.entries(TEMPLATES).map(([cls, attrs]) => {
      const [module, name] = cls.split(' ') as [string, string];
      return fc.tuple(fc.record(attrs, { requiredKeys: [] }), fc.array(fc.tuple(fc.constantFrom(...ATTRIBUTES), py), { maxLength: 2 })).map(([state, extra]): Py => ({ t: 'obj', module, name, state: [...Object.entries(state).filter((e): e is [string, Py] => e[1] !== undefined), ...extra] }));
    }),
    ...pipeline,
  );
}

/** The root: an estimator of an allowed class, its state plausible more often than not. */
const estimatorRoot: fc.Arbitrary<Py> = fc.oneof(
  templated(2),
  fc
    .tuple(
      fc.constantFrom(...CLASSES.filter(([m]) => m!.startsWith('sklearn'))),
      fc.array(fc.tuple(fc.constantFrom(...ATTRIBUTES), fc.oneof(goodArray, pyInt(0, 5), py)), { maxLength: 10 }),
    )
    .map(([[module, name], state]): Py => ({ t: 'obj', module: module!, name: name!, state })),
);

const wellFormed = fc.oneof(estimatorRoot, estimatorRoot, py).map((v) => {
  const out: Buffer[] = [Buffer.from([Op.PROTO, 4])];
  encodePy(v, out);
  out.push(Buffer.from([Op.STOP]));
  return new Uint8Array(Buffer.concat(out));
});

function fixtureBytes(): Uint8Array[] {
  return ['iris_rfc.joblib', 'bin_gbc.p2.pkl', 'reg_pipe_std_minmax_ridge.p5.pkl', 'iris_obj_dtc.p4.pkl', 'iris_logreg.joblib', 'iris_named_dtc.joblib'].map(
    (f) => new Uint8Array(readFileSync(fromPackageRoot('test', 'fixtures', 'sklearn', 'models', f))),
  );
}

/** Structure-aware: opcode sequences spliced into a real model file (inserted, or replacing a stretch). */
function spliced(seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc.tuple(fc.integer({ min: 0, max: seeds.length - 1 }), fc.nat(), fc.integer({ min: 0, max: 64 }), fc.array(opcode, { minLength: 1, maxLength: 6 })).map(([which, at, drop, ops]) => {
    const src = Buffer.from(seeds[which]!);
    const pos = 2 + (at % Math.max(1, src.length - 2));
    return new Uint8Array(Buffer.concat([src.subarray(0, pos), ...ops, src.subarray(Math.min(src.length, pos + drop))]));
  });
}

function load(bytes: Uint8Array): void {
  withinMs(10_000, 'loading a pickle', () =>
    onlyThrows(
      () => {
        const { root } = readPickledObject(bytes, LIMITS);
        const model = buildEstimator(root);
        const row = new Float64Array(Math.min(model.nFeatures, 10_000));
        model.predict(row, row.length === model.nFeatures ? 1 : 0);
        model.predictProba?.(row, row.length === model.nFeatures ? 1 : 0);
      },
      allowed,
      'the pickle reader',
    ),
  );
}

export async function fuzzPickle(options: FuzzOptions): Promise<void> {
  const seeds = fixtureBytes();
  fc.assert(fc.property(stream, load), runs(options));
  fc.assert(fc.property(wellFormed, load), runs(options, 0.5));
  fc.assert(fc.property(mutatedBytes(fc.sample(wellFormed, { numRuns: 20, seed: options.seed }), 3), load), runs(options, 0.25));
  fc.assert(fc.property(spliced(seeds), load), runs(options, 0.25));
  fc.assert(fc.property(mutatedBytes(seeds, 4), load), runs(options, 0.25));
}
