// Cluster mode end to end: real nats-server processes (free ports, own store dirs) and real
// modelfn nodes joined with --cluster. One test = one NATS server and its nodes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipDirectory } from '../../src/artifacts/zip-directory.js';
import { need, requirements } from '../support/requirements.js';
import { startNats } from '../support/nats.js';
import { CLI, cli, eventually, fixture, instancePids, invoke, mustDeploy, startPlatform } from '../support/platform.js';
import type { RunningPlatform, StartOptions } from '../support/platform.js';

const FAST = { MODELFN_CLUSTER_HEARTBEAT_MS: '200', MODELFN_CLUSTER_LEASE_MS: '2000', MODELFN_REAP_INTERVAL_MS: '100' };

/** Start `count` nodes joined to one NATS server; cleanup stops every process and removes every directory. */
async function cluster(count: number, options: { perNode?: (i: number) => StartOptions; env?: Record<string, string>; signed?: boolean } = {}) {
  const nats = await startNats();
  const nodes: RunningPlatform[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const o = options.perNode?.(i) ?? {};
      nodes.push(await startPlatform({ ...o, args: ['--cluster', nats.url, ...(o.args ?? [])], env: { ...FAST, ...options.env, ...o.env } }));
    }
    if (!options.signed) await eventually(async () => (await clusterView(nodes[0]!)).nodes.length === count, 10_000, `${count} nodes in the cluster`);
  } catch (err) {
    await Promise.all(nodes.map((n) => n.cleanup()));
    await nats.cleanup();
    throw err;
  }
  return {
    nats,
    nodes,
    cleanup: async () => {
      await Promise.all(nodes.map((n) => n.cleanup()));
      await nats.cleanup();
    },
  };
}

interface ClusterView {
  node: string;
  nodes: Array<{ id: string; url: string }>;
  calls: { local: number; forwarded: number; busy: number };
  servedForOthers: number;
}

async function clusterView(node: RunningPlatform): Promise<ClusterView> {
  return (await (await fetch(`${node.url}/_modelfn/v1/cluster`)).json()) as ClusterView;
}

const event = (url: string, name: string, body: unknown) => invoke(url, name, body, { 'x-amz-invocation-type': 'Event' });

