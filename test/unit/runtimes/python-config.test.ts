import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { forkBlocker } from '../../../src/runtimes/python/fork-eligibility.js';
import { resolvePython } from '../../../src/runtimes/python/interpreter.js';
import { PythonRuntime } from '../../../src/runtimes/python/python-runtime.js';
import { loadConfig } from '../../../src/server/config.js';
import { isModelfnError } from '../../../src/shared/errors.js';

describe('Python runtime configuration', () => {
  test('interpreter, preload list and zygote switch from the environment; flags win', () => {
    const config = loadConfig({ MODELFN_PYTHON: '/opt/py/bin/python3', MODELFN_PYTHON_PRELOAD: 'numpy, sklearn.ensemble,,joblib', MODELFN_PYTHON_ZYGOTE: '0' }, {});
    assert.equal(config.python, '/opt/py/bin/python3');
    assert.deepEqual(config.pythonPreload, ['numpy', 'sklearn.ensemble', 'joblib']);
    assert.equal(config.pythonZygote, false);
    const flags = loadConfig({ MODELFN_PYTHON: '/a' }, { python: '/b', pythonZygote: undefined });
    assert.equal(flags.python, '/b');
    assert.equal(flags.pythonZygote, true, 'on by default');
    assert.equal(loadConfig({}, {}).pythonPreload, undefined, 'unset: the runtime default list');
  });

  test('a preload entry that is not a module name is refused, naming the field', () => {
    assert.throws(() => loadConfig({ MODELFN_PYTHON_PRELOAD: 'numpy,os; rm -rf /' }, {}), (err: unknown) => {
      assert.ok(isModelfnError(err, 'INVALID_PARAMETER'));
      assert.match(err.message, /pythonPreload\.1: must be module names like numpy or sklearn\.ensemble/);
      return true;
    });
    assert.throws(() => loadConfig({ MODELFN_PYTHON_ZYGOTE: 'maybe' }, {}), /pythonZygote/);
  });

  test('the interpreter: configured path or name, else /usr/bin/python3, else python3 on PATH', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'modelfn-python-path-'));
    try {
      const fake = join(dir, 'python3');
      await writeFile(fake, '#!/bin/sh\n');
      await chmod(fake, 0o755);
      assert.equal(resolvePython(fake, ''), fake);
      assert.equal(resolvePython('python3', dir), fake, 'a bare name is looked up on PATH');
      assert.equal(resolvePython(join(dir, 'missing'), dir), undefined, 'a configured interpreter that does not exist is not replaced');
      await writeFile(join(dir, 'not-exec'), '');
      assert.equal(resolvePython(join(dir, 'not-exec'), ''), undefined);
      const fallback = resolvePython(undefined, dir);
      assert.ok(fallback === '/usr/bin/python3' || fallback === fake);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('deploying python3.x without an interpreter is a 400 that says what to do', () => {
    const runtime = new PythonRuntime({ python: '/nonexistent/python3', workDir: tmpdir() });
    assert.equal(runtime.interpreter, undefined);
    assert.throws(() => runtime.validate({ runtime: 'python3.12', handler: 'lambda_function.lambda_handler' }), (err: unknown) => {
      assert.ok(isModelfnError(err, 'INVALID_PARAMETER'));
      assert.equal(err.status, 400);
      assert.match(err.message, /^runtime python3\.12 needs a Python interpreter and none was found \(looked for "\/nonexistent\/python3"\)/);
      return true;
    });
    assert.ok(runtime.identifiers.includes('python3.11') && runtime.identifiers.includes('python3.13'));
  });
});

describe('fork eligibility', () => {
  const zygote = { python: '3.11', modules: new Set(['numpy', 'joblib', 'sklearn', 'scipy']) };

  test('variables only a fresh interpreter reads prevent the fork', async () => {
    assert.equal(await forkBlocker({ MODEL: 'x', LOG_LEVEL: 'debug' }, '/nonexistent', zygote), undefined);
    for (const name of ['PYTHONPATH', 'PYTHONHASHSEED', 'OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'SKLEARN_ASSUME_FINITE', 'LD_PRELOAD']) {
      assert.match((await forkBlocker({ [name]: '1' }, '/nonexistent', zygote))!, new RegExp(`sets ${name}`));
    }
  });

  test('a bundle shipping its own copy of a preloaded module is not forked', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'modelfn-fork-'));
    try {
      await writeFile(join(dir, 'lambda_function.py'), '');
      await writeFile(join(dir, 'model.joblib'), '');
      assert.equal(await forkBlocker({}, dir, zygote), undefined, 'a model file named *.joblib is not a module');
      const layer = join(dir, 'python', 'lib', 'python3.11', 'site-packages');
      await mkdir(join(layer, 'numpy'), { recursive: true });
      await mkdir(join(dir, 'vendor'), { recursive: true });
      await writeFile(join(dir, 'vendor', 'joblib.py'), '');
      await writeFile(join(dir, 'scipy.cpython-311-x86_64-linux-gnu.so'), '');
      // (A bundle never changes under its path; the trailing slash is a new path for the cache.)
      const reason = (await forkBlocker({}, `${dir}/`, zygote))!;
      assert.match(reason, /ships /);
      for (const name of ['numpy', 'joblib', 'scipy']) assert.ok(reason.includes(name), reason);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
