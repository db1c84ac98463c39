// Telemetry overhead: warm throughput through a route to a Node.js handler with full telemetry
// (metrics, metering, dashboard live series; a Prometheus scrape every 5 s and a dashboard live
// stream open, as when someone watches) against the same platform with MODELFN_TELEMETRY=off.
// Both platforms run at once and are loaded alternately, so machine noise hits both alike.
import { performance } from 'node:perf_hooks';
import { zipDirectory } from '../src/artifacts/zip-directory.js';
import { LiveSeries } from '../src/dashboard/live-series.js';
import type { InvocationRecord } from '../src/scheduler/scheduler.js';
import { readCpuTicks } from '../src/telemetry/metering/cpu-sampler.js';
import { MeterBook } from '../src/telemetry/metering/usage.js';
import { PlatformMetrics } from '../src/telemetry/metrics/platform-metrics.js';
import { fromPackageRoot } from '../src/shared/paths.js';
import { load } from './lib/load.js';
import type { LoadResult } from './lib/load.js';
import { startPlatform } from './lib/processes.js';
import type { Row } from './lib/report.js';
import { median, printTable } from './lib/report.js';

const BODY = JSON.stringify({ name: 'bench' });

async function deploy(url: string): Promise<string> {
  const zip = await zipDirectory(fromPackageRoot('bench', 'fixtures', 'greeter'));
  const up = await fetch(`${url}/_modelfn/v1/bundles`, { method: 'POST', body: zip, headers: { 'content-type': 'application/zip' } });
  const { sha256 } = (await up.json()) as { sha256: string };
  const res = await fetch(`${url}/_modelfn/v1/functions/greeter`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ runtime: 'nodejs20.x', handler: 'index.handler', memoryMb: 256, code: { sha256 }, routes: [{ method: 'POST', path: '/greet' }] }),
  });
  if (!res.ok) throw new Error(`deploy failed: ${res.status} ${await res.text()}`);
  const route = `${url}/greet`;
  for (let i = 0; i < 20; i++) await (await fetch(route, { method: 'POST', body: BODY })).arrayBuffer();
  return route;
}

/** A dashboard live stream kept open (its events are read and dropped). */
function watch(url: string): AbortController {
  const stop = new AbortController();
  void fetch(`${url}/ui/api/events`, { signal: stop.signal })
    .then(async (res) => {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) void chunk;
    })
    .catch(() => undefined);
  return stop;
}

/** Load one route and count the platform process's CPU time (ms per request, from /proc). */
async function measured(route: string, pid: number, connections: number, seconds: number): Promise<LoadResult & { cpuUsPerRequest: number }> {
  const before = (await readCpuTicks(pid)) ?? 0;
  const result = await load(route, connections, seconds, BODY);
  const after = (await readCpuTicks(pid)) ?? 0;
  const requests = result.requestsPerSec * seconds;
  return { ...result, cpuUsPerRequest: ((after - before) * 10_000) / Math.max(1, requests) };
}

/** What telemetry adds to each invocation in the platform process: its three listeners, in a loop. */
function perInvocationNs(n = 1_000_000): number {
  const metrics = new PlatformMetrics({ processMetrics: false, pools: () => [] });
  const book = new MeterBook();
  const live = new LiveSeries({ instances: () => new Map() });
  const records: InvocationRecord[] = Array.from({ length: 64 }, (_, i) => ({ functionName: `fn${i % 8}`, version: '$LATEST', requestId: `r${i}`, durationMs: 1.5, billedDurationMs: 2, memoryMb: 256 }));
  const run = (count: number) => {
    for (let i = 0; i < count; i++) {
      const r = records[i & 63]!;
      const now = Date.now();
      metrics.onInvocation(r);
      book.add(r, now);
      live.onInvocation(r);
    }
  };
  run(100_000);
  const started = performance.now();
  run(n);
  const ns = ((performance.now() - started) * 1e6) / n;
  live.close();
  metrics.close();
  return ns;
}

