/**
 * A restricted pickle virtual machine: it interprets the opcodes that describe data
 * (protocols 0-5 minus the ones in REFUSED_OPCODES) and never calls anything. Globals go
 * through the allow-list; REDUCE/NEWOBJ/BUILD go through callables.ts, which only ever
 * builds data. The loop is iterative (no recursion), each opcode consumes at least one byte,
 * and stack, MARK depth, memo and every declared length are capped, so hostile input ends in
 * an SklearnLoadError rather than a crash, a hang or a huge allocation.
 */
import { corrupt, limit, SklearnLoadError } from '../errors.js';
import { resolveGlobal } from './allow-list.js';
import { applyBuild, applyNewObj, applyReduce } from './callables.js';
import type { UnpickleContext } from './callables.js';
import type { Cursor } from './cursor.js';
import { HIGHEST_PROTOCOL, Op, REFUSED_OPCODES } from './opcodes.js';
import { decodeLong, parseTextFloat, parseTextInt, rawUnicodeEscape, unquote } from './text-args.js';
import { describe, PyDict, PyObject, PySet, PyTuple } from './values.js';
import type { PyKey, PyValue } from './values.js';

export type { UnpickleContext } from './callables.js';

/**
 * Called after every BUILD on a PyObject; may return a replacement for the built object
 * (joblib swaps its NumpyArrayWrapper for the array whose bytes follow in the stream).
 */
export type BuildHook = (obj: PyObject, cursor: Cursor, ctx: UnpickleContext) => PyValue | undefined;

function toKey(k: PyValue): PyKey {
  if (k === null || typeof k === 'string' || typeof k === 'number' || typeof k === 'boolean' || typeof k === 'bigint') {
    // Python: True == 1 and hash equal; sklearn never mixes them in one dict
    return k;
  }
  throw new SklearnLoadError('UNSUPPORTED_FORMAT', `dict key of type ${describe(k)} is not supported`);
}

