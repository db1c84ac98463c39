/**
 * Typed views of pickled arrays for the estimators: numeric arrays to Float64Array in
 * C order, label arrays to JS values, structured-array fields to Float64Array. Every call
 * names what it converts so a wrong dtype gives a precise error.
 */
import { invalidModel } from '../errors.js';
import { describe } from '../pickle/values.js';
import type { PyValue } from '../pickle/values.js';
import type { NpDType } from './dtype.js';
import { NdArray } from './ndarray.js';

export type Label = number | string | boolean;

type Reader = (view: DataView, offset: number) => number;

/** Element reader for a numeric dtype, or null when the dtype is not numeric. */
export function numericReader(dt: NpDType): Reader | null {
  const le = dt.littleEndian;
  switch (`${dt.kind}${dt.itemsize}`) {
    case 'f8': return (v, o) => v.getFloat64(o, le);
    case 'f4': return (v, o) => v.getFloat32(o, le);
    case 'i8': return (v, o) => Number(v.getBigInt64(o, le));
    case 'i4': return (v, o) => v.getInt32(o, le);
    case 'i2': return (v, o) => v.getInt16(o, le);
    case 'i1': return (v, o) => v.getInt8(o);
    case 'u8': return (v, o) => Number(v.getBigUint64(o, le));
    case 'u4': return (v, o) => v.getUint32(o, le);
    case 'u2': return (v, o) => v.getUint16(o, le);
    case 'u1': return (v, o) => v.getUint8(o);
    case 'b1': return (v, o) => (v.getUint8(o) !== 0 ? 1 : 0);
    default: return null;
  }
}

export function asArray(v: PyValue | undefined, what: string): NdArray {
  if (!(v instanceof NdArray) || !v.initialized || !v.dtype) throw invalidModel(`${what} is ${describe(v)}, expected a numpy array`);
  return v;
}

/** Maps a C-order element index to the storage index of a Fortran-order array. */
function storageIndex(shape: readonly number[], fortran: boolean): ((c: number) => number) | null {
  if (!fortran || shape.length < 2) return null;
  const n = shape.length;
  return (c) => {
    let rem = c;
    let f = 0;
    let stride = 1;
    const idx = new Array<number>(n);
    for (let k = n - 1; k >= 0; k--) {
      idx[k] = rem % shape[k]!;
      rem = Math.floor(rem / shape[k]!);
    }
    for (let k = 0; k < n; k++) {
      f += idx[k]! * stride;
      stride *= shape[k]!;
    }
    return f;
  };
}

/** Any numeric/bool array as float64 in C (row-major) order. */
export function toFloat64(v: PyValue | undefined, what: string): Float64Array {
  const a = asArray(v, what);
  const dt = a.dtype!;
  const count = a.size;
  const out = new Float64Array(count);
  if (dt.kind === 'O') {
    for (let i = 0; i < count; i++) {
      const x = a.objects![i];
      if (typeof x === 'number') out[i] = x;
      else if (typeof x === 'boolean') out[i] = x ? 1 : 0;
      else throw invalidModel(`${what} holds ${describe(x)}, expected numbers`);
    }
    return out;
  }
  const read = numericReader(dt);
  if (!read || dt.fields) throw invalidModel(`${what} has dtype ${dt.name}, expected a numeric dtype`);
  const bytes = a.bytes!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const map = storageIndex(a.shape, a.fortran);
  const size = dt.itemsize;
  for (let i = 0; i < count; i++) out[i] = read(view, (map ? map(i) : i) * size);
  return out;
}

/** Like toFloat64 but insists on float64 storage (values sklearn computes in float64). */
export function toFloat64Strict(v: PyValue | undefined, what: string): Float64Array {
  const a = asArray(v, what);
  if (a.dtype!.kind !== 'f' || a.dtype!.itemsize !== 8) throw invalidModel(`${what} has dtype ${a.dtype!.name}, expected float64`);
  return toFloat64(a, what);
}

/** A 1-D array of labels (class names) as JS values: numbers, strings or booleans. */
export function toLabels(v: PyValue | undefined, what: string): Label[] {
  const a = asArray(v, what);
  const dt = a.dtype!;
  if (a.shape.length !== 1) throw invalidModel(`${what} has shape (${a.shape.join(', ')}), expected 1-D`);
  const n = a.size;
  const out: Label[] = [];
  if (dt.kind === 'O') {
    for (const x of a.objects!) {
      if (typeof x === 'number' || typeof x === 'string' || typeof x === 'boolean') out.push(x);
      else if (typeof x === 'bigint') out.push(Number(x));
      else throw invalidModel(`${what} holds ${describe(x)}; only str, int, float and bool labels are supported`);
    }
    return out;
  }
  if (dt.kind === 'U' || dt.kind === 'S') {
    const bytes = a.bytes!;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) out.push(fixedString(view, i * dt.itemsize, dt));
    return out;
  }
  const nums = toFloat64(a, what);
  if (dt.kind === 'b') return Array.from(nums, (x) => x !== 0);
  return Array.from(nums);
}

/** numpy 'U' (UCS-4) and 'S' (bytes) cells are NUL-padded on the right. */
function fixedString(view: DataView, offset: number, dt: NpDType): string {
  let s = '';
  if (dt.kind === 'U') {
    for (let k = 0; k < dt.itemsize; k += 4) {
      const cp = view.getUint32(offset + k, dt.littleEndian);
      if (cp === 0) break;
      if (cp > 0x10ffff) throw invalidModel(`string array holds invalid code point ${cp}`);
      s += String.fromCodePoint(cp);
    }
  } else {
    for (let k = 0; k < dt.itemsize; k++) {
      const b = view.getUint8(offset + k);
      if (b === 0) break;
      s += String.fromCharCode(b);
    }
  }
  return s;
}

/** Strings of a 1-D str/object array (feature_names_in_). */
export function toStrings(v: PyValue | undefined, what: string): string[] {
  return toLabels(v, what).map((x) => {
    if (typeof x !== 'string') throw invalidModel(`${what} holds ${typeof x} ${String(x)}, expected str`);
    return x;
  });
}

/** One field of a 1-D structured array as float64 (e.g. tree nodes' `threshold`). */
export function structField(a: NdArray, name: string, what: string, expect: ReadonlyArray<string>): Float64Array {
  const dt = a.dtype!;
  const f = dt.field(name);
  if (!f) throw invalidModel(`${what} has no field '${name}' (fields: ${dt.fields?.map((x) => x.name).join(', ') ?? 'none'})`);
  const key = `${f.dtype.kind}${f.dtype.itemsize}`;
  const named: Record<string, string> = { f8: 'float64', i8: 'int64', i4: 'int32', u1: 'uint8', b1: 'bool' };
  if (!expect.includes(key)) {
    throw invalidModel(`${what} field '${name}' has dtype ${f.dtype.name}, expected ${expect.map((e) => named[e] ?? e).join(' or ')}`);
  }
  const read = numericReader(f.dtype)!;
  const bytes = a.bytes!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = a.size;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = read(view, i * dt.itemsize + f.offset);
  return out;
}
