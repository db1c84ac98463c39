import assert from 'node:assert/strict';
import { readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InstanceDied } from '../../../src/runtimes/runtime.js';
import { PythonRuntime } from '../../../src/runtimes/python/python-runtime.js';
import type { Zygote } from '../../../src/runtimes/python/zygote.js';
import { eventually } from '../../support/platform.js';
import { PYTHON3, need, requirements } from '../../support/requirements.js';
import { RuntimeHarness, okJson } from './runtime-harness.js';

// Forking instances from a pre-initialised interpreter: what must not be shared, what must be
// re-done in the child, when not to fork, and surviving the zygote's death.

interface ForkReport {
  pid: number;
  ppid: number;
  sid: number;
  pgid: number;
  random: number;
  numpy_random: number | null;
  numpy_loaded_before_handler: boolean;
  fds: Record<string, string>;
  tempdir: string;
  env: Record<string, string>;
  stdout_is_socket: boolean;
}

async function fdTargets(pid: number): Promise<Set<string>> {
  const targets = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    if (target) targets.add(target);
  }
  return targets;
}

describe('Python zygote', () => {
  let harness: RuntimeHarness;
  let runtime: PythonRuntime;
  let zygote: Zygote;

  before(async () => {
    harness = await RuntimeHarness.create(
      (root) => (runtime = new PythonRuntime({ python: PYTHON3, preload: ['numpy', 'joblib'], workDir: join(root, 'zygote') })),
    );
    zygote = runtime.zygote()!;
  });
  after(async () => {
    await harness.close();
    await runtime.close();
    assert.deepEqual(await harness.processes(), [], 'no instance or zygote process survives');
  });

  test('forked instances share no socket, pipe or random state with the zygote or each other', async (t) => {
    if (!need(t, requirements.sklearn)) return;
    const info = await zygote.start();
    assert.ok(info.loaded.includes('numpy'));
    assert.ok(info.modules.has('numpy'), 'numpy is reported as preloaded');
    const [a, b] = await Promise.all([harness.start('py-fork'), harness.start('py-fork')]);
    const [ra, rb] = (await Promise.all([harness.invoke(a!, { numpy: true }), harness.invoke(b!, { numpy: true })])).map(okJson) as ForkReport[];
    for (const [report, instance] of [[ra!, a!], [rb!, b!]] as const) {
      assert.equal(report.ppid, info.pid, 'the zygote is the parent');
      assert.equal(report.pid, instance.pid);
      assert.equal(report.sid, report.pid, 'a session leader of its own');
      assert.equal(report.pgid, report.pid, 'a process group of its own (kill reaches it by pid)');
      assert.equal(report.numpy_loaded_before_handler, true, 'numpy came with the fork');
      assert.equal(report.stdout_is_socket, true);
      assert.equal(report.fds['0'], '/dev/null');
      assert.match(report.tempdir, new RegExp(`^${harness.root}/[0-9a-f]{16}/tmp$`), 'the instance temp dir, not the zygote one');
      assert.equal(report.env.TMPDIR, report.tempdir);
      assert.equal(report.env.MODELFN_TEST, undefined);
    }
    assert.notEqual(ra!.random, rb!.random, 'random is reseeded in every child');
    assert.notEqual(ra!.numpy_random, rb!.numpy_random, "numpy's global RandomState is reseeded in every child");
    assert.notEqual(ra!.env.AWS_LAMBDA_RUNTIME_API, rb!.env.AWS_LAMBDA_RUNTIME_API, 'one Runtime API listener per instance');

    const zygoteFds = await fdTargets(info.pid);
    const shared = (x: ForkReport, y: Set<string>) =>
      Object.values(x.fds).filter((target) => /^(socket|pipe|anon_inode):/.test(target) && y.has(target));
    assert.deepEqual(shared(ra!, zygoteFds), [], 'nothing shared with the zygote');
    assert.deepEqual(shared(rb!, zygoteFds), [], 'nothing shared with the zygote');
    assert.deepEqual(shared(ra!, new Set(Object.values(rb!.fds))), [], 'nothing shared between siblings');
  });

  test('no fork when it would not be faithful: start-time variables, a bundled copy of a preloaded module', async (t) => {
    if (!need(t, requirements.sklearn)) return;
    await zygote.start();
    const threads = okJson(await harness.invoke(await harness.start('py-fork', { environment: { OPENBLAS_NUM_THREADS: '1' } }), {})) as ForkReport;
    assert.equal(threads.ppid, process.pid, 'OPENBLAS_NUM_THREADS needs a fresh interpreter');
    assert.equal(threads.env.OPENBLAS_NUM_THREADS, '1');
    const shadow = okJson(await harness.invoke(await harness.start('py-shadow'), {})) as { joblib: string; ppid: number };
    assert.deepEqual(shadow, { joblib: 'bundled-joblib', ppid: process.pid }, "the bundle's joblib, not the zygote's");
    const plain = okJson(await harness.invoke(await harness.start('py-fork'), {})) as ForkReport;
    assert.equal(plain.ppid, zygote.ready!.pid, 'everything else is forked');
  });

  test('kill reaches a forked instance; its exit status comes from the zygote', async () => {
    await zygote.start();
    const sleeper = await harness.start('py-errors', { handler: 'lambda_function.sleeps' });
    assert.notEqual(sleeper.pid, undefined);
    const pending = harness.invoke(sleeper, { seconds: 30 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    sleeper.kill();
    await assert.rejects(pending, InstanceDied);
    assert.deepEqual(await sleeper.exited, { code: null, signal: 'SIGKILL' });
    const exits = await harness.start('py-errors', { handler: 'lambda_function.exits' });
    await assert.rejects(harness.invoke(exits, {}), (err: unknown) => err instanceof InstanceDied && err.exit.code === 3);
  });

  test('the zygote dies: its instances keep serving, starts fall back, then it is restarted', async () => {
    const first = await zygote.start();
    const survivor = await harness.start('py-fork');
    const doomed = await harness.start('py-errors', { handler: 'lambda_function.exits' });
    assert.equal((okJson(await harness.invoke(survivor, {})) as ForkReport).ppid, first.pid);

    process.kill(first.pid, 'SIGKILL');
    await eventually(() => zygote.ready === undefined, 5000, 'the zygote death to be noticed');
    const fresh = okJson(await harness.invoke(await harness.start('py-fork'), {})) as ForkReport;
    assert.equal(fresh.ppid, process.pid, 'without a zygote, a fresh interpreter');
    assert.ok((okJson(await harness.invoke(survivor, { again: true })) as ForkReport).pid, 'an orphaned instance keeps serving');
    // Nobody reaps orphans for us: their exit is still noticed.
    await assert.rejects(harness.invoke(doomed, {}), InstanceDied);
    assert.equal(doomed.alive, false);

    const second = await eventually(() => zygote.ready, 60_000, 'the zygote to restart');
    assert.notEqual(second.pid, first.pid);
    const forked = okJson(await harness.invoke(await harness.start('py-fork'), {})) as ForkReport;
    assert.equal(forked.ppid, second.pid, 'forking again from the new zygote');
  });
});
