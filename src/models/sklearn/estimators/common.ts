/**
 * Shared helpers for turning inert pickled estimators into TabularModels: typed attribute
 * access with precise errors, input validation matching sklearn's check_array, and the
 * small numeric kernels (argmax, expit, softmax) several estimators use.
 */
import { invalidModel, SklearnInputError, SklearnLoadError } from '../errors.js';
import type { Label } from '../model.js';
import { toStrings } from '../numpy/convert.js';
import { NdArray } from '../numpy/ndarray.js';
import { describe, PyObject } from '../pickle/values.js';
import type { PyValue } from '../pickle/values.js';

export function shortName(obj: PyObject): string {
  return obj.cls.name;
}

export function req(obj: PyObject, name: string): PyValue {
  const v = obj.attr(name);
  if (v === undefined) throw invalidModel(`${shortName(obj)} has no attribute '${name}' (not fitted, or an unsupported scikit-learn version)`);
  return v;
}

export function num(v: PyValue | undefined, what: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof NdArray && v.initialized && v.size === 1 && v.dtype?.kind !== 'O') {
    // 0-d / 1-element arrays stand in for scalars (e.g. intercept_ of a 1-target model)
    const b = v.bytes!;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    if (v.dtype!.kind === 'f' && v.dtype!.itemsize === 8) return dv.getFloat64(0, v.dtype!.littleEndian);
  }
  throw invalidModel(`${what} is ${describe(v)}, expected a number`);
}

export function int(v: PyValue | undefined, what: string): number {
  const n = num(v, what);
  if (!Number.isInteger(n)) throw invalidModel(`${what} is ${n}, expected an integer`);
  return n;
}

export function str(v: PyValue | undefined, what: string): string {
  if (typeof v !== 'string') throw invalidModel(`${what} is ${describe(v)}, expected a string`);
  return v;
}

export function asObject(v: PyValue | undefined, what: string): PyObject {
  if (!(v instanceof PyObject)) throw invalidModel(`${what} is ${describe(v)}, expected a scikit-learn object`);
  return v;
}

/** `feature_names_in_` if present. */
export function featureNames(obj: PyObject): string[] | undefined {
  const v = obj.attr('feature_names_in_');
  return v === undefined || v === null ? undefined : toStrings(v, `${shortName(obj)}.feature_names_in_`);
}

/** n_features_in_ (sklearn >= 1.0) with the older spellings as fallbacks. */
export function nFeaturesOf(obj: PyObject, fallback?: number): number {
  for (const k of ['n_features_in_', 'n_features_']) {
    const v = obj.attr(k);
    if (typeof v === 'number') return v;
  }
  if (fallback !== undefined) return fallback;
  throw invalidModel(`${shortName(obj)} has no n_features_in_`);
}

export function unsupported(message: string): SklearnLoadError {
  return new SklearnLoadError('UNSUPPORTED_ESTIMATOR', message);
}

/** 'major.minor' of `_sklearn_version`, or [0, 0] when absent. */
export function sklearnVersion(obj: PyObject): [number, number] {
  const v = obj.attr('_sklearn_version');
  const m = typeof v === 'string' ? /^(\d+)\.(\d+)/.exec(v) : null;
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

export type NanPolicy = 'reject' | 'allow';

/**
 * sklearn's check_array: the right number of values, no ±inf, and NaN only where the
 * estimator accepts missing values.
 */
export function checkInput(rows: Float64Array, nRows: number, nFeatures: number, estimator: string, nan: NanPolicy): void {
  if (!Number.isInteger(nRows) || nRows < 0) throw new SklearnInputError(`nRows must be a non-negative integer, got ${nRows}`);
  if (rows.length !== nRows * nFeatures) {
    throw new SklearnInputError(`${estimator} expects ${nFeatures} features per row: got ${rows.length} values for ${nRows} rows`);
  }
  for (let i = 0; i < rows.length; i++) {
    const v = rows[i]!;
    if (v - v !== 0) {
      if (v !== v) {
        if (nan === 'reject') throw new SklearnInputError(`Input X contains NaN (row ${Math.floor(i / nFeatures)}); ${estimator} does not accept missing values`);
      } else {
        throw new SklearnInputError(`Input X contains infinity (row ${Math.floor(i / nFeatures)}); ${estimator} does not accept it`);
      }
    }
  }
}

/** Index of the first maximum (numpy.argmax semantics; NaN never wins here). */
export function argmax(a: Float64Array, off: number, n: number): number {
  let best = 0;
  let bv = a[off]!;
  for (let j = 1; j < n; j++) {
    const v = a[off + j]!;
    if (v > bv) {
      bv = v;
      best = j;
    }
  }
  return best;
}

export function expit(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** In-place softmax of a[off..off+n) (scipy.special.softmax: subtract the max first). */
export function softmaxInPlace(a: Float64Array, off: number, n: number): void {
  let m = -Infinity;
  for (let j = 0; j < n; j++) m = Math.max(m, a[off + j]!);
  let s = 0;
  for (let j = 0; j < n; j++) {
    const e = Math.exp(a[off + j]! - m);
    a[off + j] = e;
    s += e;
  }
  for (let j = 0; j < n; j++) a[off + j] = a[off + j]! / s;
}

export function labelsFor(classes: readonly Label[], proba: Float64Array, nRows: number): Label[] {
  const k = classes.length;
  const out = new Array<Label>(nRows);
  for (let r = 0; r < nRows; r++) out[r] = classes[argmax(proba, r * k, k)]!;
  return out;
}