async function lines(file: string): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('deploy on node A, invoke on node C; a redeploy on B reaches every node; async events and schedules run once per cluster', async (t) => {
  if (!need(t, requirements.natsServer)) return;
  const work = await mkdtemp(join(tmpdir(), 'modelfn-cluster-'));
  const c = await cluster(3, { env: { MODELFN_SCHEDULE_SECONDS: '1' } });
  const [a, b, n3] = c.nodes as [RunningPlatform, RunningPlatform, RunningPlatform];
  try {
    await mustDeploy(a.url, 'slow', fixture('functions', 'slow'), { environment: { CODE_VERSION: 'v1' }, routes: [{ method: 'POST', path: '/slow' }] });
    const first = await eventually(async () => {
      const r = await invoke(n3.url, 'slow', { ms: 1 });
      return r.status === 200 ? r : undefined;
    }, 5000, 'the function deployed on A to be invocable on C');
    assert.equal((first.json() as { version: string }).version, 'v1');
    const viaRoute = await fetch(`${b.url}/slow`, { method: 'POST', body: JSON.stringify({ ms: 1 }) });
    assert.equal(viaRoute.status, 200, 'the route claimed on A answers on B');
    assert.ok((await instancePids(n3.dataDir)).length >= 1, 'C ran it itself (code from the object store)');

    // A redeploy on B: C drops its instance of the old code and serves the new one.
    await mustDeploy(b.url, 'slow', fixture('functions', 'slow'), { environment: { CODE_VERSION: 'v2' } });
    await eventually(async () => ((await invoke(n3.url, 'slow', { ms: 1 })).json() as { version: string }).version === 'v2', 5000, 'C to run the code deployed on B');
    const listed = (await (await fetch(`${n3.url}/_modelfn/v1/functions`)).json()) as { functions: Array<{ name: string }> };
    assert.deepEqual(listed.functions.map((f) => f.name), ['slow']);
    const nodesOut = await cli(b.url, ['cluster']);
    assert.equal(nodesOut.code, 0, nodesOut.stderr);
    for (const n of (await clusterView(a)).nodes) assert.ok(nodesOut.stdout.includes(n.id), nodesOut.stdout);

    // Async events accepted by any node run once each, on whichever node pulls them.
    const record = join(work, 'events.ndjson');
    await mustDeploy(a.url, 'rec', fixture('functions', 'async-recorder'), { environment: { RECORD_FILE: record } });
    await eventually(async () => (await invoke(b.url, 'rec', { id: 'warm' })).status === 200, 5000, 'rec on B');
    // Each node learns of the deploy from its own watch: an event sent to one that has not yet
    // would be refused as for a function that does not exist (404).
    for (const node of c.nodes) await eventually(async () => (await fetch(`${node.url}/_modelfn/v1/functions/rec`)).status === 200, 5000, `rec known on ${node.url}`);
    const ids = Array.from({ length: 30 }, (_, i) => `e${i}`);
    const accepted = await Promise.all(ids.map((id, i) => event(c.nodes[i % 3]!.url, 'rec', { id, ms: 20 })));
    const refused = accepted.flatMap((r, i) => (r.status === 202 ? [] : [`${ids[i]} on node ${i % 3}: ${r.status} ${r.body}`]));
    assert.deepEqual(refused, [], 'every event accepted');
    await eventually(async () => new Set((await lines(record)).map((l) => l.id).filter((id) => id !== 'warm')).size === ids.length, 20_000, 'all 30 events to run');
    const done = await eventually(async () => {
      const res = (await (await fetch(`${n3.url}/_modelfn/v1/functions/rec/invocations?limit=100`)).json()) as { invocations: Array<{ status: string }> };
      return res.invocations.filter((r) => r.status === 'succeeded').length === ids.length ? res : undefined;
    }, 10_000, 'every invocation record, read on C, to say succeeded');
    assert.equal(done.invocations.length, ids.length);
    const ran = (await lines(record)).filter((l) => l.id !== 'warm');
    assert.equal(ran.length, ids.length, 'each event ran once (no duplicates without failures)');

    // Logs: any node's query merges every node's logs. Metering: every node applies every node's usage.
    const logView = (await (await fetch(`${b.url}/_modelfn/v1/functions/rec/logs?limit=2000`)).json()) as { records: Array<{ message?: string; text?: string }> };
    const reports = JSON.stringify(logView.records).match(/REPORT RequestId/g) ?? [];
    assert.ok(reports.length >= ids.length + 1, `every invocation's REPORT, whichever node ran it: ${reports.length}`);
    await eventually(async () => {
      const cost = (await (await fetch(`${n3.url}/_modelfn/v1/cost?since=1h&function=rec`)).json()) as { functions: Array<{ requests: number }> };
      return cost.functions.reduce((n, f) => n + f.requests, 0) >= ids.length + 1;
    }, 25_000, 'the usage of every node in the cost report of one node');

    // A schedule fires once per scheduled time for the whole cluster, not once per node.
    const scheduled = join(work, 'scheduled.ndjson');
    await mustDeploy(a.url, 'tick', fixture('functions', 'async-recorder'), { environment: { RECORD_FILE: scheduled, RECORD_EVENT: '1' } });
    const put = await fetch(`${a.url}/_modelfn/v1/functions/tick/schedules/every-second`, { method: 'PUT', body: JSON.stringify({ expression: 'rate(1 second)' }) });
    assert.ok(put.status === 200 || put.status === 201, await put.text());
    await eventually(async () => (await lines(scheduled)).length >= 4, 15_000, 'four scheduled runs');
    const runs = (await lines(scheduled)).map((l) => (l.event as { time: string }).time);
    assert.equal(new Set(runs).size, runs.length, `every scheduled time fired once across 3 nodes: ${runs.join(', ')}`);
  } finally {
    await c.cleanup();
    await rm(work, { recursive: true, force: true });
  }
});

