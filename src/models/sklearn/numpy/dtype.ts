/**
 * numpy dtypes as they are pickled: `numpy.dtype(typestr, align, copy)` followed by a BUILD
 * whose state tuple is `(version, byteorder, subarray, names, fields, elsize, alignment,
 * flags[, metadata])` (numpy/core/src/multiarray/descriptor.c, arraydescr_setstate).
 * Structured dtypes (sklearn's tree `nodes`) carry their field layout in `fields`, which is
 * why nothing about the node layout is assumed elsewhere.
 */
import { invalidModel, SklearnLoadError } from '../errors.js';
import { describe, PyDict, PyTuple } from '../pickle/values.js';
import type { PyValue } from '../pickle/values.js';

export type DTypeKind = 'b' | 'i' | 'u' | 'f' | 'c' | 'O' | 'U' | 'S' | 'V' | 'M' | 'm';

export interface DTypeField {
  readonly name: string;
  readonly dtype: NpDType;
  readonly offset: number;
}

const KINDS = new Set<string>(['b', 'i', 'u', 'f', 'c', 'O', 'U', 'S', 'V', 'M', 'm']);
/** Pickled typestrs use numpy's one-letter kind plus a size ('f8', 'O8', 'U5', 'V56', 'b1'). */
const TYPESTR = /^([<>|=]?)([a-zA-Z])(\d*)$/;
const CHAR_CODES: Readonly<Record<string, [DTypeKind, number]>> = {
  '?': ['b', 1], b: ['i', 1], B: ['u', 1], h: ['i', 2], H: ['u', 2], i: ['i', 4], I: ['u', 4],
  l: ['i', 8], L: ['u', 8], q: ['i', 8], Q: ['u', 8], e: ['f', 2], f: ['f', 4], d: ['f', 8], O: ['O', 8],
};

export class NpDType {
  kind: DTypeKind;
  itemsize: number;
  littleEndian = true;
  fields: DTypeField[] | null = null;

  constructor(typestr: string) {
    const m = TYPESTR.exec(typestr);
    if (!m) throw invalidModel(`unsupported numpy dtype string ${JSON.stringify(typestr.slice(0, 40))}`);
    const [, order, letter, size] = m as unknown as [string, string, string, string];
    if (size === '' && CHAR_CODES[letter]) {
      [this.kind, this.itemsize] = CHAR_CODES[letter]!;
    } else {
      if (!KINDS.has(letter)) throw invalidModel(`unsupported numpy dtype kind '${letter}' in ${JSON.stringify(typestr)}`);
      this.kind = letter as DTypeKind;
      this.itemsize = size === '' ? 0 : Number(size);
      // 'U5' is five UCS-4 characters
      if (this.kind === 'U') this.itemsize *= 4;
    }
    if (order === '>') this.littleEndian = false;
  }

  /** numpy's dtype.str, e.g. '<f8', '|u1', '|V64' (used in error messages). */
  get str(): string {
    const order = this.itemsize === 1 || this.kind === 'O' || this.kind === 'V' || this.kind === 'b' || this.kind === 'S' ? '|' : this.littleEndian ? '<' : '>';
    const n = this.kind === 'U' ? this.itemsize / 4 : this.itemsize;
    return `${order}${this.kind}${n}`;
  }

  /** numpy-style name for messages: float64, int64, uint8, object, <U10, ... */
  get name(): string {
    switch (this.kind) {
      case 'f': return `float${this.itemsize * 8}`;
      case 'i': return `int${this.itemsize * 8}`;
      case 'u': return `uint${this.itemsize * 8}`;
      case 'b': return 'bool';
      case 'O': return 'object';
      default: return this.str;
    }
  }

  field(name: string): DTypeField | undefined {
    return this.fields?.find((f) => f.name === name);
  }

  describe(): string {
    return `dtype ${this.fields ? `[${this.fields.map((f) => `${f.name}:${f.dtype.name}@${f.offset}`).join(', ')}]` : this.name}`;
  }

  /** Applies the BUILD state tuple. */
  setState(state: PyValue): void {
    if (!(state instanceof PyTuple)) throw invalidModel(`numpy dtype state is ${describe(state)}, expected a tuple`);
    const s = state.items;
    const version = s[0];
    if ((version !== 3 && version !== 4) || s.length < 8) {
      throw new SklearnLoadError('UNSUPPORTED_FORMAT', `numpy dtype pickle state version ${String(version)} (length ${s.length}) is not supported`);
    }
    const [, endian, subarray, names, fields, elsize] = s;
    if (endian === '>') this.littleEndian = false;
    else if (endian === '<' || endian === '|' || endian === '=') this.littleEndian = true;
    else throw invalidModel(`numpy dtype byte order ${describe(endian)} is invalid`);
    if (subarray !== null) throw new SklearnLoadError('UNSUPPORTED_FORMAT', 'numpy sub-array dtypes are not supported');
    if (typeof elsize === 'number' && elsize >= 0) this.itemsize = elsize;
    if (names !== null) this.fields = parseFields(names, fields, this.itemsize);
    if (this.kind === 'V' && !this.fields && this.itemsize === 0) throw invalidModel('void dtype without fields or size');
  }
}

function parseFields(names: PyValue | undefined, fields: PyValue | undefined, itemsize: number): DTypeField[] {
  if (!(names instanceof PyTuple) || !(fields instanceof PyDict)) {
    throw invalidModel(`structured dtype state has names ${describe(names)} and fields ${describe(fields)}`);
  }
  const out: DTypeField[] = [];
  for (const n of names.items) {
    if (typeof n !== 'string') throw invalidModel(`structured dtype field name is ${describe(n)}`);
    const f = fields.get(n);
    if (!(f instanceof PyTuple) || f.items.length < 2) throw invalidModel(`structured dtype field '${n}' is ${describe(f)}`);
    const [dt, offset] = f.items;
    if (!(dt instanceof NpDType) || typeof offset !== 'number' || !Number.isInteger(offset)) {
      throw invalidModel(`structured dtype field '${n}' has ${describe(dt)} at ${describe(offset)}`);
    }
    if (offset < 0 || offset + dt.itemsize > itemsize) {
      throw invalidModel(`structured dtype field '${n}' (${dt.itemsize} bytes at ${offset}) lies outside the ${itemsize}-byte record`);
    }
    out.push({ name: n, dtype: dt, offset });
  }
  return out;
}
