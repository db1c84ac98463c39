import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI, eventually, fixture, invoke, mustDeploy, deployDir, removeTree, sleep, startPlatform } from '../support/platform.js';
import type { RunningPlatform } from '../support/platform.js';
import { need, requirements } from '../support/requirements.js';

// Hostile functions against the bubblewrap sandbox (src/runtimes/sandbox/): every attempt of the
// probe (test/fixtures/functions/sandbox-probe) to look or reach outside its own instance is
// contained, and the platform and the other functions carry on.

type Json = Record<string, unknown>;

async function call(p: RunningPlatform, name: string, event: unknown): Promise<Json> {
  const res = await invoke(p.url, name, event);
  assert.equal(res.status, 200, res.body);
  return res.json() as Json;
}

/** Host processes whose command line contains `needle`. */
async function hostProcesses(needle: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.split('\0').join(' ').includes(needle)) found.push(Number(entry));
  }
  return found;
}

/** Host processes inside some PID namespace below ours (every sandboxed process). */
async function sandboxedProcesses(): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '');
    if (/^NSpid:\s+\d+\s+\d+/m.test(status)) found.push(Number(entry));
  }
  return found;
}

async function withSandboxedPlatform(t: { diagnostic(m: string): void }, body: (p: RunningPlatform) => Promise<void>): Promise<void> {
  const p = await startPlatform({ sandbox: true });
  try {
    const banner = /sandbox: +(.*)/.exec(p.output())?.[1];
    assert.ok(banner?.includes('bubblewrap'), `the banner names the sandbox:\n${p.output()}`);
    t.diagnostic(`sandbox: ${banner}`);
    await body(p);
  } finally {
    await p.cleanup();
  }
}

test('a sandboxed function sees its own code read-only and a private /tmp; not the data directory, other code, credentials or host processes', async (t) => {
  if (!need(t, requirements.bwrap)) return;
  await withSandboxedPlatform(t, async (p) => {
    await mustDeploy(p.url, 'probe', fixture('functions', 'sandbox-probe'), { memoryMb: 256 });
    await mustDeploy(p.url, 'other', fixture('functions', 'echo'));
    assert.equal((await invoke(p.url, 'other', {})).status, 200);

    const me = await call(p, 'probe', { action: 'whoami' });
    assert.equal(me.uid, 1000, 'not root inside');
    assert.deepEqual(me.task, ['index.js'], 'its own code and nothing else in /var/task');
    assert.equal(me.cwd, '/var/task');

    const unpacked = (await readdir(join(p.dataDir, 'unpacked'))).map((d) => join(p.dataDir, 'unpacked', d));
    assert.ok(unpacked.length >= 2, 'both functions are unpacked on the host');
    const secret = [p.dataDir, join(p.dataDir, 'modelfn.db'), join(p.dataDir, 'credentials'), ...unpacked, '/root', '/home', '/etc/shadow', process.cwd(), tmpdir() === '/tmp' ? '/tmp/..' : tmpdir()];
    const seen = await call(p, 'probe', { action: 'read', paths: secret.filter((s) => s !== '/tmp/..') });
    for (const [path, result] of Object.entries(seen)) assert.equal((result as Json).ok, false, `${path} must not be visible: ${JSON.stringify(result)}`);

    const wrote = await call(p, 'probe', { action: 'write', paths: ['/var/task/index.js', '/var/task/new', '/usr/bin/evil', '/etc/passwd', '/tmp/scratch'] });
    assert.equal((wrote['/var/task/index.js'] as Json).code, 'EROFS');
    assert.equal((wrote['/var/task/new'] as Json).code, 'EROFS');
    assert.equal((wrote['/usr/bin/evil'] as Json).ok, false);
    assert.equal((wrote['/etc/passwd'] as Json).ok, false);
    assert.equal((wrote['/tmp/scratch'] as Json).ok, true, '/tmp is writable');

    const procs = (await call(p, 'probe', { action: 'proc' })) as unknown as Array<{ pid: number; cmdline: string }>;
    assert.ok(procs.length < 10, `only the sandbox's own processes: ${procs.map((x) => x.cmdline.slice(0, 60)).join(' | ')}`);
    assert.ok(procs.every((x) => !x.cmdline.includes('modelfn.js up')), 'the platform is not visible');
    assert.ok(procs.every((x) => x.pid < 100), 'pids of its own PID namespace');
  });
});

