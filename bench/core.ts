// Core platform benchmark: warm throughput through a route to a Node.js handler against a bare
// node:http server doing the same work (same run, same machine), and cold starts.
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { zipDirectory } from '../src/artifacts/zip-directory.js';
import { descendantsOf } from '../src/runtimes/sandbox/process-tree.js';
import { RequestSigner } from '../src/cli/signer.js';
import { fromPackageRoot } from '../src/shared/paths.js';
import { load } from './lib/load.js';
import type { LoadResult } from './lib/load.js';
import { startPlatform, startServer } from './lib/processes.js';
import type { Server } from './lib/processes.js';
import type { Row } from './lib/report.js';
import { median, percentile, printTable } from './lib/report.js';

const BODY = JSON.stringify({ name: 'bench' });

/** The admin key of the platform that runs with authentication on (given by environment, as deployments do). */
const ADMIN_KEY = { accessKeyId: 'AKIAMODELFNBENCH0001', secretAccessKey: 'bench-secret-key-not-for-production-0001' };

/** Deploy the greeter; signed (as `modelfn deploy` signs) when a signer is given. */
async function deploy(url: string, name: string, extra: Record<string, unknown>, signer?: RequestSigner): Promise<void> {
  const send = async (method: string, path: string, contentType: string, body: Buffer): Promise<Response> => {
    const target = new URL(path, url);
    const headers = { 'content-type': contentType };
    const signed = signer ? await signer.sign(method, target, headers, body) : {};
    return fetch(target, { method, body, headers: { ...headers, ...signed } });
  };
  const zip = await zipDirectory(fromPackageRoot('bench', 'fixtures', 'greeter'));
  const up = await send('POST', '/_modelfn/v1/bundles', 'application/zip', zip);
  if (!up.ok) throw new Error(`upload failed: ${up.status} ${await up.text()}`);
  const { sha256 } = (await up.json()) as { sha256: string };
  const spec = { runtime: 'nodejs20.x', handler: 'index.handler', memoryMb: 256, code: { sha256 }, ...extra };
  const res = await send('PUT', `/_modelfn/v1/functions/${name}`, 'application/json', Buffer.from(JSON.stringify(spec)));
  if (!res.ok) throw new Error(`deploy failed: ${res.status} ${await res.text()}`);
}

/** CPU time (user + system, ms) from a /proc stat file. */
async function statCpuMs(path: string): Promise<number> {
  const stat = await readFile(path, 'utf8').catch(() => '');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return f.length > 13 ? (Number(f[11]) + Number(f[12])) * (1000 / 100) : 0;
}

/**
 * Total CPU time (ms) of a process, of its main thread alone (the one that serves every request:
 * the platform's bottleneck, while its worker and GC threads run on other cores) and of every
 * process below it, from /proc.
 */
async function cpuMs(pid: number): Promise<{ own: number; main: number; below: number }> {
  const below = (await Promise.all(descendantsOf(pid).slice(1).map((p) => statCpuMs(`/proc/${p}/stat`)))).reduce((a, b) => a + b, 0);
  return { own: await statCpuMs(`/proc/${pid}/stat`), main: await statCpuMs(`/proc/${pid}/task/${pid}/stat`), below };
}

interface PlatformRun extends LoadResult {
  /** CPU per request (µs) of the platform process (all its threads), of its main thread, and of its instances. */
  readonly gatewayUs: number;
  readonly mainUs: number;
  readonly instancesUs: number;
  /** CPU per request (µs) of the load generator (this process): it shares the machine's cores. */
  readonly loadUs: number;
}

/** A load run with the load generator's own CPU per request (and the server's, given its pid). */
async function loadMeasured(url: string, connections: number, seconds: number, serverPid?: number): Promise<LoadResult & { loadUs: number; serverUs: number }> {
  const server0 = serverPid === undefined ? 0 : await statCpuMs(`/proc/${serverPid}/stat`);
  const before = process.cpuUsage();
  const result = await load(url, connections, seconds, BODY);
  const used = process.cpuUsage(before);
  const requests = Math.max(1, result.requestsPerSec * seconds);
  const serverUs = serverPid === undefined ? 0 : ((await statCpuMs(`/proc/${serverPid}/stat`)) - server0) * 1000 / requests;
  return { ...result, loadUs: (used.user + used.system) / requests, serverUs };
}

async function measured(platform: Server, url: string, connections: number, seconds: number): Promise<PlatformRun> {
  const before = await cpuMs(platform.proc.pid!);
  const result = await loadMeasured(url, connections, seconds);
  const after = await cpuMs(platform.proc.pid!);
  const requests = Math.max(1, result.requestsPerSec * seconds);
  // Instances that stopped during the run drop out of "below": the figure can only be an underestimate.
  return { ...result, gatewayUs: ((after.own - before.own) * 1000) / requests, mainUs: ((after.main - before.main) * 1000) / requests, instancesUs: (Math.max(0, after.below - before.below) * 1000) / requests };
}

