import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { test } from 'node:test';
import { descendantsOf } from '../../src/runtimes/sandbox/process-tree.js';
import { CLI, fixture, invoke, mustDeploy, startPlatform } from '../support/platform.js';
import type { RunningPlatform } from '../support/platform.js';
import { PYTHON3, need, requirements } from '../support/requirements.js';

// Instances run under SCHED_BATCH by default (src/runtimes/process/instance-scheduling.ts): a woken
// instance does not preempt the gateway that woke it. The class is read back from the kernel.

const POLICY_NAMES: Record<number, string> = { 0: 'SCHED_OTHER', 3: 'SCHED_BATCH' };

/** The scheduling policy of every thread of a process, as the kernel reports it. */
async function policiesOf(pid: number): Promise<string[]> {
  const out: string[] = [];
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    const sched = await readFile(`/proc/${pid}/task/${tid}/sched`, 'utf8');
    const policy = Number(/^policy\s*:\s*(\d+)/m.exec(sched)?.[1]);
    out.push(POLICY_NAMES[policy] ?? `policy ${policy}`);
  }
  return [...new Set(out)];
}

async function pidOf(p: RunningPlatform, name: string, event: unknown = {}): Promise<number> {
  const res = await invoke(p.url, name, event);
  assert.equal(res.status, 200, res.body);
  return (res.json() as { pid: number }).pid;
}

test('instances run under SCHED_BATCH by default: Node.js (stem cell and fresh process) and Python (zygote fork)', async (t) => {
  if (!need(t, requirements.chrt)) return;
  const p = await startPlatform({ args: ['--python', PYTHON3] });
  try {
    assert.match(p.output(), /scheduling: instances under SCHED_BATCH/);
    await mustDeploy(p.url, 'node', fixture('functions', 'echo'));
    assert.deepEqual(await policiesOf(await pidOf(p, 'node')), ['SCHED_BATCH']);
    // A function whose NODE_OPTIONS keeps it off stem cells starts its own process.
    await mustDeploy(p.url, 'fresh', fixture('functions', 'echo'), { environment: { NODE_OPTIONS: '--no-warnings' } });
    assert.deepEqual(await policiesOf(await pidOf(p, 'fresh')), ['SCHED_BATCH']);
    if (requirements.python3.available()) {
      await mustDeploy(p.url, 'py', fixture('functions', 'py-basic'), { runtime: 'python3.11', handler: 'lambda_function.lambda_handler', memoryMb: 256 });
      assert.deepEqual(await policiesOf(await pidOf(p, 'py', { name: 'x' })), ['SCHED_BATCH']);
    } else t.diagnostic('python3 missing: the Python case was not checked');
    // The platform itself keeps the default class: it is the one that must not be preempted.
    assert.deepEqual(await policiesOf(p.proc.pid!), ['SCHED_OTHER']);
  } finally {
    await p.cleanup();
  }
});

test('--instance-scheduling normal keeps instances under SCHED_OTHER; a bad value is refused with a message', async (t) => {
  if (!need(t, requirements.chrt)) return;
  const p = await startPlatform({ args: ['--instance-scheduling', 'normal'] });
  try {
    assert.match(p.output(), /scheduling: instances under SCHED_OTHER/);
    await mustDeploy(p.url, 'node', fixture('functions', 'echo'));
    assert.deepEqual(await policiesOf(await pidOf(p, 'node')), ['SCHED_OTHER']);
  } finally {
    await p.cleanup();
  }
  const bad = spawn(process.execPath, [CLI, 'up', '--port', '0', '--data-dir', '/nonexistent-modelfn', '--instance-scheduling', 'fast'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  bad.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((resolve) => bad.once('exit', resolve));
  assert.notEqual(code, 0);
  assert.match(err, /instanceScheduling.*must be "batch" or "normal"/);
});

test('sandboxed: every process the platform starts (bwrap, the runtimes inside, stem cells, the zygote) runs under SCHED_BATCH', async (t) => {
  if (!need(t, requirements.chrt, requirements.bwrap)) return;
  const p = await startPlatform({ sandbox: true, args: ['--python', PYTHON3] });
  try {
    await mustDeploy(p.url, 'node', fixture('functions', 'echo'));
    assert.equal((await invoke(p.url, 'node', {})).status, 200);
    if (requirements.python3.available()) {
      await mustDeploy(p.url, 'py', fixture('functions', 'py-basic'), { runtime: 'python3.11', handler: 'lambda_function.lambda_handler', memoryMb: 256 });
      assert.equal((await invoke(p.url, 'py', { name: 'x' })).status, 200);
    }
    const procs = descendantsOf(p.proc.pid!).slice(1);
    assert.ok(procs.length >= 2, `the platform runs processes: ${procs.join(', ')}`);
    for (const pid of procs) {
      const policies = await policiesOf(pid).catch(() => ['gone']);
      if (policies[0] === 'gone') continue;
      const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').join(' ').slice(0, 120);
      assert.deepEqual(policies, ['SCHED_BATCH'], `pid ${pid} (${cmd})`);
    }
  } finally {
    await p.cleanup();
  }
});