test('a fork bomb, a process flood, a full /tmp and native allocations stay inside their instance; the platform and other functions carry on', async (t) => {
  if (!need(t, requirements.bwrap)) return;
  await withSandboxedPlatform(t, async (p) => {
    await mustDeploy(p.url, 'probe', fixture('functions', 'sandbox-probe'), { memoryMb: 128, timeoutSec: 10 });
    await mustDeploy(p.url, 'big', fixture('functions', 'sandbox-probe'), { memoryMb: 2048, timeoutSec: 20 });
    await mustDeploy(p.url, 'other', fixture('functions', 'echo'));

    // Processes: at most 1024 tasks per sandbox (RLIMIT_NPROC of its own user namespace).
    const flood = await call(p, 'big', { action: 'spawn-many', max: 3000 });
    t.diagnostic(`process flood: ${JSON.stringify(flood)}`);
    assert.ok((flood.started as number) < 1024, `stopped below the limit: ${JSON.stringify(flood)}`);
    assert.equal(flood.error, 'EAGAIN');
    assert.equal((await invoke(p.url, 'other', { still: 'here' })).status, 200, 'other functions still run');

    const bomb = await invoke(p.url, 'probe', { action: 'fork-bomb', ms: 1500 });
    t.diagnostic(`fork bomb: ${bomb.status} ${bomb.body.slice(0, 200)}`);
    assert.equal(bomb.status, 200);
    assert.equal((await invoke(p.url, 'other', { still: 'here' })).status, 200, 'other functions still run');
    await sleep(1000);
    t.diagnostic(`sandboxed host processes 1 s after the bomb's call: ${(await sandboxedProcesses()).length}`);

    // /tmp: the function's ephemeral storage size (512 MB), then ENOSPC; the host's disk is untouched.
    const fill = await call(p, 'probe', { action: 'fill-tmp' });
    assert.equal(fill.code, 'ENOSPC');
    assert.equal(fill.written, 512 * 1024 * 1024);

    // A native allocation far beyond the memory size fails at once (RLIMIT_DATA), the instance lives on.
    const alloc = await invoke(p.url, 'probe', { action: 'alloc', mb: 1500 });
    assert.equal(alloc.headers.get('x-amz-function-error'), 'Unhandled');
    assert.equal((alloc.json() as Json).errorType, 'RangeError', alloc.body);
    // A slow leak of Buffers is stopped at the memory size by the watchdog.
    const leak = await invoke(p.url, 'probe', { action: 'grow' });
    assert.equal((leak.json() as Json).errorType, 'Runtime.OutOfMemory', leak.body);
    assert.equal((await call(p, 'probe', { action: 'whoami' })).uid, 1000, 'a new instance serves the next call');
    // Where the platform has a memory cgroup, the kernel caps the sandbox at memory + /tmp (128 + 512 MB)
    // at the allocation itself: 500 MB of /tmp files and then 300 MB at once go over it.
    if (/memory: cgroup/.test(p.output())) {
      const capped = await invoke(p.url, 'probe', { action: 'tmp-and-alloc', tmpMb: 496, mb: 300 });
      assert.equal((capped.json() as Json).errorType, 'Runtime.OutOfMemory', capped.body);
      t.diagnostic(`over the cgroup cap: ${(capped.json() as Json).errorMessage as string}`);
    } else {
      t.diagnostic(`no memory cgroup here: ${/memory: (.*)/.exec(p.output())?.[1] ?? '?'}`);
    }
    const health = await fetch(`${p.url}/v2/health/live`);
    assert.equal(health.status, 200);
  });
});

