import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { InstanceExit } from '../../../src/runtimes/runtime.js';
import { NodejsRuntime } from '../../../src/runtimes/nodejs/nodejs-runtime.js';
import { stemCellBlocker } from '../../../src/runtimes/nodejs/stem-cell.js';
import { PythonRuntime } from '../../../src/runtimes/python/python-runtime.js';
import { StemCellPool } from '../../../src/runtimes/stem-cells/stem-cell-pool.js';
import { StemCells } from '../../../src/runtimes/stem-cells/stem-cells.js';
import { eventually } from '../../support/platform.js';
import { PYTHON3, need, requirements } from '../../support/requirements.js';
import { RuntimeHarness, okJson } from './runtime-harness.js';

class FakeCell {
  alive = true;
  readonly pid = undefined;
  readonly exited: Promise<InstanceExit>;
  private exit!: (e: InstanceExit) => void;
  constructor(readonly key: string) {
    this.exited = new Promise((resolve) => (this.exit = resolve));
  }
  kill(): void {
    if (!this.alive) return;
    this.alive = false;
    this.exit({ code: null, signal: 'SIGKILL' });
  }
}

function pool(hub: StemCells, spawned: FakeCell[], perKind = 2, maxKinds = 2) {
  return new StemCellPool<FakeCell>({
    runtime: 'fake',
    hub,
    spawn: (key) => {
      const cell = new FakeCell(key);
      spawned.push(cell);
      return cell;
    },
    estimateMb: () => 40,
    perKind,
    maxKinds,
    refillDelayMs: 1,
  });
}

test('a stem-cell pool keeps cells per kind, hands each out once, refills, and stays in its memory budget', async () => {
  const hub = new StemCells({ enabled: true, budgetMb: 150 });
  const spawned: FakeCell[] = [];
  const p = pool(hub, spawned);
  p.prime('128');
  assert.equal(p.size, 2);
  assert.equal(hub.usedMb, 80);
  const [a, b] = spawned;
  assert.equal(p.take('128'), a, 'the oldest first');
  assert.equal(p.take('128'), b);
  assert.equal(p.take('128'), undefined, 'empty until refilled');
  await eventually(() => p.size === 2, 2000, 'refilled');
  assert.equal(hub.usedMb, 80, 'taken cells are no longer charged (they are instances now)');
  // A second kind: only one more cell fits in 150 MB.
  p.prime('256');
  assert.equal(hub.usedMb, 120);
  assert.deepEqual(p.stats().kinds.map((k) => [k.key, k.ready + k.starting]), [['128', 2], ['256', 1]]);
  // A dead cell is never handed out.
  const waiting = spawned.filter((c) => c.key === '128' && c.alive && c !== a && c !== b);
  waiting[0]!.kill();
  await new Promise((r) => setImmediate(r));
  assert.equal(p.take('128'), waiting[1]);
  // A third kind evicts the least recently used one ('256', primed before 128's refill) and stops its cells.
  await eventually(() => p.stats().kinds.find((k) => k.key === '128')?.ready === 2, 2000, 'refilled again');
  p.prime('512');
  assert.deepEqual(p.stats().kinds.map((k) => k.key), ['128', '512']);
  assert.ok(spawned.filter((c) => c.key === '256').every((c) => !c.alive), 'the evicted kind\'s cells are stopped');
  const stats = p.stats();
  assert.equal(stats.hits, 3);
  assert.equal(stats.misses, 1);
  await p.close();
  assert.ok(spawned.filter((c) => c !== a && c !== b && c !== waiting[1]).every((c) => !c.alive), 'close stops every waiting cell');
  assert.equal(hub.usedMb, 0);
});

test('stem cells switched off: nothing is started, every take is a miss', () => {
  const spawned: FakeCell[] = [];
  const p = pool(StemCells.off(), spawned);
  p.prime('128');
  assert.equal(p.take('128'), undefined);
  assert.equal(spawned.length, 0);
});

