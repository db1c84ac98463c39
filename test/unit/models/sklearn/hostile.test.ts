// Hostile and corrupt artifacts: every one must end in an SklearnLoadError naming the
// problem, never run anything, crash, hang or allocate without bound.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import { describe, it, before, after } from 'node:test';
import fc from 'fast-check';
import { loadSklearnModel, SklearnLoadError } from '../../../../src/models/sklearn/index.js';
import type { SklearnLoadErrorCode } from '../../../../src/models/sklearn/index.js';
import { fixture, FIXTURES } from './helpers.js';

interface HostileCase {
  file: string;
  error: string;
}
const hostile = JSON.parse(readFileSync(join(FIXTURES, 'hostile.json'), 'utf8')) as { marker: string; cases: HostileCase[] };

function refuses(bytes: Uint8Array, text: string | RegExp, code?: SklearnLoadErrorCode, limits?: Parameters<typeof loadSklearnModel>[1]): void {
  assert.throws(
    () => loadSklearnModel(bytes, limits),
    (e: unknown) => {
      assert.ok(e instanceof SklearnLoadError, `expected SklearnLoadError, got ${String(e)}`);
      if (typeof text === 'string') assert.ok(e.message.includes(text), `message ${JSON.stringify(e.message)} should contain ${JSON.stringify(text)}`);
      else assert.match(e.message, text);
      if (code) assert.equal(e.code, code);
      return true;
    },
  );
}

const enc = (s: string): number[] => [...Buffer.from(s, 'latin1')];
const pkl = (...parts: (number | number[] | Uint8Array | string)[]): Uint8Array =>
  Buffer.concat(parts.map((p) => Uint8Array.from(typeof p === 'number' ? [p] : typeof p === 'string' ? enc(p) : p)));
const repeat = (byte: number, n: number): Uint8Array => new Uint8Array(n).fill(byte);

void describe('hostile fixtures from make_fixtures.py', () => {
  before(() => rmSync(hostile.marker, { force: true }));
  after(() => assert.equal(existsSync(hostile.marker), false, `marker ${hostile.marker} must never be created`));
  for (const c of hostile.cases) {
    void it(c.file, () => refuses(fixture(c.file), c.error));
  }
  void it('forbidden globals are reported with code FORBIDDEN_GLOBAL and the global named', () => {
    refuses(fixture('hostile/posix_system.pkl'), "'posix.system'", 'FORBIDDEN_GLOBAL');
    refuses(fixture('hostile/os_system_raw.pkl'), "'os.system'", 'FORBIDDEN_GLOBAL');
    refuses(fixture('hostile/subprocess_popen.pkl'), "'subprocess.Popen'", 'FORBIDDEN_GLOBAL');
    refuses(fixture('hostile/builtins_exec_p2.pkl'), "'builtins.exec' (written as '__builtin__.exec')", 'FORBIDDEN_GLOBAL');
  });
  void it('an unsupported sklearn estimator is named', () => {
    refuses(fixture('hostile/svc.joblib'), 'unsupported estimator sklearn.svm._classes.SVC', 'UNSUPPORTED_ESTIMATOR');
  });
});

