/**
 * REDUCE / NEWOBJ / BUILD semantics for allow-listed globals. Nothing is invoked: emulated
 * globals (see allow-list.ts) are computed on data here, every other allowed class becomes
 * an inert PyObject holding its arguments and, after BUILD, its state.
 */
import { corrupt, invalidModel, SklearnLoadError } from '../errors.js';
import type { LoadLimits } from '../limits.js';
import { NpDType } from '../numpy/dtype.js';
import { NdArray } from '../numpy/ndarray.js';
import type { AllocationBudget } from '../numpy/ndarray.js';
import { fromBuffer, makeDType, reconstruct, scalar, setArrayState } from '../numpy/reduce.js';
import { describe, PyDict, PyGlobal, PyObject, PySet, PyTuple } from './values.js';
import type { PyValue } from './values.js';

export interface UnpickleContext {
  readonly limits: LoadLimits;
  readonly budget: AllocationBudget;
}

function latin1Bytes(s: string, what: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw corrupt(`${what}: character U+${c.toString(16)} is not latin-1`);
    out[i] = c;
  }
  return out;
}

function iterableItems(v: PyValue | undefined, what: string): PyValue[] {
  if (v === undefined) return [];
  if (Array.isArray(v)) return v;
  if (v instanceof PyTuple) return [...v.items];
  if (v instanceof PySet) return [...v.items];
  throw invalidModel(`${what} of ${describe(v)} is not supported`);
}

/** REDUCE: `callable(*args)`. */
export function applyReduce(callable: PyValue, args: PyValue, ctx: UnpickleContext): PyValue {
  if (!(callable instanceof PyGlobal)) throw corrupt(`REDUCE called on ${describe(callable)}, not an allowed global`);
  if (!(args instanceof PyTuple)) throw corrupt(`REDUCE arguments are ${describe(args)}, not a tuple`);
  const a = args.items;
  const maxBytes = ctx.limits.maxArrayBytes;
  switch (callable.qualifiedName) {
    case 'numpy.core.multiarray._reconstruct':
    case 'numpy._core.multiarray._reconstruct':
      return reconstruct(a);
    case 'numpy.core.multiarray.scalar':
    case 'numpy._core.multiarray.scalar':
      return scalar(a);
    case 'numpy.core.numeric._frombuffer':
    case 'numpy._core.numeric._frombuffer':
      return fromBuffer(a, ctx.budget, maxBytes);
    case 'numpy.dtype':
      return makeDType(a);
    case '_codecs.encode': {
      const [s, enc] = a;
      if (typeof s !== 'string' || (enc !== 'latin1' && enc !== 'latin-1')) {
        throw new SklearnLoadError('UNSUPPORTED_FORMAT', `_codecs.encode(${describe(s)}, ${describe(enc)}) is not supported`);
      }
      return latin1Bytes(s, '_codecs.encode');
    }
    case 'builtins.bytearray': {
      const [v, enc] = a;
      if (v === undefined) return new Uint8Array(0);
      if (v instanceof Uint8Array) return v;
      if (typeof v === 'string' && (enc === 'latin1' || enc === 'latin-1')) return latin1Bytes(v, 'bytearray');
      throw new SklearnLoadError('UNSUPPORTED_FORMAT', `bytearray(${describe(v)}) is not supported`);
    }
    case 'builtins.set':
    case 'builtins.frozenset':
      return new PySet(iterableItems(a[0], 'set'), callable.name === 'frozenset');
    case 'collections.OrderedDict': {
      if (a.length > 0) throw new SklearnLoadError('UNSUPPORTED_FORMAT', 'OrderedDict with constructor arguments is not supported');
      return new PyDict();
    }
    case 'numpy.ndarray':
      throw new SklearnLoadError('UNSUPPORTED_FORMAT', 'direct numpy.ndarray(...) construction is not supported');
    default:
      return new PyObject(callable, a);
  }
}

/** NEWOBJ / NEWOBJ_EX: `cls.__new__(cls, *args, **kwargs)`. */
export function applyNewObj(cls: PyValue, args: PyValue, kwargs: PyValue | null): PyValue {
  if (!(cls instanceof PyGlobal)) throw corrupt(`NEWOBJ on ${describe(cls)}, not an allowed class`);
  if (!(args instanceof PyTuple)) throw corrupt(`NEWOBJ arguments are ${describe(args)}, not a tuple`);
  if (kwargs !== null && !(kwargs instanceof PyDict)) throw corrupt(`NEWOBJ_EX keyword arguments are ${describe(kwargs)}`);
  if (cls.qualifiedName === 'collections.OrderedDict') return new PyDict();
  if (cls.module === 'numpy' || cls.module.startsWith('numpy.') || cls.module === 'builtins' || cls.module === '_codecs') {
    throw new SklearnLoadError('UNSUPPORTED_FORMAT', `NEWOBJ of ${cls.qualifiedName} is not supported`);
  }
  return new PyObject(cls, args.items, kwargs);
}

/** BUILD: `obj.__setstate__(state)` or the default `__dict__` update. */
export function applyBuild(obj: PyValue, state: PyValue, ctx: UnpickleContext): void {
  if (obj instanceof NdArray) {
    setArrayState(obj, state, ctx.budget, ctx.limits.maxArrayBytes);
  } else if (obj instanceof NpDType) {
    obj.setState(state);
  } else if (obj instanceof PyObject) {
    // object.__reduce_ex__ may emit (dict_state, slots_state); both update attributes
    const slotsPair =
      state instanceof PyTuple && state.items.length === 2 && state.items.every((x) => x === null || x instanceof PyDict);
    if (state instanceof PyDict || slotsPair) {
      const parts = slotsPair ? (state as PyTuple).items : [state];
      if (!(obj.state instanceof PyDict)) obj.state = new PyDict();
      for (const part of parts) if (part instanceof PyDict) for (const [k, v] of part.map) obj.state.map.set(k, v);
    } else {
      obj.state = state;
    }
  } else {
    throw corrupt(`BUILD applied to ${describe(obj)}`);
  }
}