test('numpy arrays are capped too: one far beyond the memory size fails at once, a growing one stops the instance', async (t) => {
  if (!need(t, requirements.bwrap, requirements.sklearn)) return;
  const dir = await mkdtemp(join(tmpdir(), 'modelfn-numpy-'));
  try {
    await writeFile(
      join(dir, 'lambda_function.py'),
      [
        'import time',
        'import numpy as np',
        'held = []',
        'def lambda_handler(event, context):',
        '    if event["action"] == "alloc":',
        '        return int(np.ones(event["mb"] * 131072).nbytes)',
        '    for _ in range(200):',
        '        held.append(np.ones(16 * 131072))',
        '        time.sleep(0.02)',
        '    return "survived"',
        '',
      ].join('\n'),
    );
    await withSandboxedPlatform(t, async (p) => {
      await mustDeploy(p.url, 'np', dir, { runtime: 'python3.11', handler: 'lambda_function.lambda_handler', memoryMb: 256, timeoutSec: 20 });
      const huge = await invoke(p.url, 'np', { action: 'alloc', mb: 4000 });
      assert.equal(huge.headers.get('x-amz-function-error'), 'Unhandled');
      assert.match((huge.json() as Json).errorType as string, /MemoryError/, huge.body);
      const leak = await invoke(p.url, 'np', { action: 'grow' });
      assert.equal((leak.json() as Json).errorType, 'Runtime.OutOfMemory', leak.body);
      assert.equal((await invoke(p.url, 'np', { action: 'alloc', mb: 1 })).json(), 1024 * 1024, 'a new instance serves the next call');
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('past its timeout nothing of an instance keeps running, not even a grandchild that left for its own session', async (t) => {
  if (!need(t, requirements.bwrap)) return;
  await withSandboxedPlatform(t, async (p) => {
    await mustDeploy(p.url, 'probe', fixture('functions', 'sandbox-probe'), { timeoutSec: 2 });
    const marker = String(600_000 + Math.floor(Math.random() * 100_000));
    const res = await invoke(p.url, 'probe', { action: 'detach', marker, loop: true });
    assert.equal((res.json() as Json).errorType, 'Sandbox.Timedout', res.body);
    await eventually(async () => (await hostProcesses(`sleep ${marker}`)).length === 0, 5000, 'the detached grandchild to be gone');
    assert.equal((await call(p, 'probe', { action: 'whoami' })).uid, 1000);
  });
});

test('an instance cannot answer for another request: forged frames and other instances\' Runtime APIs are refused', async (t) => {
  if (!need(t, requirements.bwrap)) return;
  await withSandboxedPlatform(t, async (p) => {
    await mustDeploy(p.url, 'probe', fixture('functions', 'sandbox-probe'));
    await mustDeploy(p.url, 'sh', fixture('functions', 'provided-sh'), { runtime: 'provided.al2023', handler: 'x' });
    // A frame for a request id it does not hold, on its own channel: ignored; its own answer stands.
    const forged = await call(p, 'probe', { action: 'forge-frame', id: 'not-mine' });
    assert.deepEqual(forged, { wrote: true, answer: 'genuine' });
    // The custom runtime's Runtime API listens on loopback; another instance that finds it is refused.
    const sh = await call(p, 'sh', {});
    const port = Number(String(sh.runtimeApi).split(':')[1]);
    const platformPort = Number(new URL(p.url).port);
    const scan = (await call(p, 'probe', { action: 'scan-runtime-apis', skip: [platformPort] })) as unknown as Array<{ port: number; next?: number; response?: number }>;
    const target = scan.find((s) => s.port === port);
    assert.ok(target, `the scan found the Runtime API at ${port}: ${JSON.stringify(scan)}`);
    assert.equal(target.next, 403, 'no invocation for a stranger');
    assert.equal(target.response, 403, 'no answer from a stranger');
    assert.equal((await call(p, 'sh', { again: true })).functionName, 'sh', 'the custom runtime still serves its own calls');
  });
});

test('network deny: no route out, not even to the platform, while Node.js and Python functions still run; bad settings are refused', async (t) => {
  if (!need(t, requirements.bwrap, requirements.python3)) return;
  await withSandboxedPlatform(t, async (p) => {
    const platformPort = Number(new URL(p.url).port);
    const targets = [{ host: '127.0.0.1', port: platformPort }];
    await mustDeploy(p.url, 'open', fixture('functions', 'sandbox-probe'));
    await mustDeploy(p.url, 'closed', fixture('functions', 'sandbox-probe'), { network: 'deny' });
    const open = await call(p, 'open', { action: 'connect', targets });
    assert.equal((open[`127.0.0.1:${platformPort}`] as Json).ok, true, 'network allowed: the host is reachable');
    const closed = await call(p, 'closed', { action: 'connect', targets: [...targets, { host: '10.255.255.1', port: 80 }] });
    assert.equal((closed[`127.0.0.1:${platformPort}`] as Json).code, 'ECONNREFUSED', 'its own loopback only');
    assert.equal((closed['10.255.255.1:80'] as Json).code, 'ENETUNREACH');

    await mustDeploy(p.url, 'py', fixture('functions', 'py-basic'), { runtime: 'python3.11', handler: 'lambda_function.lambda_handler', network: 'deny' });
    const py = await call(p, 'py', { name: 'x' });
    assert.equal(py.function_name, 'py', 'Python reaches its Runtime API over a unix socket');

    const provided = await deployDir(p.url, 'sh', fixture('functions', 'provided-sh'), { runtime: 'provided.al2023', handler: 'x', network: 'deny' });
    assert.equal(provided.status, 400);
    assert.match(((await provided.json()) as { message: string }).message, /network: "deny" is not available for provided\.al2023/);
    const tooSmall = await deployDir(p.url, 'tiny', fixture('functions', 'echo'), { tmpSizeMb: 100 });
    assert.equal(tooSmall.status, 400);
    assert.match(((await tooSmall.json()) as { message: string }).message, /tmpSizeMb/);
    const badNetwork = await deployDir(p.url, 'odd', fixture('functions', 'echo'), { network: 'maybe' as 'deny' });
    assert.equal(badNetwork.status, 400);
    assert.match(((await badNetwork.json()) as { message: string }).message, /must be "allow" or "deny"/);
  });
});

test('models, Python and stem-cell instances run sandboxed too', async (t) => {
  if (!need(t, requirements.bwrap, requirements.python3)) return;
  const dir = await mkdtemp(join(tmpdir(), 'modelfn-pysbx-'));
  await writeFile(
    join(dir, 'lambda_function.py'),
    'import os\ndef lambda_handler(event, context):\n    return {"uid": os.getuid(), "sees": [p for p in event["paths"] if os.path.exists(p)], "task": sorted(os.listdir("/var/task"))}\n',
  );
  await withSandboxedPlatform(t, async (p) => {
    await mustDeploy(p.url, 'py', fixture('functions', 'py-basic'), { runtime: 'python3.11', handler: 'lambda_function.lambda_handler' });
    assert.equal((await call(p, 'py', {})).function_name, 'py');
    // Once the zygote is up, Python cold starts are forks that join a sandbox: each sees what a fresh one does.
    const paths = [p.dataDir, join(p.dataDir, 'modelfn.db'), '/root', process.cwd()];
    const forked = await eventually(async () => {
      const name = `pyf${Math.floor(Math.random() * 1e9)}`;
      await mustDeploy(p.url, name, dir, { runtime: 'python3.11', handler: 'lambda_function.lambda_handler' });
      const answer = await call(p, name, { paths });
      const cold = (await (await fetch(`${p.url}/_modelfn/v1/functions/${name}/cold-starts`)).json()) as { coldStarts: Array<{ stemCell: boolean }> };
      return cold.coldStarts[0]?.stemCell ? answer : undefined;
    }, 30_000, 'a cold start forked from the zygote');
    assert.deepEqual(forked, { uid: 1000, sees: [], task: ['lambda_function.py'] });
    const deployed = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const proc = spawn(process.execPath, [CLI, 'deploy', fixture('onnx', 'iris_rfc100.onnx'), '--name', 'iris'], { env: { ...process.env, MODELFN_ENDPOINT: p.url, MODELFN_HOME: p.dataDir } });
      let out = '';
      proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
      proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
      proc.once('exit', (code) => resolve({ code, out }));
    });
    assert.equal(deployed.code, 0, deployed.out);
    const predicted = await invoke(p.url, 'iris', [[5.1, 3.5, 1.4, 0.2]]);
    assert.equal(predicted.status, 200, predicted.body);
    assert.deepEqual(predicted.json(), [0]);
    // Every instance process of this platform is sandboxed: its pid 1 is bwrap.
    const instances: number[] = [];
    for (const entry of await readdir('/proc')) {
      const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '');
      if (/^NSpid:\s+\d+\s+2$/m.test(status)) instances.push(Number(entry));
    }
    assert.ok(instances.length >= 2, 'sandboxed runtimes are running');
  }).finally(() => rm(dir, { recursive: true, force: true }));
});

test('without a working bubblewrap the platform refuses to start, unless unsandboxed operation is allowed; it says which', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'modelfn-nosandbox-'));
  try {
    const refused = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const proc = spawn(process.execPath, [CLI, 'up', '--port', '0', '--data-dir', dataDir, '--auth', 'none', '--sandbox', 'auto'], { env: { ...process.env, MODELFN_BWRAP: '/nonexistent/bwrap' } });
      let out = '';
      proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
      proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
      const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, out });
      });
    });
    assert.notEqual(refused.code, 0, refused.out);
    assert.match(refused.out, /no sandbox: \/nonexistent\/bwrap cannot run/);
    assert.match(refused.out, /apt-get install -y bubblewrap/);
    assert.match(refused.out, /--allow-unsandboxed/);
    assert.doesNotMatch(refused.out, /modelfn is up/);

    const allowed = await startPlatform({ dataDir, args: ['--sandbox', 'auto', '--allow-unsandboxed'], env: { MODELFN_BWRAP: '/nonexistent/bwrap' } });
    try {
      assert.match(allowed.output(), /WARNING: +sandbox NONE: \/nonexistent\/bwrap cannot run/);
      await mustDeploy(allowed.url, 'echo', fixture('functions', 'echo'));
      assert.equal((await invoke(allowed.url, 'echo', {})).status, 200);
    } finally {
      await allowed.stop();
    }
  } finally {
    await removeTree(dataDir);
  }
});
