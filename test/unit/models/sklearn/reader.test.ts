// The restricted pickle reader on hand-written opcode streams: data opcodes of every
// protocol, memo, numpy reconstruction (plain, Fortran order, big-endian, protocol 5
// _frombuffer), and that allow-listed classes only become inert records.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveLimits } from '../../../../src/models/sklearn/limits.js';
import { toFloat64, toLabels } from '../../../../src/models/sklearn/numpy/convert.js';
import { AllocationBudget, NdArray } from '../../../../src/models/sklearn/numpy/ndarray.js';
import { Cursor } from '../../../../src/models/sklearn/pickle/cursor.js';
import { unpickle } from '../../../../src/models/sklearn/pickle/reader.js';
import { PyObject, PySet, PyTuple } from '../../../../src/models/sklearn/pickle/values.js';
import type { PyDict } from '../../../../src/models/sklearn/pickle/values.js';
import type { PyValue } from '../../../../src/models/sklearn/pickle/values.js';
import { readPickledObject } from '../../../../src/models/sklearn/joblib.js';
import { fixture } from './helpers.js';

const enc = (s: string): number[] => [...Buffer.from(s, 'latin1')];
const pkl = (...parts: (number | number[] | string)[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'number' ? [p] : typeof p === 'string' ? enc(p) : p)));
const load = (b: Uint8Array): PyValue => unpickle(new Cursor(b), { limits: resolveLimits(), budget: new AllocationBudget(1 << 20) });
const u32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];

void describe('pickle reader: data opcodes', () => {
  void it('protocol 0 text opcodes', () => {
    const v = load(pkl("((lp0\nI42\naL-12345678901234567890L\naF2.5\naS'a\\nb'\naVx\\u00e9y\naI01\naNatp1\n."));
    assert.ok(v instanceof PyTuple);
    const l = v.items[0] as PyValue[];
    assert.deepEqual(l, [42, -12345678901234567890n, 2.5, 'a\nb', 'xéy', true, null]);
  });
  void it('binary ints, LONG1 two\'s complement, BINFLOAT, booleans', () => {
    const v = load(pkl(0x80, 2, '(', 'J', [0xfe, 0xff, 0xff, 0xff], 'K', 200, 'M', [0x34, 0x12], 0x8a, 2, [0x00, 0x80], 0x8a, 0, 'G', [0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18], 0x88, 0x89, 't.'));
    assert.deepEqual((v as PyTuple).items, [-2, 200, 0x1234, -32768, 0, Math.PI, true, false]);
  });
  void it('strings and bytes of every width', () => {
    const v = load(pkl(0x80, 4, '(', 0x8c, 3, 'abc', 'X', u32(2), [0xc3, 0xa9], 0x8d, [1, 0, 0, 0, 0, 0, 0, 0], 'z', 'C', 2, [1, 2], 'B', u32(1), [9], 0x8e, [1, 0, 0, 0, 0, 0, 0, 0], [7], 'U', 2, 'hi', 't.'));
    const items = (v as PyTuple).items;
    assert.deepEqual(items.slice(0, 3), ['abc', 'é', 'z']);
    assert.deepEqual(items.slice(3, 6).map((b) => Array.from(b as Uint8Array)), [[1, 2], [9], [7]]);
    assert.equal(items[6], 'hi');
  });
  void it('dicts, sets, frozensets, tuples, memo and FRAME', () => {
    const body = pkl('}', 0x94, '(', 0x8c, 1, 'a', 'K', 1, 0x8c, 1, 'b', 0x8f, 0x94, '(', 'K', 3, 0x90, 'u', 'h', 1, 0x86, '.');
    const v = load(pkl(0x80, 4, 0x95, [body.length, 0, 0, 0, 0, 0, 0, 0], [...body]));
    const t = v as PyTuple;
    const d = t.items[0] as PyDict;
    assert.equal(d.get('a'), 1);
    assert.ok(d.get('b') instanceof PySet);
    assert.deepEqual((d.get('b') as PySet).items, [3]);
    assert.strictEqual(t.items[1], d.get('b'), 'memo returns the same object');
  });
  void it('protocol 2 bytes via _codecs.encode(str, latin1)', () => {
    const v = load(pkl(0x80, 2, 'c_codecs\nencode\n', 'X', u32(4), [0xc3, 0xbf, 0x41, 0x00], 'X', u32(6), 'latin1', 0x86, 'R.'));
    assert.deepEqual(Array.from(v as Uint8Array), [0xff, 0x41, 0x00]);
  });
  void it('allow-listed classes become inert records (REDUCE, NEWOBJ, NEWOBJ_EX, BUILD)', () => {
    const su = (x: string): (number | string)[] => [0x8c, x.length, x];
    const v = load(pkl(0x80, 4, ...su('sklearn.linear_model._base'), ...su('LinearRegression'), 0x93, ')', '}', 0x92, '}', 0x8c, 1, 'x', 'K', 5, 's', 'b.'));
    assert.ok(v instanceof PyObject);
    assert.equal(v.className, 'sklearn.linear_model._base.LinearRegression');
    assert.equal(v.attr('x'), 5);
  });
});