export async function benchTelemetry(connections = 32, seconds = 5, rounds = 5): Promise<Row[]> {
  // MODELFN_AUTH=none: open APIs where access keys exist (ignored where they do not).
  const on = await startPlatform({ MODELFN_AUTH: 'none' });
  const off = await startPlatform({ MODELFN_AUTH: 'none', MODELFN_TELEMETRY: 'off' });
  const stream = watch(on.url);
  const scraper = setInterval(() => void fetch(`${on.url}/metrics`).then((r) => r.text()).catch(() => undefined), 5000);
  try {
    const onRoute = await deploy(on.url);
    const offRoute = await deploy(off.url);
    await load(onRoute, connections, 2, BODY);
    await load(offRoute, connections, 2, BODY);
    const onRuns: Array<LoadResult & { cpuUsPerRequest: number }> = [];
    const offRuns: Array<LoadResult & { cpuUsPerRequest: number }> = [];
    for (let r = 0; r < rounds; r++) {
      // Alternate which goes first, too.
      if (r % 2 === 0) {
        onRuns.push(await measured(onRoute, on.proc.pid!, connections, seconds));
        offRuns.push(await measured(offRoute, off.proc.pid!, connections, seconds));
      } else {
        offRuns.push(await measured(offRoute, off.proc.pid!, connections, seconds));
        onRuns.push(await measured(onRoute, on.proc.pid!, connections, seconds));
      }
    }
    const onCpu = median(onRuns.map((x) => x.cpuUsPerRequest));
    const offCpu = median(offRuns.map((x) => x.cpuUsPerRequest));
    const pairs = onRuns.map((x, i) => x.requestsPerSec / offRuns[i]!.requestsPerSec);
    const onRps = median(onRuns.map((x) => x.requestsPerSec));
    const offRps = median(offRuns.map((x) => x.requestsPerSec));
    const failures = [...onRuns, ...offRuns].reduce((n, x) => n + x.non2xx + x.errors, 0);
    const rows: Row[] = [
      { name: `telemetry off, ${connections} connections`, value: offRps, unit: 'req/s', note: `median of ${rounds}; runs ${offRuns.map((x) => Math.round(x.requestsPerSec)).join(', ')}` },
      { name: `full telemetry, ${connections} connections`, value: onRps, unit: 'req/s', note: `median of ${rounds}; runs ${onRuns.map((x) => Math.round(x.requestsPerSec)).join(', ')}` },
      { name: 'telemetry off p50 / p99', value: median(offRuns.map((x) => x.p50Ms)), unit: 'ms', note: `p99 ${median(offRuns.map((x) => x.p99Ms))} ms` },
      { name: 'full telemetry p50 / p99', value: median(onRuns.map((x) => x.p50Ms)), unit: 'ms', note: `p99 ${median(onRuns.map((x) => x.p99Ms))} ms` },
      { name: 'full / off throughput', value: onRps / offRps, unit: 'ratio', note: `target >= 0.95; ${failures} non-2xx/errors` },
      { name: 'full / off throughput, per round', value: median(pairs), unit: 'ratio', note: `median of rounds: ${pairs.map((x) => x.toFixed(2)).join(', ')}` },
      { name: 'platform CPU per request, telemetry off', value: offCpu, unit: 'us', note: 'gateway process only (/proc ticks)' },
      { name: 'platform CPU per request, full telemetry', value: onCpu, unit: 'us', note: `ratio off/full ${(offCpu / onCpu).toFixed(3)}` },
      { name: 'telemetry listeners per invocation', value: perInvocationNs(), unit: 'ns', note: 'metrics + metering + live series, in-process loop' },
    ];
    printTable('Telemetry overhead (same run, alternating; scrape every 5 s and a dashboard stream open)', rows);
    return rows;
  } finally {
    clearInterval(scraper);
    stream.abort();
    await on.stop();
    await off.stop();
  }
}
