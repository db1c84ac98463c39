/**
 * What the allow-listed numpy constructors would produce, computed on data:
 *   numpy.dtype(typestr, align, copy)             -> NpDType (state applied by BUILD)
 *   numpy.core.multiarray._reconstruct(ndarray, (0,), b'b') + BUILD(state)  -> NdArray
 *       state = (version, shape, dtype, is_fortran, raw bytes | list of objects)
 *   numpy.core.numeric._frombuffer(buffer, dtype, shape, order)   (protocol 5) -> NdArray
 *   numpy.core.multiarray.scalar(dtype, raw bytes | object)        -> number/bool/str
 * (numpy 2 spells the modules numpy._core.*; both are accepted.)
 */
import { invalidModel, SklearnLoadError } from '../errors.js';
import { describe, PyGlobal, PyTuple } from '../pickle/values.js';
import type { PyValue } from '../pickle/values.js';
import { numericReader, toLabels } from './convert.js';
import { NpDType } from './dtype.js';
import { AllocationBudget, checkedShape, NdArray } from './ndarray.js';

export function makeDType(args: readonly PyValue[]): NpDType {
  const t = args[0];
  if (typeof t !== 'string') throw invalidModel(`numpy.dtype(${describe(t)}) needs a type string`);
  return new NpDType(t);
}

export function reconstruct(args: readonly PyValue[]): NdArray {
  const sub = args[0];
  if (!(sub instanceof PyGlobal) || sub.name !== 'ndarray') {
    throw new SklearnLoadError('UNSUPPORTED_FORMAT', `numpy _reconstruct of ${describe(sub)} is not supported (only plain ndarray)`);
  }
  return new NdArray();
}

/** Shared by the BUILD state, _frombuffer and joblib's wrapper: validates and fills `arr`. */
export function fillArray(
  arr: NdArray,
  dtype: PyValue | undefined,
  shape: PyValue | undefined,
  fortran: boolean,
  data: PyValue | undefined,
  budget: AllocationBudget,
  maxBytes: number,
): NdArray {
  if (!(dtype instanceof NpDType)) throw invalidModel(`numpy array dtype is ${describe(dtype)}`);
  const dims = shape instanceof PyTuple ? shape.items : typeof shape === 'number' ? [shape] : null;
  if (!dims) throw invalidModel(`numpy array shape is ${describe(shape)}`);
  const { dims: d, count } = checkedShape(dims, dtype.kind === 'O' ? 8 : dtype.itemsize, maxBytes, 'numpy array');
  arr.dtype = dtype;
  arr.shape = d;
  arr.fortran = fortran;
  if (dtype.kind === 'O') {
    if (!Array.isArray(data) || data.length !== count) throw invalidModel(`object array of ${count} elements has data ${describe(data)}`);
    budget.take(count * 8, 'object array');
    arr.objects = data;
  } else {
    if (!(data instanceof Uint8Array)) throw invalidModel(`numpy ${dtype.name} array data is ${describe(data)}, expected bytes`);
    if (data.length !== count * dtype.itemsize) {
      throw invalidModel(`numpy ${dtype.name} array of shape (${d.join(', ')}) needs ${count * dtype.itemsize} bytes, got ${data.length}`);
    }
    budget.take(data.length, 'numpy array');
    arr.bytes = data;
  }
  arr.initialized = true;
  return arr;
}

export function setArrayState(arr: NdArray, state: PyValue, budget: AllocationBudget, maxBytes: number): void {
  if (arr.initialized) throw invalidModel('numpy array state applied twice');
  if (!(state instanceof PyTuple)) throw invalidModel(`numpy array state is ${describe(state)}`);
  // version 1: (1, shape, dtype, is_fortran, data); pre-versioned: (shape, dtype, is_fortran, data)
  const s = state.items.length === 5 ? state.items.slice(1) : state.items;
  if (s.length !== 4) throw invalidModel(`numpy array state tuple has ${state.items.length} items`);
  const [shape, dtype, fortran, data] = s;
  fillArray(arr, dtype, shape, fortran === true || fortran === 1, data, budget, maxBytes);
}

export function fromBuffer(args: readonly PyValue[], budget: AllocationBudget, maxBytes: number): NdArray {
  const [buf, dtype, shape, order] = args;
  if (order !== 'C' && order !== 'F') throw invalidModel(`numpy _frombuffer order ${describe(order)}`);
  return fillArray(new NdArray(), dtype, shape, order === 'F', buf, budget, maxBytes);
}

/** numpy scalars (np.float64(...) etc.) become plain JS numbers / booleans / strings. */
export function scalar(args: readonly PyValue[]): PyValue {
  const [dtype, data] = args;
  if (!(dtype instanceof NpDType)) throw invalidModel(`numpy scalar dtype is ${describe(dtype)}`);
  if (dtype.kind === 'O') return data ?? null;
  if (!(data instanceof Uint8Array) || data.length !== dtype.itemsize) {
    throw invalidModel(`numpy ${dtype.name} scalar has data ${describe(data)}`);
  }
  if (dtype.kind === 'U' || dtype.kind === 'S') {
    const a = new NdArray();
    fillArray(a, dtype, new PyTuple([1]), false, data, new AllocationBudget(data.length), data.length);
    return toLabels(a, 'numpy scalar')[0]!;
  }
  const read = numericReader(dtype);
  if (!read) throw invalidModel(`numpy scalar of dtype ${dtype.name} is not supported`);
  const v = read(new DataView(data.buffer, data.byteOffset, data.byteLength), 0);
  return dtype.kind === 'b' ? v !== 0 : v;
}