void describe('hand-made hostile streams', () => {
  const cmd = 'touch /tmp/modelfn-sklearn-pwned';
  void it('refuses forbidden globals whatever opcode spells them', () => {
    refuses(pkl(0x80, 2, 'cnt\nsystem\n', 'X', [cmd.length, 0, 0, 0], cmd, 0x85, 'R.'), "'nt.system'");
    refuses(pkl(0x80, 4, 0x8c, 8, 'builtins', 0x8c, 10, '__import__', 0x93, '.'), "'builtins.__import__'");
    refuses(pkl('cimportlib\nimport_module\n.'), "'importlib.import_module'");
    refuses(pkl('csklearn.utils\nsomething_callable\n.'), "'sklearn.utils.something_callable'");
    refuses(pkl(0x80, 4, 0x8c, 5, 'numpy', 0x8c, 4, 'load', 0x93, '.'), "'numpy.load'");
  });
  void it('refuses persistent ids, the extension registry and INST/OBJ', () => {
    refuses(pkl(0x80, 2, 'N', 0x51, '.'), 'BINPERSID', 'UNSUPPORTED_FORMAT');
    refuses(pkl(0x80, 2, 0x82, 1, '.'), 'EXT1', 'UNSUPPORTED_FORMAT');
    refuses(pkl('(ios\nsystem\n.'), 'INST', 'UNSUPPORTED_FORMAT');
    refuses(pkl(0x80, 5, 0x97, '.'), 'NEXT_BUFFER', 'UNSUPPORTED_FORMAT');
  });
  void it('refuses unknown opcodes, future protocols, underflow and empty input', () => {
    refuses(pkl(0x80, 2, 0xff), 'unknown pickle opcode 0xff', 'CORRUPT');
    refuses(pkl(0x80, 6, 'N.'), 'protocol 6', 'UNSUPPORTED_FORMAT');
    refuses(pkl(0x80, 2, 'R.'), 'stack underflow', 'CORRUPT');
    refuses(pkl(0x80, 2, 'a.'), 'stack underflow', 'CORRUPT');
    refuses(pkl(0x80, 2, ']N'), 'truncated', 'CORRUPT');
    refuses(new Uint8Array(0), 'empty file', 'CORRUPT');
    refuses(pkl(0x80, 2, '}NNa.'), 'not a list', 'CORRUPT');
  });
  void it('refuses huge declared lengths before allocating', () => {
    refuses(pkl(0x80, 4, 0x8d, [0, 0, 0, 0, 0, 0, 0, 1], '.'), 'BINUNICODE8', 'LIMIT');
    refuses(pkl(0x80, 4, 0x95, [0xff, 0xff, 0xff, 0, 0, 0, 0, 0], 'N.'), 'FRAME', 'CORRUPT');
    refuses(pkl(0x80, 2, 'B', [0xff, 0xff, 0xff, 0x7f], 'x.'), 'BINBYTES', 'CORRUPT');
    refuses(pkl(0x80, 2, 0x8b, [0xff, 0xff, 0xff, 0x7f], '.'), 'LONG4', 'LIMIT');
  });
  void it('caps nesting, memo and stack', () => {
    refuses(pkl(0x80, 2, repeat(0x28, 5000), '.'), 'MARK depth', 'LIMIT');
    refuses(pkl(0x80, 2, 'N', 0x72, [1, 0, 0, 0], 'N', 0x72, [2, 0, 0, 0], '.'), 'memo', 'LIMIT', { limits: { maxMemoEntries: 1 } });
    refuses(pkl(0x80, 2, 'N', repeat(0x32, 100), '.'), 'stack', 'LIMIT', { limits: { maxStackSize: 50 } });
    refuses(pkl(0x80, 2, 0x6a, [0xff, 0xff, 0xff, 0xff], '.'), 'memo key 4294967295', 'CORRUPT');
  });
  void it('deeply nested lists load without recursion (and are not an estimator)', () => {
    // 200k nested lists built with EMPTY_LIST + APPEND: the reader is iterative
    const n = 200_000;
    const bytes = pkl(0x80, 2, repeat(0x5d, n), repeat(0x61, n - 1), '.');
    refuses(bytes, 'not a scikit-learn estimator', 'UNSUPPORTED_ESTIMATOR');
  });
  void it('caps decompressed size (zlib, gzip)', () => {
    const big = new Uint8Array(4 << 20);
    refuses(deflateSync(big), 'exceeds the limit', 'LIMIT', { limits: { maxDecompressedBytes: 1 << 20 } });
    refuses(gzipSync(big), 'exceeds the limit', 'LIMIT', { limits: { maxDecompressedBytes: 1 << 20 } });
  });
  void it('caps decompressed size (bz2, xz, lzma) and array bytes', () => {
    for (const f of ['models/iris_rfc.joblib.bz2', 'models/iris_rfc.joblib.xz', 'models/iris_rfc.joblib.lzma']) {
      refuses(fixture(f), 'exceeds the limit', 'LIMIT', { limits: { maxDecompressedBytes: 4096 } });
    }
    refuses(fixture('models/iris_rfc.joblib'), 'array', 'LIMIT', { limits: { maxArrayBytes: 2048 } });
  });
  void it('reports corrupt compressed streams', () => {
    for (const f of ['models/reg_gbr.joblib.z', 'models/reg_gbr.joblib.gz', 'models/reg_gbr.joblib.bz2', 'models/reg_gbr.joblib.xz', 'models/reg_gbr.joblib.lzma']) {
      const b = fixture(f);
      const cut = b.slice(0, Math.floor(b.length / 2));
      refuses(cut, /truncated|corrupt|unexpected end/i, 'CORRUPT');
      const flipped = b.slice();
      for (let i = 40; i < flipped.length; i += 97) flipped[i]! ^= 0x5a;
      refuses(flipped, /./);
    }
  });
  void it('refuses lz4 and joblib < 0.10 side-file arrays with a precise message', () => {
    refuses(pkl([0x04, 0x22, 0x4d, 0x18], 0, 0), 'lz4', 'UNSUPPORTED_FORMAT');
    refuses(pkl(0x80, 2, 'cjoblib.numpy_pickle_compat\nNDArrayWrapper\n)\x81}b.'), 'side files', 'UNSUPPORTED_FORMAT');
  });
});

