/**
 * A numpy array as read from a pickle: dtype, shape, memory order and either the raw bytes
 * (numeric/structured dtypes, a view into the decompressed file) or the element list
 * (object dtype). Conversion to JS typed arrays happens in convert.ts, once, at load time.
 */
import { limit } from '../errors.js';
import type { PyValue } from '../pickle/values.js';
import type { NpDType } from './dtype.js';

export class NdArray {
  /** False between `_reconstruct(...)` and the BUILD that supplies the state. */
  initialized = false;
  dtype: NpDType | null = null;
  shape: number[] = [];
  fortran = false;
  bytes: Uint8Array | null = null;
  objects: PyValue[] | null = null;

  get size(): number {
    let n = 1;
    for (const d of this.shape) n *= d;
    return n;
  }

  describe(): string {
    return `ndarray(${this.dtype?.name ?? '?'}, shape=(${this.shape.join(', ')}))`;
  }
}

/** Tracks the bytes materialised by one load against LoadLimits.maxArrayBytes. */
export class AllocationBudget {
  constructor(private remaining: number) {}
  take(bytes: number, what: string): void {
    if (bytes > this.remaining) throw limit(`${what} needs ${bytes} bytes, over the remaining array budget of ${this.remaining}`);
    this.remaining -= bytes;
  }
}

/** Validates a pickled shape and returns its element count, refusing absurd products. */
export function checkedShape(shape: readonly PyValue[], itemsize: number, maxBytes: number, what: string): { dims: number[]; count: number } {
  const dims: number[] = [];
  let count = 1;
  let zero = false;
  if (shape.length > 32) throw limit(`${what} has ${shape.length} dimensions (numpy allows 32)`);
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) throw limit(`${what} has an invalid dimension ${String(d)}`);
    dims.push(d);
    if (d === 0) zero = true;
    else if (!zero) {
      count *= d;
      if (count * Math.max(itemsize, 1) > maxBytes) {
        throw limit(`${what} shape (${shape.map(String).join(', ')}) is too large: over ${maxBytes} bytes`);
      }
    }
  }
  return { dims, count: zero ? 0 : count };
}