async function warmThroughput(connections: number, seconds: number, rounds: number): Promise<Row[]> {
  const bare = await startServer([fromPackageRoot('dist', 'bench', 'bare-server.js')], /bare server at (http:\/\/\S+)/);
  // The architecture floor (floor-server.ts): a gateway and one instance process, none of the
  // platform's features. bare -> floor is the price of isolation; floor -> modelfn, of the features.
  const floor = await startServer([fromPackageRoot('dist', 'bench', 'floor-server.js')], /floor server at (http:\/\/\S+)/);
  const platform = await startPlatform();
  // The same platform without pipelining (every concurrent call wakes an instance of its own):
  // what handing calls to busy instances buys.
  const unpipelined = await startPlatform({}, ['--pipeline-depth', '1']);
  // The same platform with instances under the default OS scheduling class: what SCHED_BATCH buys.
  const normal = await startPlatform({}, ['--instance-scheduling', 'normal']);
  // The same platform with authentication on, as `modelfn up` runs by default, deployed with a
  // signed call: a signed call once left Node tracking every promise of the process from then on
  // (auth/principal-context.ts says why it no longer does); this row keeps that measured.
  const authenticated = await startPlatform({ MODELFN_ACCESS_KEY_ID: ADMIN_KEY.accessKeyId, MODELFN_SECRET_ACCESS_KEY: ADMIN_KEY.secretAccessKey }, ['--auth', 'sigv4']);
  try {
    for (const p of [platform, unpipelined, normal, authenticated]) {
      const signer = p === authenticated ? new RequestSigner(ADMIN_KEY, 'us-east-1') : undefined;
      await deploy(p.url, 'greeter', { routes: [{ method: 'POST', path: '/greet' }] }, signer);
      // Warm: a few sequential calls (the function's first instance), then a short load.
      for (let i = 0; i < 20; i++) await fetch(`${p.url}/greet`, { method: 'POST', body: BODY });
      await load(`${p.url}/greet`, connections, 2, BODY);
    }
    await load(bare.url, connections, 2, BODY);
    await load(floor.url, connections, 2, BODY);
    const bareRuns: Array<LoadResult & { loadUs: number; serverUs: number }> = [];
    const floorRuns: PlatformRun[] = [];
    const fnRuns: PlatformRun[] = [];
    const unpipelinedRuns: PlatformRun[] = [];
    const normalRuns: PlatformRun[] = [];
    const authenticatedRuns: PlatformRun[] = [];
    // Alternate them so that machine noise hits all alike, each round starting one further along
    // the list: a server always loaded in the same place of a round (the last one, say, after
    // five loads) would carry what that place costs in every round.
    const runs: Array<() => Promise<void>> = [
      async () => void bareRuns.push(await loadMeasured(bare.url, connections, seconds, bare.proc.pid)),
      async () => void floorRuns.push(await measured(floor, floor.url, connections, seconds)),
      async () => void fnRuns.push(await measured(platform, `${platform.url}/greet`, connections, seconds)),
      async () => void unpipelinedRuns.push(await measured(unpipelined, `${unpipelined.url}/greet`, connections, seconds)),
      async () => void normalRuns.push(await measured(normal, `${normal.url}/greet`, connections, seconds)),
      async () => void authenticatedRuns.push(await measured(authenticated, `${authenticated.url}/greet`, connections, seconds)),
    ];
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < runs.length; i++) await runs[(r + i) % runs.length]!();
    }
    const bareRps = median(bareRuns.map((x) => x.requestsPerSec));
    const fnRps = median(fnRuns.map((x) => x.requestsPerSec));
    const floorRps = median(floorRuns.map((x) => x.requestsPerSec));
    const unpipelinedRps = median(unpipelinedRuns.map((x) => x.requestsPerSec));
    const normalRps = median(normalRuns.map((x) => x.requestsPerSec));
    const authenticatedRps = median(authenticatedRuns.map((x) => x.requestsPerSec));
    const failures = [...fnRuns, ...unpipelinedRuns, ...normalRuns, ...authenticatedRuns].reduce((n, x) => n + x.non2xx + x.errors, 0);
    const floorFailures = floorRuns.reduce((n, x) => n + x.non2xx + x.errors, 0);
    const cpu = (runs: PlatformRun[]) =>
      `platform ${median(runs.map((x) => x.gatewayUs)).toFixed(1)} µs (main thread ${median(runs.map((x) => x.mainUs)).toFixed(1)}) + instances ${median(runs.map((x) => x.instancesUs)).toFixed(1)} µs CPU per request (load generator ${median(runs.map((x) => x.loadUs)).toFixed(1)} µs)`;
    return [
      { name: `bare node:http, ${connections} connections`, value: bareRps, unit: 'req/s', note: `median of ${rounds}; server ${median(bareRuns.map((x) => x.serverUs)).toFixed(1)} µs + load generator ${median(bareRuns.map((x) => x.loadUs)).toFixed(1)} µs CPU per request, on the same cores` },
      { name: 'bare node:http p50 / p99', value: median(bareRuns.map((x) => x.p50Ms)), unit: 'ms', note: `p99 ${median(bareRuns.map((x) => x.p99Ms))} ms` },
      { name: `modelfn route -> Node handler, ${connections} connections`, value: fnRps, unit: 'req/s', note: `median of ${rounds}; ${failures} non-2xx/errors; ${cpu(fnRuns)}` },
      { name: 'modelfn route p50 / p99', value: median(fnRuns.map((x) => x.p50Ms)), unit: 'ms', note: `p99 ${median(fnRuns.map((x) => x.p99Ms))} ms` },
      { name: 'modelfn / bare throughput', value: fnRps / bareRps, unit: 'ratio', note: 'target >= 0.5' },
      { name: 'architecture floor: node:http + one instance process, no features', value: floorRps, unit: 'req/s', note: `median of ${rounds}; ${floorFailures} non-2xx/errors; ${cpu(floorRuns).replace('platform', 'gateway')}` },
      { name: 'floor / bare throughput', value: floorRps / bareRps, unit: 'ratio', note: 'the price of running handlers in a process of their own' },
      { name: 'modelfn / floor throughput', value: fnRps / floorRps, unit: 'ratio', note: "the price of the platform's features (routes, scheduler, deadlines, logs, traces, metering)" },
      { name: 'same, without pipelining (--pipeline-depth 1)', value: unpipelinedRps, unit: 'req/s', note: `median of ${rounds}; ${cpu(unpipelinedRuns)}` },
      { name: 'pipelining on / off throughput', value: fnRps / unpipelinedRps, unit: 'ratio', note: 'what handing calls to busy instances buys' },
      { name: 'same, instances under SCHED_OTHER (--instance-scheduling normal)', value: normalRps, unit: 'req/s', note: `median of ${rounds}; ${cpu(normalRuns)}` },
      { name: 'SCHED_BATCH / SCHED_OTHER throughput', value: fnRps / normalRps, unit: 'ratio', note: 'what the default scheduling class buys' },
      { name: 'same, authentication on (--auth sigv4), deployed signed', value: authenticatedRps, unit: 'req/s', note: `median of ${rounds}; ${cpu(authenticatedRuns)}` },
      { name: 'authentication on / off throughput', value: authenticatedRps / fnRps, unit: 'ratio', note: 'the default configuration against the one measured above (the route itself is public in both)' },
    ];
  } finally {
    await bare.stop();
    await floor.stop();
    await platform.stop();
    await unpipelined.stop();
    await normal.stop();
    await authenticated.stop();
  }
}