export function unpickle(cur: Cursor, ctx: UnpickleContext, afterBuild?: BuildHook): PyValue {
  const { limits } = ctx;
  let stack: PyValue[] = [];
  const metastack: PyValue[][] = [];
  const memo = new Map<number, PyValue>();
  /** joblib wrappers that BUILD replaced, so a later memo GET sees the array too. */
  const replaced = new Map<PyValue, PyValue>();
  let opStart = 0;

  const fail = (msg: string): SklearnLoadError => corrupt(`${msg} (opcode 0x${cur.buf[opStart]!.toString(16)} at offset ${opStart})`);
  const push = (v: PyValue): void => {
    if (stack.length >= limits.maxStackSize) throw limit(`pickle stack exceeds ${limits.maxStackSize} items`);
    stack.push(v);
  };
  const pop = (): PyValue => {
    if (stack.length === 0) throw fail('stack underflow');
    return stack.pop()!;
  };
  const top = (): PyValue => {
    if (stack.length === 0) throw fail('stack underflow');
    return stack[stack.length - 1]!;
  };
  const popMark = (): PyValue[] => {
    const items = stack;
    const prev = metastack.pop();
    if (!prev) throw fail('MARK expected but none is open');
    stack = prev;
    return items;
  };
  const memoPut = (idx: number): void => {
    if (!memo.has(idx) && memo.size >= limits.maxMemoEntries) throw limit(`pickle memo exceeds ${limits.maxMemoEntries} entries`);
    memo.set(idx, top());
  };
  const memoGet = (idx: number): void => {
    const v = memo.get(idx);
    if (v === undefined) throw fail(`memo key ${idx} is not defined`);
    push(replaced.get(v) ?? v);
  };
  const line = (what: string): string => cur.line(what, limits.maxLineBytes);
  const list = (v: PyValue, what: string): PyValue[] => {
    if (!Array.isArray(v)) throw fail(`${what} on ${describe(v)}, not a list`);
    return v;
  };
  const dict = (v: PyValue, what: string): PyDict => {
    if (!(v instanceof PyDict)) throw fail(`${what} on ${describe(v)}, not a dict`);
    return v;
  };

  for (;;) {
    opStart = cur.pos;
    const op = cur.u8('opcode');
    switch (op) {
      case Op.PROTO: {
        const p = cur.u8('protocol');
        if (p > HIGHEST_PROTOCOL) throw new SklearnLoadError('UNSUPPORTED_FORMAT', `pickle protocol ${p} is not supported (max ${HIGHEST_PROTOCOL})`);
        break;
      }
      case Op.FRAME: {
        // frames only group opcodes for buffered I/O; the whole stream is in memory
        const n = cur.u64('FRAME');
        if (n > cur.remaining) throw corrupt(`truncated stream: FRAME of ${n} bytes at offset ${opStart}, only ${cur.remaining} left`);
        break;
      }
      case Op.STOP: {
        return pop();
      }
      // ---- structure
      case Op.MARK:
        if (metastack.length >= limits.maxMarkDepth) throw limit(`pickle nesting (MARK depth) exceeds ${limits.maxMarkDepth}`);
        metastack.push(stack);
        stack = [];
        break;
      case Op.POP:
        if (stack.length > 0) stack.pop();
        else popMark();
        break;
      case Op.POP_MARK:
        popMark();
        break;
      case Op.DUP:
        push(top());
        break;
      // ---- memo
      case Op.PUT:
        memoPut(Number(parseTextInt(line('PUT'), 'PUT')));
        break;
      case Op.BINPUT:
        memoPut(cur.u8('BINPUT'));
        break;
      case Op.LONG_BINPUT:
        memoPut(cur.u32('LONG_BINPUT'));
        break;
      case Op.MEMOIZE:
        memoPut(memo.size);
        break;
      case Op.GET:
        memoGet(Number(parseTextInt(line('GET'), 'GET')));
        break;
      case Op.BINGET:
        memoGet(cur.u8('BINGET'));
        break;
      case Op.LONG_BINGET:
        memoGet(cur.u32('LONG_BINGET'));
        break;
      // ---- scalars
      case Op.NONE:
        push(null);
        break;
      case Op.NEWTRUE:
        push(true);
        break;
      case Op.NEWFALSE:
        push(false);
        break;
      case Op.BININT:
        push(cur.i32('BININT'));
        break;
      case Op.BININT1:
        push(cur.u8('BININT1'));
        break;
      case Op.BININT2:
        push(cur.u16('BININT2'));
        break;
      case Op.LONG1:
        push(decodeLong(cur.bytes(cur.u8('LONG1'), 'LONG1')));
        break;
      case Op.LONG4: {
        const n = cur.i32('LONG4');
        if (n < 0 || n > limits.maxLineBytes) throw limit(`LONG4 of ${n} bytes at offset ${opStart} exceeds ${limits.maxLineBytes}`);
        push(decodeLong(cur.bytes(n, 'LONG4')));
        break;
      }
      case Op.INT:
        push(parseTextInt(line('INT'), 'INT'));
        break;
      case Op.LONG:
        push(parseTextInt(line('LONG'), 'LONG'));
        break;
      case Op.FLOAT:
        push(parseTextFloat(line('FLOAT')));
        break;
      case Op.BINFLOAT:
        push(cur.f64be('BINFLOAT'));
        break;
      // ---- strings and bytes
      case Op.BINUNICODE:
        push(cur.utf8(cur.u32('BINUNICODE'), 'BINUNICODE'));
        break;
      case Op.SHORT_BINUNICODE:
        push(cur.utf8(cur.u8('SHORT_BINUNICODE'), 'SHORT_BINUNICODE'));
        break;
      case Op.BINUNICODE8:
        push(cur.utf8(cur.u64('BINUNICODE8'), 'BINUNICODE8'));
        break;
      case Op.UNICODE:
        push(rawUnicodeEscape(cur.line('UNICODE', limits.maxArrayBytes)));
        break;
      case Op.STRING:
        push(unquote(cur.line('STRING', limits.maxArrayBytes)));
        break;
      case Op.BINSTRING: {
        const n = cur.i32('BINSTRING');
        if (n < 0) throw fail(`negative BINSTRING length ${n}`);
        push(cur.latin1(n, 'BINSTRING'));
        break;
      }
      case Op.SHORT_BINSTRING:
        push(cur.latin1(cur.u8('SHORT_BINSTRING'), 'SHORT_BINSTRING'));
        break;
      case Op.BINBYTES:
        push(cur.bytes(cur.u32('BINBYTES'), 'BINBYTES'));
        break;
      case Op.SHORT_BINBYTES:
        push(cur.bytes(cur.u8('SHORT_BINBYTES'), 'SHORT_BINBYTES'));
        break;
      case Op.BINBYTES8:
        push(cur.bytes(cur.u64('BINBYTES8'), 'BINBYTES8'));
        break;
      case Op.BYTEARRAY8:
        push(cur.bytes(cur.u64('BYTEARRAY8'), 'BYTEARRAY8'));
        break;
      case Op.READONLY_BUFFER:
        if (!(top() instanceof Uint8Array)) throw fail('READONLY_BUFFER on a non-buffer');
        break;
      // ---- containers
      case Op.EMPTY_TUPLE:
        push(new PyTuple([]));
        break;
      case Op.TUPLE1:
        push(new PyTuple([pop()]));
        break;
      case Op.TUPLE2: {
        const b = pop();
        push(new PyTuple([pop(), b]));
        break;
      }
      case Op.TUPLE3: {
        const c = pop();
        const b = pop();
        push(new PyTuple([pop(), b, c]));
        break;
      }
      case Op.TUPLE:
        push(new PyTuple(popMark()));
        break;
      case Op.EMPTY_LIST:
        push([]);
        break;
      case Op.LIST:
        push(popMark());
        break;
      case Op.APPEND: {
        const v = pop();
        list(top(), 'APPEND').push(v);
        break;
      }
      case Op.APPENDS: {
        const items = popMark();
        const l = list(top(), 'APPENDS');
        for (const v of items) l.push(v);
        break;
      }
      case Op.EMPTY_DICT:
        push(new PyDict());
        break;
      case Op.DICT: {
        const items = popMark();
        const d = new PyDict();
        if (items.length % 2) throw fail('DICT with an odd number of items');
        for (let i = 0; i < items.length; i += 2) d.map.set(toKey(items[i]!), items[i + 1]!);
        push(d);
        break;
      }
      case Op.SETITEM: {
        const v = pop();
        const k = pop();
        dict(top(), 'SETITEM').map.set(toKey(k), v);
        break;
      }
      case Op.SETITEMS: {
        const items = popMark();
        const d = dict(top(), 'SETITEMS');
        if (items.length % 2) throw fail('SETITEMS with an odd number of items');
        for (let i = 0; i < items.length; i += 2) d.map.set(toKey(items[i]!), items[i + 1]!);
        break;
      }
      case Op.EMPTY_SET:
        push(new PySet([], false));
        break;
      case Op.ADDITEMS: {
        const items = popMark();
        const s = top();
        if (!(s instanceof PySet) || s.frozen) throw fail(`ADDITEMS on ${describe(s)}`);
        for (const v of items) s.items.push(v);
        break;
      }
      case Op.FROZENSET:
        push(new PySet(popMark(), true));
        break;
      // ---- globals and objects (never executed; see callables.ts)
      case Op.GLOBAL: {
        const module = line('GLOBAL module');
        const name = line('GLOBAL name');
        push(resolveGlobal(module, name));
        break;
      }
      case Op.STACK_GLOBAL: {
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw fail('STACK_GLOBAL needs two strings');
        push(resolveGlobal(module, name));
        break;
      }
      case Op.REDUCE: {
        const args = pop();
        const fn = pop();
        push(applyReduce(fn, args, ctx));
        break;
      }
      case Op.NEWOBJ: {
        const args = pop();
        const cls = pop();
        push(applyNewObj(cls, args, null));
        break;
      }
      case Op.NEWOBJ_EX: {
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        push(applyNewObj(cls, args, kwargs));
        break;
      }
      case Op.BUILD: {
        const state = pop();
        const obj = top();
        applyBuild(obj, state, ctx);
        if (afterBuild && obj instanceof PyObject) {
          const swapped = afterBuild(obj, cur, ctx);
          if (swapped !== undefined) {
            stack[stack.length - 1] = swapped;
            replaced.set(obj, swapped);
          }
        }
        break;
      }
      default: {
        const refused = REFUSED_OPCODES.get(op);
        if (refused) {
          throw new SklearnLoadError('UNSUPPORTED_FORMAT', `pickle opcode ${refused} at offset ${opStart} is not allowed in model files`);
        }
        throw corrupt(`unknown pickle opcode 0x${op.toString(16)} at offset ${opStart} (not a pickle, or corrupt)`);
      }
    }
  }
}
