/**
 * joblib's pickle dialect (joblib/numpy_pickle.py). joblib.dump replaces each ndarray by a
 * `NumpyArrayWrapper(subclass, shape, order, dtype, allow_mmap, numpy_array_alignment_bytes)`
 * and writes the array right after that object's BUILD opcode:
 *   - joblib >= 1.2: one byte holding the padding length, that many padding bytes (so the
 *     data is 16-byte aligned in the file), then the raw data in `order`;
 *   - joblib < 1.2: no `numpy_array_alignment_bytes` attribute, no padding byte;
 *   - object arrays (dtype 'O', e.g. string labels): a nested, ordinary pickle (protocol 2).
 * Plain pickles never contain the wrapper, so the same reader serves both.
 */
import { corrupt, invalidModel, SklearnLoadError } from './errors.js';
import type { LoadLimits } from './limits.js';
import { decompress } from './compression/index.js';
import type { Container } from './compression/index.js';
import { NpDType } from './numpy/dtype.js';
import { AllocationBudget, checkedShape, NdArray } from './numpy/ndarray.js';
import { fillArray } from './numpy/reduce.js';
import { Cursor } from './pickle/cursor.js';
import { unpickle } from './pickle/reader.js';
import type { BuildHook, UnpickleContext } from './pickle/reader.js';
import { describe, PyTuple } from './pickle/values.js';
import type { PyObject, PyValue } from './pickle/values.js';

function readWrappedArray(w: PyObject, cur: Cursor, ctx: UnpickleContext): NdArray {
  const dtype = w.attr('dtype');
  const shape = w.attr('shape');
  const order = w.attr('order');
  if (!(dtype instanceof NpDType)) throw invalidModel(`joblib array wrapper has dtype ${describe(dtype)}`);
  if (order !== 'C' && order !== 'F') throw invalidModel(`joblib array wrapper has order ${describe(order)}`);
  if (dtype.kind === 'O') {
    // pickled inline as an ordinary pickle; it cannot contain further joblib wrappers
    const nested = unpickle(cur, ctx);
    if (!(nested instanceof NdArray) || !nested.initialized || nested.dtype?.kind !== 'O') {
      throw invalidModel(`joblib object array holds ${describe(nested)}`);
    }
    return nested;
  }
  const alignment = w.attr('numpy_array_alignment_bytes');
  if (typeof alignment === 'number') {
    const pad = cur.u8('joblib padding length');
    if (pad > alignment) throw corrupt(`joblib array padding of ${pad} bytes exceeds its alignment ${alignment} (offset ${cur.pos - 1})`);
    cur.bytes(pad, 'joblib padding');
  } else if (alignment !== undefined && alignment !== null) {
    throw invalidModel(`joblib array wrapper has numpy_array_alignment_bytes ${describe(alignment)}`);
  }
  const dims = shape instanceof PyTuple ? shape : null;
  if (!dims) throw invalidModel(`joblib array wrapper has shape ${describe(shape)}`);
  const { count } = checkedShape(dims.items, dtype.itemsize, ctx.limits.maxArrayBytes, 'joblib array');
  const data = cur.bytes(count * dtype.itemsize, `joblib ${dtype.name} array (${dims.items.join('x')})`);
  return fillArray(new NdArray(), dtype, shape, order === 'F', data, ctx.budget, ctx.limits.maxArrayBytes);
}

const joblibBuildHook: BuildHook = (obj, cur, ctx) => {
  const name = obj.className;
  if (name.endsWith('.NumpyArrayWrapper')) return readWrappedArray(obj, cur, ctx);
  if (name.endsWith('.NDArrayWrapper') || name.endsWith('.ZNDArrayWrapper')) {
    throw new SklearnLoadError(
      'UNSUPPORTED_FORMAT',
      `joblib < 0.10 stored arrays in side files (${name}); re-save the model with a current joblib.dump`,
    );
  }
  return undefined;
};

export interface PickledObject {
  root: PyValue;
  container: Container;
}

/** Decompresses (when needed) and unpickles a .joblib/.pkl file into inert data. */
export function readPickledObject(bytes: Uint8Array, limits: LoadLimits): PickledObject {
  if (bytes.length === 0) throw corrupt('empty file');
  const { container, data } = decompress(bytes, limits.maxDecompressedBytes);
  const ctx: UnpickleContext = { limits, budget: new AllocationBudget(limits.maxArrayBytes) };
  const root = unpickle(new Cursor(data), ctx, joblibBuildHook);
  return { root, container };
}