void describe('pickle reader: numpy arrays', () => {
  const dtype = (t: string, order: string): (number | number[] | string)[] => [
    'cnumpy\ndtype\n', 'X', u32(t.length), t, 0x89, 0x88, 0x87, 'R', '(', 'K', 3, 'X', u32(1), order, 'N', 'N', 'N', 'J', u32(0xffffffff), 'J', u32(0xffffffff), 'K', 0, 't', 'b',
  ];
  const reconstruct = ['cnumpy.core.multiarray\n_reconstruct\n', 'cnumpy\nndarray\n', 'K', 0, 0x85, 'C', 1, 'b', 0x87, 'R'];
  void it('plain _reconstruct + BUILD, C and Fortran order', () => {
    const data = new Float64Array([1, 2, 3, 4, 5, 6]);
    const raw = [...new Uint8Array(data.buffer)];
    for (const fortran of [false, true]) {
      const v = load(pkl(0x80, 3, ...reconstruct, '(', 'K', 1, 'K', 2, 'K', 3, 0x86, ...dtype('f8', '<'), fortran ? 0x88 : 0x89, 'B', u32(48), raw, 't', 'b.'));
      assert.ok(v instanceof NdArray);
      assert.deepEqual(v.shape, [2, 3]);
      // Fortran storage [1..6] means columns (1,2), (3,4), (5,6)
      assert.deepEqual(Array.from(toFloat64(v, 'a')), fortran ? [1, 3, 5, 2, 4, 6] : [1, 2, 3, 4, 5, 6]);
    }
  });
  void it('big-endian int32 and unicode labels', () => {
    const v = load(pkl(0x80, 3, ...reconstruct, '(', 'K', 1, 'K', 2, 0x85, ...dtype('i4', '>'), 0x89, 'B', u32(8), [0, 0, 0, 7, 0xff, 0xff, 0xff, 0xfe], 't', 'b.'));
    assert.deepEqual(toLabels(v, 'a'), [7, -2]);
  });
  void it('protocol 5 _frombuffer', () => {
    const raw = [...new Uint8Array(new Float32Array([0.5, -1.5]).buffer)];
    const v = load(pkl(0x80, 5, 'cnumpy.core.numeric\n_frombuffer\n', '(', 0x96, [8, 0, 0, 0, 0, 0, 0, 0], raw, ...dtype('f4', '<'), 'K', 2, 0x85, 'X', u32(1), 'C', 't', 'R.'));
    assert.deepEqual(Array.from(toFloat64(v, 'a')), [0.5, -1.5]);
  });
  void it('rejects data whose length does not match the shape', () => {
    assert.throws(() => load(pkl(0x80, 3, ...reconstruct, '(', 'K', 1, 'K', 3, 0x85, ...dtype('f8', '<'), 0x89, 'B', u32(8), [0, 0, 0, 0, 0, 0, 0, 0], 't', 'b.')), /needs 24 bytes, got 8/);
  });
});

void describe('joblib containers', () => {
  void it('every compressor yields the same pickle stream as the uncompressed dump', () => {
    for (const model of ['iris_rfc', 'reg_gbr', 'iris_pipe_std_logreg', 'iris_obj_dtc']) {
      const plain = readPickledObject(fixture(`models/${model}.joblib`), resolveLimits());
      assert.equal(plain.container, 'pickle');
      for (const [ext, container] of [['z', 'zlib'], ['gz', 'gzip'], ['bz2', 'bz2'], ['xz', 'xz'], ['lzma', 'lzma']] as const) {
        const r = readPickledObject(fixture(`models/${model}.joblib.${ext}`), resolveLimits());
        assert.equal(r.container, container);
        assert.equal((r.root as PyObject).className, (plain.root as PyObject).className);
      }
    }
  });
  void it('reads joblib <= 1.1 arrays (no alignment padding) and the ZF container', () => {
    assert.equal(readPickledObject(fixture('models/iris_rfc.legacy-joblib11.joblib'), resolveLimits()).container, 'pickle');
    assert.equal(readPickledObject(fixture('models/reg_ridge.zf.pkl'), resolveLimits()).container, 'joblib-zf');
  });
});