test('variables only Node.js start-up reads keep a function off stem cells', () => {
  assert.equal(stemCellBlocker({ GREETING: 'hi', TZ: 'Europe/Paris' }), undefined);
  assert.match(stemCellBlocker({ NODE_PATH: '/x', UV_THREADPOOL_SIZE: '8', A: 'b' })!, /NODE_PATH, UV_THREADPOOL_SIZE/);
  assert.match(stemCellBlocker({ LANG: 'fr_FR.UTF-8' })!, /LANG/);
});

test('a Node.js stem cell takes exactly the instance\'s environment and folder, and reports its phases', async () => {
  const hub = new StemCells({ enabled: true, budgetMb: 512 });
  const runtime = new NodejsRuntime({ stemCells: hub, stemCellsPerSize: 1 });
  const harness = await RuntimeHarness.create(runtime);
  // The fixture folder sits inside this package ("type": "module"): copy it out, as a bundle would be.
  const code = await mkdtemp(join(tmpdir(), 'modelfn-stem-code-'));
  try {
    await writeFile(join(code, 'index.js'), 'exports.handler = async () => ({ pid: process.pid, cwd: process.cwd(), env: process.env });\n');
    runtime.prime(256);
    const config = { runtime: 'nodejs20.x', handler: 'index.handler', memoryMb: 256, environment: { GREETING: 'hi' } };
    await eventually(() => runtime.stemCellCount === 1 && hub.stats().runtimes[0]!.kinds[0]!.ready === 1, 10_000, 'a ready stem cell');
    const spec = await harness.spec(code, config);
    const instance = await runtime.start(spec);
    const out = okJson(await harness.invoke(instance, {})) as { pid: number; cwd: string; env: Record<string, string> };
    assert.deepEqual(out.env, { ...spec.env, NODE_OPTIONS: '' }, 'the environment wholesale, nothing else');
    assert.equal(out.cwd, code);
    assert.equal(instance.initPhases?.stemCell, true);
    for (const phase of ['processStartMs', 'runtimeInitMs', 'userInitMs'] as const) assert.equal(typeof instance.initPhases?.[phase], 'number', phase);
    const environ = await readFile(`/proc/${out.pid}/environ`, 'utf8');
    assert.ok(!environ.includes('MODELFN_TEST'), 'the process was started without the platform\'s environment');
    instance.kill();
    // Without a stem cell (none of 128 MB), a new process: the same contract.
    const fresh = await runtime.start(await harness.spec(code, { ...config, memoryMb: 128 }));
    const outFresh = okJson(await harness.invoke(fresh, {})) as { env: Record<string, string> };
    assert.equal(fresh.initPhases?.stemCell, false);
    assert.equal(outFresh.env.GREETING, 'hi');
    fresh.kill();
  } finally {
    await harness.close();
    await runtime.close();
    await rm(code, { recursive: true, force: true });
  }
});

test('Python instances report their init phases (fresh and forked); the phases line is not logged', async (t) => {
  if (!need(t, requirements.python3)) return;
  const harness = await RuntimeHarness.create((root) => new PythonRuntime({ python: PYTHON3, preload: [], workDir: join(root, 'zygote'), stemCells: new StemCells({ enabled: true, budgetMb: 512 }) }));
  const runtime = harness.runtime as PythonRuntime;
  try {
    const fresh = await harness.start('py-basic');
    assert.equal(fresh.initPhases?.stemCell, false, 'the zygote was not ready: a fresh interpreter');
    for (const phase of ['processStartMs', 'runtimeInitMs', 'userInitMs'] as const) assert.equal(typeof fresh.initPhases?.[phase], 'number', phase);
    await runtime.zygote()!.start();
    const forked = await harness.start('py-basic');
    assert.equal(forked.initPhases?.stemCell, true);
    assert.ok(forked.initPhases!.processStartMs! < fresh.initPhases!.processStartMs! + 1000);
    okJson(await harness.invoke(forked, {}));
    assert.ok(!harness.text().includes('modelfn-init'), harness.text());
  } finally {
    await harness.close();
    await runtime.close();
  }
});
