import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readlink } from 'node:fs/promises';
import { cli, eventually, fixture, instancePids, invoke, mustDeploy, startPlatform } from '../support/platform.js';
import type { RunningPlatform } from '../support/platform.js';

interface StemCellStats {
  enabled: boolean;
  usedMb: number;
  runtimes: Array<{ runtime: string; hits: number; misses: number; kinds: Array<{ key: string; ready: number; starting: number; memoryMb: number }> }>;
}

interface ColdStarts {
  coldStarts: Array<{ trigger: string; stemCell: boolean; requestId: string | null; initDurationMs: number; phases: Record<string, number | null> }>;
  keepAlive: Array<{ version: string; policy: string; mode: string; reason: string }>;
}

async function json<T>(url: string): Promise<T> {
  const res = await fetch(url);
  assert.equal(res.status, 200, `${url}: ${res.status}`);
  return (await res.json()) as T;
}

function nodeCells(stats: StemCellStats, key = '128'): number {
  return stats.runtimes.find((r) => r.runtime === 'nodejs')?.kinds.find((k) => k.key === key)?.ready ?? 0;
}

/** The host pid of an instance that reported `pid@pid:[namespace]` from inside. */
async function hostPidOf(p: RunningPlatform, proc: string): Promise<number> {
  const [pid, ns] = proc.split('@') as [string, string];
  if (!p.sandboxed) return Number(pid);
  for (const candidate of await instancePids(p.dataDir)) {
    if ((await readlink(`/proc/${candidate}/ns/pid`).catch(() => '')) === ns) return candidate;
  }
  throw new Error(`no instance process in ${ns}`);
}

function tail(res: { headers: Headers }): string {
  return Buffer.from(res.headers.get('x-amz-log-result') ?? '', 'base64').toString('utf8');
}

test('a Node.js cold start is served by a stem cell, reports its phases, and the pool refills', async () => {
  const p = await startPlatform();
  try {
    await mustDeploy(p.url, 'echo', fixture('functions', 'echo'));
    // The deploy warmed two stem cells of 128 MB; they are not instances.
    await eventually(async () => nodeCells(await json<StemCellStats>(`${p.url}/_modelfn/v1/stem-cells`)) === 2, 15_000, 'two ready stem cells');
    assert.deepEqual(await instancePids(p.dataDir), []);
    const res = await invoke(p.url, 'echo', { hello: 1 }, { 'x-amz-log-type': 'Tail' });
    assert.equal(res.status, 200);
    const log = tail(res);
    assert.match(log, /INIT_PHASES RequestId: \S+\tInit Duration: [\d.]+ ms\tFetch: [\d.]+ ms\tProcess Start: [\d.]+ ms\tRuntime Init: [\d.]+ ms\tUser Init: [\d.]+ ms\tFirst Invoke: [\d.]+ ms\tStem Cell: yes/);
    const body = res.json() as { pid: number };
    const running = await instancePids(p.dataDir);
    if (p.sandboxed) assert.equal(running.length, 1, 'one instance');
    else assert.deepEqual(running, [body.pid]);
    const cold = await json<ColdStarts>(`${p.url}/_modelfn/v1/functions/echo/cold-starts`);
    assert.equal(cold.coldStarts.length, 1);
    const c = cold.coldStarts[0]!;
    assert.equal(c.stemCell, true);
    assert.equal(c.trigger, 'request');
    assert.ok(c.requestId);
    for (const phase of ['fetchMs', 'processStartMs', 'runtimeInitMs', 'userInitMs', 'firstInvokeMs']) assert.equal(typeof c.phases[phase], 'number', phase);
    // Handing a started process its function is far below a process start.
    assert.ok(c.phases.processStartMs! < 100, `process start ${c.phases.processStartMs} ms`);
    // The pool refills in the background.
    const stats = await eventually(async () => {
      const s = await json<StemCellStats>(`${p.url}/_modelfn/v1/stem-cells`);
      return nodeCells(s) === 2 ? s : undefined;
    }, 15_000, 'the stem cells refilled');
    const node = stats.runtimes.find((r) => r.runtime === 'nodejs')!;
    assert.equal(node.hits, 1);
    assert.ok(stats.usedMb > 0 && stats.usedMb <= 512, `stem cells hold ${stats.usedMb} MB`);
    // The metrics have the phases, the first invocation included.
    const metrics = await (await fetch(`${p.url}/metrics`)).text();
    assert.match(metrics, /modelfn_cold_start_phase_seconds_count\{function="echo",version="\$LATEST",phase="first_invoke"\} 1/);
  } finally {
    await p.cleanup();
  }
});

