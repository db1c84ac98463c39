import type { Datatype, TensorValues } from './datatypes.js';
import { allocValues } from './datatypes.js';

/** A tensor in memory: flat, row-major data of its datatype's array type. */
export interface Tensor {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  readonly data: TensorValues;
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Elements per row (everything after the leading dimension). */
export function rowWidth(tensor: Pick<Tensor, 'shape'>): number {
  return elementCount(tensor.shape.slice(1));
}

/** Rows start..end of a tensor (along its first dimension). */
export function sliceRows(tensor: Tensor, start: number, end: number): Tensor {
  const width = rowWidth(tensor);
  const data = tensor.data;
  const sliced = (Array.isArray(data) ? data.slice(start * width, end * width) : data.subarray(start * width, end * width)) as TensorValues;
  return { name: tensor.name, datatype: tensor.datatype, shape: [end - start, ...tensor.shape.slice(1)], data: sliced };
}

/** Stack tensors of one input along their first dimension (same datatype and trailing dims). */
export function concatRows(parts: readonly Tensor[]): Tensor {
  const first = parts[0]!;
  if (parts.length === 1) return first;
  const rows = parts.reduce((n, t) => n + t.shape[0]!, 0);
  const shape = [rows, ...first.shape.slice(1)];
  if (Array.isArray(first.data)) {
    const out: unknown[] = [];
    for (const t of parts) for (const v of t.data as unknown[]) out.push(v);
    return { name: first.name, datatype: first.datatype, shape, data: out as TensorValues };
  }
  const out = allocValues(first.datatype, elementCount(shape)) as Exclude<TensorValues, unknown[]>;
  let at = 0;
  for (const t of parts) {
    (out as Float64Array).set(t.data as Float64Array, at);
    at += t.data.length;
  }
  return { name: first.name, datatype: first.datatype, shape, data: out };
}

/** Same trailing dimensions (so two tensors can be stacked). */
export function sameTrailingDims(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 1; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A row-major flat array as nested arrays by shape (for the row formats). */
export function nest(values: ArrayLike<unknown>, dims: readonly number[], offset = 0): unknown {
  if (dims.length === 0) return values[offset];
  const [n, ...rest] = dims;
  const stride = elementCount(rest);
  const out = new Array<unknown>(n!);
  for (let i = 0; i < n!; i++) out[i] = nest(values, rest, offset + i * stride);
  return out;
}