test('forwarding: a node without room sends calls to a node with room; errors and throttles come back unchanged', async (t) => {
  if (!need(t, requirements.natsServer)) return;
  // Node 2 has a 128 MB budget: it can never start a 256 MB instance, so it forwards.
  const c = await cluster(2, { perNode: (i) => (i === 1 ? { args: ['--memory-budget', '128'] } : {}) });
  const [a, small] = c.nodes as [RunningPlatform, RunningPlatform];
  try {
    await mustDeploy(a.url, 'faults', fixture('functions', 'faults'), { memoryMb: 256 });
    await mustDeploy(a.url, 'off', fixture('functions', 'faults'), { reservedConcurrency: 0 });
    const ok = await eventually(async () => {
      const r = await invoke(small.url, 'faults', { action: 'ok' });
      return r.status === 200 ? r : undefined;
    }, 5000, 'a forwarded call');
    assert.equal((ok.json() as { ok: boolean }).ok, true);
    assert.deepEqual(await instancePids(small.dataDir), [], 'the small node started nothing');
    assert.ok((await instancePids(a.dataDir)).length >= 1);
    const view = await clusterView(small);
    assert.ok(view.calls.forwarded >= 1, JSON.stringify(view));
    assert.ok((await clusterView(a)).servedForOthers >= 1);

    const thrown = await invoke(small.url, 'faults', { action: 'throw' });
    assert.equal(thrown.status, 200);
    assert.equal(thrown.headers.get('x-amz-function-error'), 'Unhandled');
    assert.equal((thrown.json() as { errorType: string }).errorType, 'TypeError');
    const tail = await invoke(small.url, 'faults', { action: 'ok' }, { 'x-amz-log-type': 'Tail' });
    assert.match(Buffer.from(tail.headers.get('x-amz-log-result') ?? '', 'base64').toString(), /REPORT RequestId/, 'log tails travel back');

    const off = await invoke(small.url, 'off', { action: 'ok' });
    assert.equal(off.status, 429, 'reserved concurrency 0 throttles on every node');

    // 8 calls at once from the small node: all served by the other one.
    const burst = await Promise.all(Array.from({ length: 8 }, () => invoke(small.url, 'faults', { action: 'ok' })));
    assert.deepEqual(burst.map((r) => r.status), Array(8).fill(200));
  } finally {
    await c.cleanup();
  }
});

test('access keys: a key of one node signs requests to every node of the cluster', async (t) => {
  if (!need(t, requirements.natsServer)) return;
  const c = await cluster(2, { perNode: () => ({ auth: true }), signed: true });
  const [a, b] = c.nodes as [RunningPlatform, RunningPlatform];
  try {
    const run = (url: string, args: string[], env: Record<string, string>) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const p = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, MODELFN_ENDPOINT: url, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        p.stdout.on('data', (d: Buffer) => (out += d.toString()));
        p.stderr.on('data', (d: Buffer) => (out += d.toString()));
        p.once('exit', (code) => resolve({ code, out }));
      });
    const unsigned = await fetch(`${b.url}/_modelfn/v1/functions`);
    assert.equal(unsigned.status, 403);
    const withA = { MODELFN_CREDENTIALS_FILE: join(a.dataDir, 'credentials') };
    const ls = await run(b.url, ['ls', '--json'], withA);
    assert.equal(ls.code, 0, ls.out);
    const withB = { MODELFN_CREDENTIALS_FILE: join(b.dataDir, 'credentials') };
    assert.equal((await run(a.url, ['ls', '--json'], withB)).code, 0);
  } finally {
    await c.cleanup();
  }
});

test('Lambda API tags, permissions and dead-letter queues: set on one node, changed on another, seen on both', async (t) => {
  if (!need(t, requirements.natsServer)) return;
  const c = await cluster(2);
  const [a, b] = c.nodes as [RunningPlatform, RunningPlatform];
  try {
    const zip = (await zipDirectory(fixture('functions', 'echo'))).toString('base64');
    const created = await fetch(`${a.url}/2015-03-31/functions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ FunctionName: 'tagged', Runtime: 'nodejs20.x', Role: 'arn:aws:iam::000000000000:role/r', Handler: 'index.handler', Code: { ZipFile: zip }, Tags: { team: 'ml' } }),
    });
    assert.equal(created.status, 201, await created.text());
    const tags = (node: RunningPlatform) => fetch(`${node.url}/2017-03-31/tags/${encodeURIComponent('arn:aws:lambda:us-east-1:000000000000:function:tagged')}`);
    await eventually(async () => (await tags(b)).status === 200, 10_000, 'the function on node B');
    assert.deepEqual(await (await tags(b)).json(), { Tags: { team: 'ml' } });
    const tagged = await fetch(`${b.url}/2017-03-31/tags/${encodeURIComponent('arn:aws:lambda:us-east-1:000000000000:function:tagged')}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ Tags: { env: 'dev' } }),
    });
    assert.equal(tagged.status, 204);
    await eventually(async () => ((await (await tags(a)).json()) as { Tags: Record<string, string> }).Tags.env === 'dev', 10_000, "node B's tag on node A");
    assert.deepEqual(((await (await fetch(`${a.url}/2015-03-31/functions/tagged`)).json()) as { Tags: unknown }).Tags, { team: 'ml', env: 'dev' });

    // A permission added on B and a dead-letter queue set on B (a queue created on A) are A's too.
    const permitted = await fetch(`${b.url}/2015-03-31/functions/tagged/policy`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ StatementId: 'from-b', Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com' }),
    });
    assert.equal(permitted.status, 201, await permitted.text());
    await eventually(async () => (await fetch(`${a.url}/2015-03-31/functions/tagged/policy`)).status === 200, 10_000, "node B's permission on node A");
    assert.match(((await (await fetch(`${a.url}/2015-03-31/functions/tagged/policy`)).json()) as { Policy: string }).Policy, /"Sid":"from-b"/);
    assert.equal((await fetch(`${a.url}/_modelfn/v1/queues/tagged-dlq`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 201);
    const dlqArn = 'arn:aws:sqs:us-east-1:000000000000:tagged-dlq';
    const configured = await fetch(`${b.url}/2015-03-31/functions/tagged/configuration`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ DeadLetterConfig: { TargetArn: dlqArn } }),
    });
    assert.equal(configured.status, 200, await configured.text());
    const dlqOnA = async () => ((await (await fetch(`${a.url}/2015-03-31/functions/tagged/configuration`)).json()) as { DeadLetterConfig?: { TargetArn: string } }).DeadLetterConfig?.TargetArn;
    await eventually(async () => (await dlqOnA()) === dlqArn, 10_000, "node B's dead-letter queue on node A");
  } finally {
    await c.cleanup();
  }
});