test('stem cells carry nothing across functions: environment, folder, globals and the platform\'s environment', async () => {
  const p = await startPlatform({ env: { MODELFN_SECRET_OF_THE_PLATFORM: 'do-not-leak' } });
  try {
    await mustDeploy(p.url, 'probe-a', fixture('functions', 'stem-probe'), { environment: { ONLY_A: 'a' }, keepAliveSec: 0 });
    await mustDeploy(p.url, 'probe-b', fixture('functions', 'stem-probe'), { environment: { ONLY_B: 'b' } });
    await eventually(async () => nodeCells(await json<StemCellStats>(`${p.url}/_modelfn/v1/stem-cells`)) === 2, 15_000, 'two ready stem cells');
    const a = (await invoke(p.url, 'probe-a', { taint: true })).json() as { proc: string; env: Record<string, string>; mark: string };
    assert.equal(a.mark, 'probe-a');
    assert.equal(a.env.ONLY_A, 'a');
    // B takes a stem cell too (another one: each is used once), after A tainted its own process.
    await eventually(async () => nodeCells(await json<StemCellStats>(`${p.url}/_modelfn/v1/stem-cells`)) >= 1, 15_000, 'a ready stem cell');
    const b = (await invoke(p.url, 'probe-b', {})).json() as { pid: number; proc: string; cwd: string; env: Record<string, string>; mark: string | null; globals: string[]; execArgv: string[] };
    assert.notEqual(b.proc, a.proc, 'a stem cell is used once');
    assert.equal(b.mark, null);
    assert.deepEqual(b.globals, []);
    assert.equal(b.env.ONLY_A, undefined);
    assert.equal(b.env.PROBE_LEAK, undefined);
    assert.equal(b.env.ONLY_B, 'b');
    assert.equal(b.env.AWS_LAMBDA_FUNCTION_NAME, 'probe-b');
    assert.equal(b.cwd, b.env.LAMBDA_TASK_ROOT);
    if (p.sandboxed) assert.equal(b.env.TMPDIR, '/tmp');
    else assert.match(b.env.TMPDIR!, new RegExp(`^${p.dataDir}/instances/`));
    assert.deepEqual(Object.keys(b.env).filter((k) => k.startsWith('MODELFN_')), [], 'nothing of the platform');
    assert.deepEqual(b.execArgv, ['--max-old-space-size=108', '--enable-source-maps']);
    const environ = await readFile(`/proc/${await hostPidOf(p, b.proc)}/environ`, 'utf8');
    assert.ok(!environ.includes('do-not-leak') && !environ.includes('ONLY_A'), 'the process never had the platform\'s environment');
    const cold = await json<ColdStarts>(`${p.url}/_modelfn/v1/functions/probe-b/cold-starts`);
    assert.equal(cold.coldStarts[0]?.stemCell, true);
    // A function that sets a variable only Node.js start-up reads gets a new process instead.
    await mustDeploy(p.url, 'probe-c', fixture('functions', 'stem-probe'), { environment: { NODE_PATH: '/opt/lib' } });
    const c = (await invoke(p.url, 'probe-c', {})).json() as { env: Record<string, string> };
    assert.equal(c.env.NODE_PATH, '/opt/lib');
    assert.equal((await json<ColdStarts>(`${p.url}/_modelfn/v1/functions/probe-c/cold-starts`)).coldStarts[0]?.stemCell, false);
  } finally {
    await p.cleanup();
  }
});

test('--no-stem-cells: every cold start is a new process', async () => {
  const p = await startPlatform({ args: ['--no-stem-cells'] });
  try {
    await mustDeploy(p.url, 'echo', fixture('functions', 'echo'));
    const stats = await json<StemCellStats>(`${p.url}/_modelfn/v1/stem-cells`);
    assert.equal(stats.enabled, false);
    const res = await invoke(p.url, 'echo', {}, { 'x-amz-log-type': 'Tail' });
    assert.match(tail(res), /Stem Cell: no$/m);
  } finally {
    await p.cleanup();
  }
});

