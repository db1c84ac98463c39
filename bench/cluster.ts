// Cluster benchmark: requests/s through a route with 1, 2 and 3 modelfn nodes joined to one NATS
// server behind a round-robin client (autocannon spreads its connections over the node URLs),
// against one embedded node in the same run, and the added latency of a call forwarded to another
// node over NATS versus a call served where it arrives. Everything shares this machine's cores:
// more nodes add processes, not CPUs, so the figures show the cost of clustering here, and scaling
// only as far as idle cores allow.
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { zipDirectory } from '../src/artifacts/zip-directory.js';
import { fromPackageRoot } from '../src/shared/paths.js';
import { startNats, natsServerBinary } from '../test/support/nats.js';
import { startPlatform } from './lib/processes.js';
import type { Row } from './lib/report.js';
import { median, percentile, printTable } from './lib/report.js';

const BODY = JSON.stringify({ name: 'bench' });

interface Run {
  rps: number;
  p50: number;
  p99: number;
  failures: number;
}

type Autocannon = (opts: Record<string, unknown>, cb: (err: Error | null, r: { requests: { average: number }; latency: { p50: number; p99: number }; non2xx: number; errors: number }) => void) => unknown;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

/** Load several URLs at once: autocannon gives each connection the next URL (round robin). */
function loadRoundRobin(urls: readonly string[], connections: number, seconds: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    autocannon({ url: urls.length === 1 ? urls[0] : [...urls], connections, duration: seconds, method: 'POST', body: BODY, headers: { 'content-type': 'application/json' } }, (err, r) => {
      if (err) return reject(err);
      resolve({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, failures: r.non2xx + r.errors });
    });
  });
}

async function deploy(url: string, name: string, extra: Record<string, unknown>): Promise<void> {
  const zip = await zipDirectory(fromPackageRoot('bench', 'fixtures', 'greeter'));
  const up = await fetch(`${url}/_modelfn/v1/bundles`, { method: 'POST', body: zip, headers: { 'content-type': 'application/zip' } });
  const { sha256 } = (await up.json()) as { sha256: string };
  const res = await fetch(`${url}/_modelfn/v1/functions/${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ runtime: 'nodejs20.x', handler: 'index.handler', memoryMb: 128, code: { sha256 }, ...extra }),
  });
  if (!res.ok) throw new Error(`deploy failed: ${res.status} ${await res.text()}`);
}

async function warm(url: string, path: string): Promise<void> {
  for (let i = 0; i < 40; i++) {
    const res = await fetch(`${url}${path}`, { method: 'POST', body: BODY });
    await res.arrayBuffer();
    if (!res.ok && i > 30) throw new Error(`warm-up of ${url}${path} failed: ${res.status}`);
  }
}

/** Sequential calls, client-side latency in ms. */
async function latencies(url: string, samples: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    const res = await fetch(url, { method: 'POST', body: BODY });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`${url}: ${res.status}`);
    out.push(performance.now() - t);
  }
  return out;
}

export async function benchCluster(options: { seconds?: number; rounds?: number; connections?: number; samples?: number } = {}): Promise<Row[]> {
  const seconds = options.seconds ?? 5;
  const rounds = options.rounds ?? 3;
  const connections = options.connections ?? 32;
  const samples = options.samples ?? 300;
  if (!natsServerBinary()) {
    process.stdout.write('\n## Cluster mode\n(skipped: nats-server is not installed; sudo apt-get install -y nats-server)\n');
    return [];
  }
  const nats = await startNats();
  const embedded = await startPlatform();
  const env = { MODELFN_CLUSTER: nats.url };
  const nodes: Array<Awaited<ReturnType<typeof startPlatform>>> = [];
  try {
    for (let i = 0; i < 3; i++) nodes.push(await startPlatform(env));
    // A node whose memory budget (128 MB) cannot hold the 256 MB function: it forwards every call.
    const forwarder = await startPlatform(env, ['--memory-budget', '128']);
    nodes.push(forwarder);
    await deploy(embedded.url, 'greeter', { routes: [{ method: 'POST', path: '/greet' }] });
    await deploy(nodes[0]!.url, 'greeter', { routes: [{ method: 'POST', path: '/greet' }] });
    await deploy(nodes[0]!.url, 'big', { memoryMb: 256, routes: [{ method: 'POST', path: '/big' }] });
    await new Promise((r) => setTimeout(r, 500));
    await warm(embedded.url, '/greet');
    for (const n of nodes.slice(0, 3)) {
      await warm(n.url, '/greet');
      await warm(n.url, '/big');
    }
    await warm(forwarder.url, '/big');

    const sets: Array<{ name: string; urls: string[] }> = [
      { name: 'embedded node (no cluster)', urls: [`${embedded.url}/greet`] },
      ...[1, 2, 3].map((k) => ({ name: `cluster, ${k} node${k > 1 ? 's' : ''} round robin`, urls: nodes.slice(0, k).map((n) => `${n.url}/greet`) })),
    ];
    const runs = new Map<string, Run[]>(sets.map((s) => [s.name, []]));
    for (const s of sets) await loadRoundRobin(s.urls, connections, 2); // warm every path under load
    // Rounds alternate the configurations so that machine noise hits them alike.
    for (let r = 0; r < rounds; r++) for (const s of sets) runs.get(s.name)!.push(await loadRoundRobin(s.urls, connections, seconds));
    const rows: Row[] = [];
    const base = median(runs.get(sets[1]!.name)!.map((x) => x.rps));
    for (const s of sets) {
      const list = runs.get(s.name)!;
      const rps = median(list.map((x) => x.rps));
      const failures = list.reduce((n, x) => n + x.failures, 0);
      rows.push({ name: `${s.name}, ${connections} connections`, value: rps, unit: 'req/s', note: `median of ${rounds}; p50 ${median(list.map((x) => x.p50))} ms, p99 ${median(list.map((x) => x.p99))} ms; ${failures} failures${s === sets[0] ? '' : `; x${(rps / base).toFixed(2)} of 1 node`}` });
    }

    // Forwarded vs local, one call at a time: the same function, reached on a node that runs it
    // or on the node that must forward it. Alternated in blocks of 50.
    const local: number[] = [];
    const forwarded: number[] = [];
    for (let i = 0; i < samples / 50; i++) {
      local.push(...(await latencies(`${nodes[1]!.url}/big`, 50)));
      forwarded.push(...(await latencies(`${forwarder.url}/big`, 50)));
    }
    const view = (await (await fetch(`${forwarder.url}/_modelfn/v1/cluster`)).json()) as { calls: { forwarded: number; local: number } };
    rows.push(
      { name: 'one call at a time, served where it arrives', value: median(local), unit: 'ms', note: `median of ${local.length}; p90 ${percentile(local, 90).toFixed(2)} ms` },
      { name: 'one call at a time, forwarded to another node', value: median(forwarded), unit: 'ms', note: `median of ${forwarded.length}; p90 ${percentile(forwarded, 90).toFixed(2)} ms; ${view.calls.forwarded} forwarded, ${view.calls.local} local` },
      { name: 'added latency of forwarding (median)', value: median(forwarded) - median(local), unit: 'ms' },
    );
    printTable(`Cluster mode: throughput with 1-3 nodes (one NATS server, all on this ${(await import('node:os')).availableParallelism()}-core machine) and forwarding latency`, rows);
    return rows;
  } finally {
    for (const n of nodes) await n.stop();
    await embedded.stop();
    await nats.cleanup();
  }
}