async function instanceCount(url: string, name: string): Promise<number> {
  const view = (await (await fetch(`${url}/_modelfn/v1/functions/${name}`)).json()) as { instances: { instances: number } };
  return view.instances.instances;
}

/** First request to a scaled-to-zero function, client-side, and the init the platform logged. */
async function coldStarts(samples: number): Promise<Row[]> {
  const platform = await startPlatform({ MODELFN_REAP_INTERVAL_MS: '20' });
  try {
    await deploy(platform.url, 'cold', { keepAliveSec: 0, routes: [{ method: 'POST', path: '/cold' }] });
    const latencies: number[] = [];
    const inits: number[] = [];
    for (let i = 0; i < samples + 1; i++) {
      while ((await instanceCount(platform.url, 'cold')) > 0) await new Promise((r) => setTimeout(r, 10));
      const started = performance.now();
      const res = await fetch(`${platform.url}/2015-03-31/functions/cold/invocations`, {
        method: 'POST',
        body: JSON.stringify({ body: BODY }),
        headers: { 'x-amz-log-type': 'Tail' },
      });
      await res.arrayBuffer();
      const elapsed = performance.now() - started;
      const log = Buffer.from(res.headers.get('x-amz-log-result') ?? '', 'base64').toString();
      const init = /Init Duration: ([\d.]+) ms/.exec(log);
      if (i === 0) continue; // the very first start also warms the OS file cache
      latencies.push(elapsed);
      if (init) inits.push(Number(init[1]));
    }
    return [
      { name: 'cold start, first request after scale-to-zero', value: median(latencies), unit: 'ms', note: `median of ${samples}; p90 ${percentile(latencies, 90).toFixed(1)} ms; target <= 150` },
      { name: 'cold start: Init Duration (process start + handler load)', value: median(inits), unit: 'ms', note: `median of ${inits.length}` },
    ];
  } finally {
    await platform.stop();
  }
}

export async function benchCore(options: { seconds?: number; rounds?: number; coldSamples?: number } = {}): Promise<Row[]> {
  const rows = [
    ...(await warmThroughput(32, options.seconds ?? 8, options.rounds ?? 3)),
    ...(await coldStarts(options.coldSamples ?? 15)),
  ];
  printTable('Core platform: warm throughput and cold start', rows);
  return rows;
}