test('keep-alive policy per function: set by deploy and CLI, its decision visible in the API', async () => {
  const p = await startPlatform();
  try {
    await mustDeploy(p.url, 'echo', fixture('functions', 'echo'));
    let view = await json<{ keepAlivePolicy: string | null; keepAlive: unknown[] }>(`${p.url}/_modelfn/v1/functions/echo`);
    assert.equal(view.keepAlivePolicy, null, 'the platform default');
    const deployed = await cli(p.url, ['deploy', fixture('functions', 'echo'), '--name', 'echo', '--keep-alive-policy', 'adaptive', '--keep-alive', '300']);
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.match(deployed.stdout, /keep-alive: adaptive \(fixed 300 s\)/);
    assert.equal((await invoke(p.url, 'echo')).status, 200);
    view = await json(`${p.url}/_modelfn/v1/functions/echo`);
    assert.equal(view.keepAlivePolicy, 'adaptive');
    const status = (view.keepAlive as Array<{ version: string; policy: string; mode: string; reason: string; keepAliveSec: number; prewarmSec: number }>)[0]!;
    assert.deepEqual([status.version, status.policy, status.mode, status.keepAliveSec, status.prewarmSec], ['$LATEST', 'adaptive', 'fixed', 300, 0]);
    assert.match(status.reason, /0 idle times recorded; the histogram needs 5/);
    const cold = await json<ColdStarts>(`${p.url}/_modelfn/v1/functions/echo/cold-starts`);
    assert.equal(cold.keepAlive[0]?.policy, 'adaptive');
    // A redeploy without the flag keeps the policy; "default" goes back to the platform's.
    assert.equal((await cli(p.url, ['deploy', fixture('functions', 'echo'), '--name', 'echo'])).code, 0);
    assert.equal((await json<{ keepAlivePolicy: string }>(`${p.url}/_modelfn/v1/functions/echo`)).keepAlivePolicy, 'adaptive');
    assert.equal((await cli(p.url, ['deploy', fixture('functions', 'echo'), '--name', 'echo', '--keep-alive-policy', 'default'])).code, 0);
    assert.equal((await json<{ keepAlivePolicy: string | null }>(`${p.url}/_modelfn/v1/functions/echo`)).keepAlivePolicy, null);
    const bad = await cli(p.url, ['deploy', fixture('functions', 'echo'), '--name', 'echo', '--keep-alive-policy', 'forever']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--keep-alive-policy must be fixed, adaptive or default/);
    // The API names the field.
    const sha = (await json<{ codeSha256: string }>(`${p.url}/_modelfn/v1/functions/echo`)).codeSha256;
    const res = await fetch(`${p.url}/_modelfn/v1/functions/echo`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ runtime: 'nodejs20.x', handler: 'index.handler', code: { sha256: sha }, keepAlivePolicy: 'sometimes' }),
    });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { message: string }).message, /keepAlivePolicy.*must be "fixed" or "adaptive"/);
  } finally {
    await p.cleanup();
  }
});

test('provisioned concurrency: a killed provisioned instance is replaced', async () => {
  const p = await startPlatform();
  try {
    await mustDeploy(p.url, 'echo', fixture('functions', 'echo'));
    const published = await fetch(`${p.url}/2015-03-31/functions/echo/versions`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(published.status, 201, await published.text());
    const put = await fetch(`${p.url}/2019-09-30/functions/echo/provisioned-concurrency?Qualifier=1`, { method: 'PUT', body: JSON.stringify({ ProvisionedConcurrentExecutions: 1 }), headers: { 'content-type': 'application/json' } });
    assert.equal(put.status, 202, await put.text());
    const status = async () => (await json<{ Status: string; AvailableProvisionedConcurrentExecutions: number }>(`${p.url}/2019-09-30/functions/echo/provisioned-concurrency?Qualifier=1`));
    await eventually(async () => (await status()).Status === 'READY', 15_000, 'READY');
    const [first] = await eventually(async () => {
      const pids = await instancePids(p.dataDir);
      return pids.length === 1 ? pids : undefined;
    }, 10_000, 'the provisioned instance');
    process.kill(first!, 'SIGKILL');
    const [second] = await eventually(async () => {
      const pids = await instancePids(p.dataDir);
      return pids.length === 1 && pids[0] !== first ? pids : undefined;
    }, 10_000, 'a replacement');
    assert.notEqual(second, first);
    await eventually(async () => (await status()).Status === 'READY', 10_000, 'READY again');
    assert.equal((await status()).AvailableProvisionedConcurrentExecutions, 1);
    const warm = await fetch(`${p.url}/2015-03-31/functions/echo/invocations?Qualifier=1`, { method: 'POST', body: '{}', headers: { 'x-amz-log-type': 'Tail' } });
    assert.equal(warm.status, 200);
    assert.doesNotMatch(tail(warm), /Init Duration/, 'the replacement serves warm');
    const cold = await json<ColdStarts>(`${p.url}/_modelfn/v1/functions/echo/cold-starts`);
    assert.deepEqual(cold.coldStarts.map((c) => c.trigger), ['provisioned', 'provisioned']);
  } finally {
    await p.cleanup();
  }
});
