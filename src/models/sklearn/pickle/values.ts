/**
 * The data model the restricted unpickler produces. Nothing here is ever callable: a
 * REDUCE/NEWOBJ on an allow-listed class becomes a PyObject recording the class name, the
 * arguments and (after BUILD) the state, exactly as they appear in the file.
 */
import type { NdArray } from '../numpy/ndarray.js';
import type { NpDType } from '../numpy/dtype.js';

export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array // bytes / bytearray
  | PyValue[] // list
  | PyTuple
  | PyDict
  | PySet
  | PyGlobal
  | PyObject
  | NdArray
  | NpDType;

export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

/** Dict keys are restricted to hashable scalars; that covers every sklearn state dict. */
export type PyKey = string | number | bigint | boolean | null;

export class PyDict {
  readonly map = new Map<PyKey, PyValue>();
  get(key: PyKey): PyValue | undefined {
    return this.map.get(key);
  }
  has(key: PyKey): boolean {
    return this.map.has(key);
  }
}

export class PySet {
  constructor(
    readonly items: PyValue[],
    readonly frozen: boolean,
  ) {}
}

/** A reference to an allow-listed module attribute (a class or an inert constructor). */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** An instance of an allow-listed class, kept as inert data. */
export class PyObject {
  /** Set by BUILD; dict states are merged the way object.__setstate__ updates __dict__. */
  state: PyValue | undefined = undefined;
  constructor(
    readonly cls: PyGlobal,
    readonly args: readonly PyValue[],
    readonly kwargs: PyDict | null = null,
  ) {}
  get className(): string {
    return this.cls.qualifiedName;
  }
  /** Attribute lookup in a dict state (what `obj.name` would read after unpickling). */
  attr(name: string): PyValue | undefined {
    return this.state instanceof PyDict ? this.state.get(name) : undefined;
  }
}

/** Short, bounded description of a value for error messages (never recurses deeply). */
export function describe(v: PyValue | undefined): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number' || typeof v === 'bigint') return `number ${String(v)}`;
  if (typeof v === 'string') return `str ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (v instanceof Uint8Array) return `bytes[${v.length}]`;
  if (Array.isArray(v)) return `list[${v.length}]`;
  if (v instanceof PyTuple) return `tuple[${v.items.length}]`;
  if (v instanceof PyDict) return `dict[${v.map.size}]`;
  if (v instanceof PySet) return `set[${v.items.length}]`;
  if (v instanceof PyGlobal) return `global ${v.qualifiedName}`;
  if (v instanceof PyObject) return `object ${v.className}`;
  return v.describe();
}