void describe('fuzzing', () => {
  // Random corruption of real model files: loading must either succeed or throw an
  // SklearnLoadError; any other exception (TypeError, RangeError, stack overflow) is a bug.
  const sources = ['models/iris_rfc.joblib', 'models/bin_gbc.p2.pkl', 'models/reg_pipe_std_minmax_ridge.p5.pkl', 'models/iris_obj_dtc.joblib', 'models/reg2_dtr_v13.joblib'].map(fixture);
  void it('mutated files only ever fail with SklearnLoadError', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: sources.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        fc.option(fc.nat()),
        (which, edits, cutAt) => {
          const src = sources[which]!;
          const b = src.slice(0, cutAt === null ? src.length : cutAt % (src.length + 1));
          for (const [pos, val] of edits) if (b.length) b[pos % b.length] = val;
          try {
            const m = loadSklearnModel(b);
            m.predict(new Float64Array(m.nFeatures), 1);
          } catch (e) {
            if (!(e instanceof SklearnLoadError) && !(e instanceof Error && e.name === 'SklearnInputError')) throw e;
          }
        },
      ),
      { numRuns: 400, seed: 42 },
    );
  });
});

void describe('estimator nesting', () => {
  void it('refuses pipelines nested without end', () => {
    // Pipeline(steps=[('p', Pipeline(steps=[('p', ...)]))]) 40 levels deep, built by memo reuse
    const enc2 = (s: string): number[] => [...Buffer.from(s, 'latin1')];
    const open = [...enc2('csklearn.pipeline\nPipeline\n)'), 0x81, 0x7d, ...enc2('X'), 5, 0, 0, 0, ...enc2('steps'), 0x5d, 0x8c, 1, ...enc2('p')];
    const close = [0x86, 0x61, 0x73, 0x62]; // TUPLE2 APPEND SETITEM BUILD
    const parts: number[] = [0x80, 2];
    for (let i = 0; i < 40; i++) parts.push(...open);
    parts.push(...enc2('csklearn.preprocessing._data\nStandardScaler\n)'), 0x81);
    for (let i = 0; i < 40; i++) parts.push(...close);
    parts.push(0x2e);
    refuses(Uint8Array.from(parts), 'nested more than 32', 'LIMIT');
  });
});
