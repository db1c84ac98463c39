import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cli, eventually, fixture, invoke, mustDeploy, startPlatform } from '../support/platform.js';
import type { RunningPlatform } from '../support/platform.js';

let p: RunningPlatform;

before(async () => {
  // info: the platform's own logs are on stdout as JSON lines (checked below).
  p = await startPlatform({ args: ['--log-level', 'info'] });
  await mustDeploy(p.url, 'probe', fixture('functions', 'telemetry-probe'), { memoryMb: 256, routes: [{ method: 'POST', path: '/probe' }] });
  await mustDeploy(p.url, 'narrow', fixture('functions', 'telemetry-probe'), { memoryMb: 128, reservedConcurrency: 1 });
  await mustDeploy(p.url, 'idle', fixture('functions', 'telemetry-probe'), { memoryMb: 1024 });
});

after(async () => {
  await p.cleanup();
});

function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

test('traceparent reaches the handler as _X_AMZN_TRACE_ID and comes back; X-Amzn-Trace-Id works too', async () => {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const res = await invoke(p.url, 'probe', {}, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
  assert.equal(res.status, 200, res.body);
  const { trace } = res.json() as { trace: string };
  assert.match(trace, /^Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=([0-9a-f]{16});Sampled=1$/);
  const parent = /Parent=([0-9a-f]{16})/.exec(trace)![1];
  assert.equal(res.headers.get('traceparent'), `00-${traceId}-${parent}-01`, 'the caller gets the platform span that the function saw as its parent');

  const routed = await fetch(`${p.url}/probe`, { method: 'POST', body: '{}', headers: { 'x-amzn-trace-id': 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1' } });
  const body = (await routed.json()) as { trace: string };
  assert.match(body.trace, /^Root=1-5759e988-bd862e3fe1be46a994272793;Parent=[0-9a-f]{16};Sampled=1$/);
  assert.match(routed.headers.get('traceparent')!, /^00-5759e988bd862e3fe1be46a994272793-[0-9a-f]{16}-01$/);

  const fresh = (await invoke(p.url, 'probe', {})).json() as { trace: string };
  assert.match(fresh.trace, /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=1$/, 'without a header the platform starts a trace');
});

test('/metrics after calls: invocations, errors, throttles, durations, cold starts with phases, instances by state', async () => {
  for (let i = 0; i < 3; i++) assert.equal((await invoke(p.url, 'probe', { n: i })).status, 200);
  const failed = await invoke(p.url, 'probe', { fail: true });
  assert.equal(failed.headers.get('x-amz-function-error'), 'Unhandled');
  // Reserved concurrency 1 and a slow call: a burst is throttled (429) past the short queue.
  const burst = await Promise.all(Array.from({ length: 6 }, () => invoke(p.url, 'narrow', { sleepMs: 1500 }, {})));
  const throttled = burst.filter((r) => r.status === 429).length;
  const res = await fetch(`${p.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const fn = { function: 'probe', version: '$LATEST' };
  assert.ok(sample(text, 'modelfn_invocations_total', fn)! >= 7, text.slice(0, 2000));
  assert.equal(sample(text, 'modelfn_errors_total', { ...fn, kind: 'function' }), 1);
  assert.ok(sample(text, 'modelfn_invocation_duration_seconds_count', fn)! >= 7);
  assert.ok(sample(text, 'modelfn_invocation_duration_seconds_bucket', { ...fn, le: '+Inf' })! >= 7);
  assert.equal(sample(text, 'modelfn_cold_starts_total', fn), 1, 'one instance served the sequential calls');
  assert.equal(sample(text, 'modelfn_init_duration_seconds_count', fn), 1);
  for (const phase of ['fetch', 'process_start', 'runtime_init', 'user_init']) {
    const s = sample(text, 'modelfn_cold_start_phase_seconds_sum', { ...fn, phase });
    assert.ok(s !== undefined && s >= 0 && s < 10, `${phase}: ${s}`);
  }
  assert.equal(sample(text, 'modelfn_instances', { ...fn, state: 'idle' }), 1);
  assert.equal(sample(text, 'modelfn_instances', { ...fn, state: 'busy' }), 0);
  assert.ok(throttled > 0, `statuses: ${burst.map((r) => r.status).join(',')}`);
  assert.equal(sample(text, 'modelfn_throttles_total', { function: 'narrow', version: '$LATEST' }), throttled);
  assert.ok(sample(text, 'modelfn_process_cpu_seconds_total', {})! > 0, 'process metrics of the platform itself');
});

test('metering and cost: the API and `modelfn cost` show requests, GB-s with init, CPU-s and provider prices', async () => {
  await invoke(p.url, 'probe', {});
  const cost = await eventually(async () => {
    const r = (await (await fetch(`${p.url}/_modelfn/v1/cost?since=1h`)).json()) as any;
    const line = r.functions?.find((f: any) => f.functionName === 'probe');
    return line && line.cpuSeconds > 0 ? r : undefined;
  }, 20_000, 'the CPU sampler to see the probe instance');
  const probe = cost.functions.find((f: any) => f.functionName === 'probe');
  assert.ok(probe.requests >= 8);
  assert.equal(probe.memoryMb, 256);
  assert.equal(probe.errors, 1);
  assert.ok(probe.coldStarts >= 1);
  assert.ok(probe.initMs > 0, 'init is billed');
  assert.ok(Math.abs(probe.gbSeconds - (probe.billedMs / 1000) * 0.25) < 1e-9, 'GB-s = billed s x 256/1024');
  assert.deepEqual(Object.keys(probe.costs), ['aws-lambda', 'gcp-cloud-run-functions', 'azure-functions-consumption']);
  const aws = (probe.requests * 0.2) / 1e6 + probe.gbSeconds * 0.0000166667;
  assert.ok(Math.abs(probe.costs['aws-lambda'] - aws) < 1e-12);
  assert.equal(cost.freeTiers, 'excluded');
  assert.equal(cost.functions.find((f: any) => f.functionName === 'idle'), undefined, 'a deployed function that was never called costs nothing');
  const narrow = cost.functions.find((f: any) => f.functionName === 'narrow');
  assert.ok(narrow.throttles > 0, 'throttles are metered');

  const series = (await (await fetch(`${p.url}/_modelfn/v1/metering?since=1h&function=probe&step=1m`)).json()) as any;
  assert.ok(series.series.length >= 1);
  assert.ok(series.series.every((pt: any) => pt.functionName === 'probe' && pt.t % 60_000 === 0));
  assert.equal(series.series.reduce((n: number, pt: any) => n + pt.requests, 0), probe.requests);

  const out = await cli(p.url, ['cost', '--since', '1h']);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /^FUNCTION\s+VERSION\s+REQUESTS\s+COLD\s+MEMORY\s+GB-S\s+CPU-S HERE\s+AWS-LAMBDA\s+GCP-CLOUD-RUN-FUNCTIONS\s+AZURE-FUNCTIONS-CONSUMPTION/m);
  assert.match(out.stdout, /^probe\s+\$LATEST\s+\d+\s+\d+\s+256 MB\s+[\d.]+\s+[\d.]+\s+\$\S+\s+\$\S+\s+\$\S+$/m);
  assert.match(out.stdout, /^TOTAL\s+/m);
  assert.match(out.stdout, /free tiers excluded/);
  const json = JSON.parse((await cli(p.url, ['cost', '--since', '1h', '--json', '--function', 'narrow'])).stdout) as any;
  assert.deepEqual(json.functions.map((f: any) => f.functionName), ['narrow']);

  const bad = await fetch(`${p.url}/_modelfn/v1/cost?since=yesterday-ish`);
  assert.equal(bad.status, 400);
});

test('logs: time ranges through the API and `modelfn logs --since`; the platform logs JSON lines', async () => {
  const before = Date.now();
  const r = await invoke(p.url, 'probe', { marker: 1 });
  const requestId = r.headers.get('x-amzn-requestid')!;
  const lines = await eventually(async () => {
    const body = (await (await fetch(`${p.url}/_modelfn/v1/functions/probe/logs?since=${before - 1}`)).json()) as { records: Array<{ requestId: string; message: string }> };
    return body.records.some((l) => l.message.startsWith(`REPORT RequestId: ${requestId}`)) ? body.records : undefined;
  }, 10_000, 'the REPORT line');
  assert.ok(lines.every((l) => l.requestId === requestId), 'since excludes earlier invocations');
  const mid = Date.now();
  await new Promise((r) => setTimeout(r, 20));
  const later = (await invoke(p.url, 'probe', { marker: 2 })).headers.get('x-amzn-requestid')!;
  const range = await eventually(async () => {
    const all = (await (await fetch(`${p.url}/_modelfn/v1/functions/probe/logs?since=${before - 1}`)).json()) as { records: Array<{ requestId: string; message: string }> };
    if (!all.records.some((l) => l.message.startsWith(`REPORT RequestId: ${later}`))) return undefined;
    return (await (await fetch(`${p.url}/_modelfn/v1/functions/probe/logs?since=${before - 1}&until=${mid}`)).json()) as { records: Array<{ requestId: string }> };
  }, 10_000, 'the second REPORT line');
  assert.ok(range.records.length > 0 && range.records.every((l) => l.requestId === requestId), 'since + until bound the lines to one invocation');
  const future = (await (await fetch(`${p.url}/_modelfn/v1/functions/probe/logs?since=${Date.now() + 60_000}`)).json()) as { records: unknown[] };
  assert.deepEqual(future.records, []);
  const viaCli = await cli(p.url, ['logs', 'probe', '--since', '10m']);
  assert.match(viaCli.stdout, new RegExp(`START RequestId: ${requestId} Version: \\$LATEST`));
  assert.match(viaCli.stdout, /\tINFO\tprobe says hi/);
  assert.match(viaCli.stdout, new RegExp(`REPORT RequestId: ${requestId}\\tDuration: [\\d.]+ ms\\tBilled Duration: \\d+ ms\\tMemory Size: 256 MB\\tMax Memory Used: \\d+ MB`));
  const none = await cli(p.url, ['logs', 'probe', '--since', String(Date.now() + 60_000)]);
  assert.equal(none.stdout, '');

  const platformLines = p.output().split('\n').filter((l) => l.startsWith('{'));
  assert.ok(platformLines.length > 0);
  for (const line of platformLines) {
    const entry = JSON.parse(line) as { level: number; time: string; msg: string; svc: string };
    assert.equal(entry.svc, 'modelfn');
    assert.equal(typeof entry.level, 'number');
    assert.ok(!Number.isNaN(Date.parse(entry.time)));
  }
  assert.ok(platformLines.some((l) => (JSON.parse(l) as { msg: string }).msg === 'modelfn started'));
});

test('telemetry off: /metrics and the cost API say so; functions still run', async () => {
  const off = await startPlatform({ env: { MODELFN_TELEMETRY: 'off' } });
  try {
    await mustDeploy(off.url, 'probe', fixture('functions', 'telemetry-probe'));
    assert.equal((await invoke(off.url, 'probe', {})).status, 200);
    assert.equal((await fetch(`${off.url}/metrics`)).status, 404);
    assert.equal((await fetch(`${off.url}/_modelfn/v1/cost`)).status, 404);
  } finally {
    await off.cleanup();
  }
});