test('batch jobs: chunks run on every node; a node killed mid-job gives its chunks back and the job completes in order', async (t) => {
  if (!need(t, requirements.natsServer)) return;
  const c = await cluster(3);
  const [a, b, n3] = c.nodes as [RunningPlatform, RunningPlatform, RunningPlatform];
  try {
    await mustDeploy(a.url, 'summer', fixture('functions', 'batch-sum'), { environment: { SLOW_MS: '150' } });
    const csv = `${Array.from({ length: 300 }, (_, i) => `${i},1`).join('\n')}\n`;
    const up = await fetch(`${b.url}/_modelfn/v1/files`, { method: 'POST', body: csv });
    const { sha256 } = (await up.json()) as { sha256: string };
    const started = await fetch(`${a.url}/_modelfn/v1/batch-jobs`, { method: 'POST', body: JSON.stringify({ function: 'summer', input: sha256, format: 'csv', chunkRows: 10, concurrency: 2 }) });
    assert.equal(started.status, 202);
    const job = (await started.json()) as { id: string };
    await eventually(async () => (await instancePids(n3.dataDir)).length > 0, 5000, 'node 3 to run chunks');
    await n3.kill9();
    const done = await eventually(async () => {
      const r = (await (await fetch(`${b.url}/_modelfn/v1/batch-jobs/${job.id}`)).json()) as { status: string; detail: { rowsDone: number }; error: unknown };
      return r.status === 'succeeded' || r.status === 'failed' ? r : undefined;
    }, 30_000, 'the job to finish');
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.equal(done.detail.rowsDone, 300);
    const output = await (await fetch(`${a.url}/_modelfn/v1/batch-jobs/${job.id}/output`)).text();
    assert.deepEqual(output.trim().split('\n').map(Number), Array.from({ length: 300 }, (_, i) => i + 1));
    assert.ok((await instancePids(a.dataDir)).length > 0 && (await instancePids(b.dataDir)).length > 0, 'the other nodes ran chunks too');
  } finally {
    await c.cleanup();
  }
});

test('a NATS server without JetStream is reported at once, in words, with a non-zero exit', async (t) => {
  if (!need(t, requirements.natsServer)) return;
  const nats = await startNats({ jetstream: false });
  const dataDir = await mkdtemp(join(tmpdir(), 'modelfn-nojs-'));
  try {
    const started = Date.now();
    const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const proc = spawn(process.execPath, [CLI, 'up', '--port', '0', '--data-dir', dataDir, '--auth', 'none', '--sandbox', 'none', '--cluster', nats.url], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
      proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
      proc.once('exit', (code) => resolve({ code, out }));
    });
    assert.equal(run.code, 2, run.out);
    assert.match(run.out, /--cluster: the NATS server at \S+ has no JetStream; start nats-server with JetStream on/);
    assert.doesNotMatch(run.out, /\n\s+at /, 'no stack trace');
    assert.ok(Date.now() - started < 15_000, `reported after ${Date.now() - started} ms`);
  } finally {
    await nats.cleanup();
    await rm(dataDir, { recursive: true, force: true });
  }
});
