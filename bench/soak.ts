// `npm run soak [-- --minutes 10 --fraction 0.5 --kinds route,invoke --cold-every 0 --deploy-every 0]`: mixed traffic against one platform for a long
// time, sampled every 10 s. It measures the mix's capacity first (closed loop, a few seconds),
// then drives a fixed rate at a fraction of it (open loop: requests go out on schedule whether or
// not earlier ones have answered) and prints, per window, throughput, p50/p99, answers by status,
// cold starts, deploys, instances, resident memory and the machine's load, then a verdict: platform RSS growth under
// 10 % (low-water marks after a warm-up: rssGrowth below), and no errors but intended throttles (429).
import { readFile, readdir } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { zipDirectory } from '../src/artifacts/zip-directory.js';
import { fromPackageRoot } from '../src/shared/paths.js';
import { startPlatform } from './lib/processes.js';
import { percentile } from './lib/report.js';

/**
 * Memory growth over the run, as a leak would show it: the lowest RSS of the first third of the
 * windows after a warm-up (the first fifth: code compiled, caches and pools filled) against the
 * lowest of the last third. Not the first window against the last: with 64 MB semi-spaces
 * (bin/modelfn.js) the young generation alone swings the RSS by tens of MB between scavenges, so
 * two single windows compare arbitrary points of that saw-tooth; a leak raises its low points.
 */
export function rssGrowth(samplesKb: readonly number[]): { early: number; late: number; growth: number } {
  const settled = samplesKb.slice(Math.floor(samplesKb.length / 5));
  const third = Math.max(1, Math.floor(settled.length / 3));
  const early = Math.min(...settled.slice(0, third));
  const late = Math.min(...settled.slice(-third));
  return { early, late, growth: ((late - early) / early) * 100 };
}

interface Options {
  readonly minutes: number;
  readonly fraction: number;
  readonly sampleSec: number;
  readonly capacitySec: number;
  readonly concurrency: number;
  readonly deployEverySec: number;
  readonly coldEverySec: number;
  /** Only these kinds of the mix (to see which traffic a change in memory comes with). */
  readonly kinds: readonly string[] | undefined;
}

function options(): Options {
  const arg = (name: string, def: number): number => {
    const i = process.argv.lastIndexOf(`--${name}`);
    if (i < 0) return def;
    const n = Number(process.argv[i + 1]);
    if (!Number.isFinite(n) || n < 0) {
      process.stderr.write(`--${name} takes a number >= 0 (0 turns a periodic part off), not ${process.argv[i + 1]}\n`);
      process.exit(2);
    }
    return n;
  };
  return {
    minutes: arg('minutes', 10),
    fraction: arg('fraction', 0.5),
    sampleSec: arg('sample', 10),
    capacitySec: arg('capacity-seconds', 15),
    concurrency: arg('concurrency', 32),
    deployEverySec: arg('deploy-every', 30),
    coldEverySec: arg('cold-every', 2),
    kinds: process.argv.includes('--kinds') ? process.argv[process.argv.lastIndexOf('--kinds') + 1]?.split(',') : undefined,
  };
}

/** One kind of request in the mix, with its share of the traffic. */
interface Kind {
  readonly name: string;
  readonly weight: number;
  readonly method: string;
  readonly path: string;
  readonly body: Buffer;
  readonly headers: Record<string, string>;
}

const json = { 'content-type': 'application/json' };
const GREETING = Buffer.from(JSON.stringify({ name: 'soak' }));
const ROWS = Buffer.from(JSON.stringify([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]));
const OIP = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP64', data: [5.1, 3.5, 1.4, 0.2] }] }));
const INVOKE = Buffer.from(JSON.stringify({ body: JSON.stringify({ name: 'invoke' }) }));

const ALL_KINDS: readonly Kind[] = [
  { name: 'route', weight: 40, method: 'POST', path: '/hello', body: GREETING, headers: json },
  { name: 'invoke', weight: 20, method: 'POST', path: '/2015-03-31/functions/greeter/invocations', body: INVOKE, headers: json },
  { name: 'event', weight: 8, method: 'POST', path: '/2015-03-31/functions/greeter/invocations', body: INVOKE, headers: { ...json, 'x-amz-invocation-type': 'Event' } },
  { name: 'model-route', weight: 12, method: 'POST', path: '/iris', body: ROWS, headers: json },
  { name: 'model-oip', weight: 12, method: 'POST', path: '/v2/models/iris/infer', body: OIP, headers: json },
  { name: 'redeployed', weight: 8, method: 'POST', path: '/changing', body: GREETING, headers: json },
];
const COLD: Kind = { name: 'cold', weight: 0, method: 'POST', path: '/cold', body: GREETING, headers: json };
let MIX: readonly Kind[] = ALL_KINDS;
let TOTAL_WEIGHT = MIX.reduce((n, k) => n + k.weight, 0);

function pick(): Kind {
  let r = Math.random() * TOTAL_WEIGHT;
  for (const k of MIX) {
    if (r < k.weight) return k;
    r -= k.weight;
  }
  return MIX[0]!;
}

/** What one window saw. */
interface Window {
  latencies: number[];
  byStatus: Map<string, number>;
  coldLatencies: number[];
  deploys: number;
  deployMs: number[];
  deployFailures: number;
  sent: number;
}

const newWindow = (): Window => ({ latencies: [], byStatus: new Map(), coldLatencies: [], deploys: 0, deployMs: [], deployFailures: 0, sent: 0 });

class Driver {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });
  window = newWindow();
  inFlight = 0;

  constructor(private readonly base: URL) {}

  /** Send one request; its latency and status land in the current window. */
  async send(kind: Kind): Promise<void> {
    const window = this.window;
    window.sent++;
    this.inFlight++;
    const start = performance.now();
    let status: string;
    try {
      status = String(await this.call(kind));
    } catch (err) {
      status = `net:${(err as NodeJS.ErrnoException).code ?? 'error'}`;
    }
    this.inFlight--;
    const ms = performance.now() - start;
    window.byStatus.set(status, (window.byStatus.get(status) ?? 0) + 1);
    if (kind === COLD) window.coldLatencies.push(ms);
    else window.latencies.push(ms);
  }

  private call(kind: Kind): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = request({ host: this.base.hostname, port: this.base.port, method: kind.method, path: kind.path, agent: this.agent, headers: { ...kind.headers, 'content-length': String(kind.body.length) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.setTimeout(30_000, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      req.on('error', reject);
      req.end(kind.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Resident memory (kB) of a process and of all its descendants. */
async function memory(pid: number): Promise<{ platformKb: number; childrenKb: number; children: number }> {
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone */
    }
  }
  const rss = async (p: number) => {
    try {
      return Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      return 0;
    }
  };
  const descendants: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift()!;
    for (const [child, parent] of parents) if (parent === p) {
      descendants.push(child);
      queue.push(child);
    }
  }
  let childrenKb = 0;
  for (const d of descendants) childrenKb += await rss(d);
  return { platformKb: await rss(pid), childrenKb, children: descendants.length };
}

/** Sums of Prometheus series by metric name (all label sets). */
async function metrics(url: string, names: readonly string[]): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  for (const line of text.split('\n')) {
    for (const name of names) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) out[name]! += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return out;
}
const COLD_STARTS = 'modelfn_cold_starts_total';
const HEAP = 'modelfn_process_heap_used_bytes';

async function instances(url: string): Promise<number> {
  return ((await (await fetch(`${url}/_modelfn/v1/health`)).json()) as { instances: number }).instances;
}

async function deploy(url: string, name: string, zip: Buffer, spec: Record<string, unknown>): Promise<void> {
  const up = await fetch(`${url}/_modelfn/v1/bundles`, { method: 'POST', body: zip, headers: { 'content-type': 'application/zip' } });
  if (up.status !== 201) throw new Error(`upload for ${name}: ${up.status} ${await up.text()}`);
  const { sha256 } = (await up.json()) as { sha256: string };
  const res = await fetch(`${url}/_modelfn/v1/functions/${name}`, { method: 'PUT', headers: json, body: JSON.stringify({ runtime: 'nodejs20.x', handler: 'index.handler', memoryMb: 256, code: { sha256 }, ...spec }) });
  if (!res.ok) throw new Error(`deploy ${name}: ${res.status} ${await res.text()}`);
}

/** A greeter whose code differs at every deploy (a new bundle, so a real code change). */
function changingZip(generation: number): Buffer {
  return Buffer.from(zipSync({ 'index.js': Buffer.from(`// generation ${generation}\nexports.handler = async (event) => ({ message: 'hello, ' + JSON.parse(event.body).name, generation: ${generation} });\n`) }));
}

/** Closed loop: `concurrency` workers send the mix back to back; the answer rate is the capacity. */
async function measureCapacity(driver: Driver, concurrency: number, seconds: number): Promise<number> {
  const until = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        await driver.send(pick());
        done++;
      }
    }),
  );
  return done / seconds;
}

function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

export async function soak(o: Options = options()): Promise<boolean> {
  if (o.kinds) {
    MIX = ALL_KINDS.filter((k) => o.kinds!.includes(k.name));
    if (MIX.length === 0) throw new Error(`--kinds names none of ${ALL_KINDS.map((k) => k.name).join(', ')}`);
    TOTAL_WEIGHT = MIX.reduce((n, k) => n + k.weight, 0);
  }
  const platform = await startPlatform({ MODELFN_REAP_INTERVAL_MS: '200' });
  const url = platform.url;
  const driver = new Driver(new URL(url));
  try {
    const greeter = await zipDirectory(fromPackageRoot('bench', 'fixtures', 'greeter'));
    await deploy(url, 'greeter', greeter, { routes: [{ method: 'POST', path: '/hello' }] });
    await deploy(url, 'cold', greeter, { keepAliveSec: 0, routes: [{ method: 'POST', path: '/cold' }] });
    await deploy(url, 'changing', changingZip(0), { routes: [{ method: 'POST', path: '/changing' }] });
    const up = await fetch(`${url}/_modelfn/v1/bundles`, { method: 'POST', body: zipSync({ 'model.joblib': await readFile(fromPackageRoot('examples', 'iris-joblib', 'model.joblib')) }), headers: { 'content-type': 'application/zip' } });
    const { sha256 } = (await up.json()) as { sha256: string };
    const model = await fetch(`${url}/_modelfn/v1/functions/iris`, { method: 'PUT', headers: json, body: JSON.stringify({ runtime: 'model', handler: 'model.joblib', memoryMb: 256, code: { sha256 }, routes: [{ method: 'POST', path: '/iris' }] }) });
    if (!model.ok) throw new Error(`deploy iris: ${model.status} ${await model.text()}`);
    for (const k of MIX) await driver.send(k);

    process.stdout.write(`# modelfn soak: ${o.minutes} min at ${o.fraction} of measured capacity, a window every ${o.sampleSec} s (${new Date().toISOString()}, ${availableParallelism()} cores, load average ${(await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')})\n`);
    process.stdout.write(`mix: ${MIX.map((k) => `${k.name} ${Math.round((k.weight / TOTAL_WEIGHT) * 100)} %`).join(', ')}; plus ${o.coldEverySec > 0 ? `a cold start (keepAliveSec 0) every ${o.coldEverySec} s` : 'no forced cold starts'} and ${o.deployEverySec > 0 ? `a redeploy of "changing" every ${o.deployEverySec} s` : 'no redeploys'}\n`);
    const capacity = await measureCapacity(driver, o.concurrency, o.capacitySec);
    const capacityWindow = driver.window;
    const capacityErrors = [...capacityWindow.byStatus].filter(([s]) => !s.startsWith('2') && s !== '429');
    const rate = capacity * o.fraction;
    process.stdout.write(`capacity: ${fmt(capacity, 0)} req/s (closed loop, ${o.concurrency} concurrent, ${o.capacitySec} s; p99 ${fmt(percentile(capacityWindow.latencies, 99))} ms${capacityErrors.length ? `; ${capacityErrors.map(([s, n]) => `${s}: ${n}`).join(', ')}` : ''}); driving ${fmt(rate, 0)} req/s\n\n`);
    await new Promise((r) => setTimeout(r, 2000));

    driver.window = newWindow();
    const header = ['t s', 'req/s', 'p50 ms', 'p99 ms', 'answers by status', 'cold', 'cold p50 ms', 'deploys', 'in flight', 'instances', 'platform RSS MB', 'heap used MB', 'instances RSS MB', 'load 1m'];
    process.stdout.write(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|\n`);
    const started = performance.now();
    const endAt = started + o.minutes * 60_000;
    let generation = 0;
    let stopped = false;
    const pending = new Set<Promise<void>>();
    const track = (p: Promise<void>) => {
      pending.add(p);
      void p.finally(() => pending.delete(p));
    };

    // Open loop: every 10 ms, send what the rate says is due by now.
    let due = 0;
    let lastTick = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      due += ((now - lastTick) / 1000) * rate;
      lastTick = now;
      while (due >= 1) {
        due--;
        track(driver.send(pick()));
      }
    }, 10);
    const cold = o.coldEverySec > 0 ? setInterval(() => track(driver.send(COLD)), o.coldEverySec * 1000) : undefined;
    // Deploys land in the window they finish in (with how long they took).
    const deployer = o.deployEverySec <= 0 ? undefined : setInterval(() => {
      generation++;
      const begun = performance.now();
      track(
        deploy(url, 'changing', changingZip(generation), {})
          .then(() => {
            driver.window.deploys++;
            driver.window.deployMs.push(performance.now() - begun);
          })
          .catch((err: unknown) => {
            driver.window.deployFailures++;
            process.stderr.write(`deploy failed: ${String(err)}\n`);
          }),
      );
    }, o.deployEverySec * 1000);

    const rows: Array<{ rssKb: number; errors: number; throttles: number }> = [];
    let coldBefore = (await metrics(url, [COLD_STARTS]))[COLD_STARTS]!;
    while (!stopped) {
      const next = started + (rows.length + 1) * o.sampleSec * 1000;
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
      if (performance.now() >= endAt - 100) stopped = true;
      const w = driver.window;
      driver.window = newWindow();
      const mem = await memory(platform.proc.pid!);
      const m = await metrics(url, [COLD_STARTS, HEAP]);
      const coldNow = m[COLD_STARTS]!;
      const n = await instances(url);
      const statuses = [...w.byStatus].sort(([a], [b]) => a.localeCompare(b));
      const errors = statuses.filter(([s]) => !s.startsWith('2') && s !== '429').reduce((a, [, c]) => a + c, 0) + w.deployFailures;
      const throttles = w.byStatus.get('429') ?? 0;
      rows.push({ rssKb: mem.platformKb, errors, throttles });
      const answered = w.latencies.length + w.coldLatencies.length;
      process.stdout.write(
        `| ${[
          Math.round((performance.now() - started) / 1000),
          fmt(answered / o.sampleSec, 0),
          fmt(percentile(w.latencies, 50)),
          fmt(percentile(w.latencies, 99)),
          statuses.map(([s, c]) => `${s}: ${c}`).join(', ') + (w.deployFailures ? `, deploy failures: ${w.deployFailures}` : ''),
          coldNow - coldBefore,
          fmt(percentile(w.coldLatencies, 50)),
          w.deploys === 0 ? '0' : `${w.deploys} (${w.deployMs.map((ms) => fmt(ms, 0)).join(', ')} ms)`,
          driver.inFlight,
          n,
          fmt(mem.platformKb / 1024),
          fmt(m[HEAP]! / 1024 / 1024),
          fmt(mem.childrenKb / 1024),
          (await readFile('/proc/loadavg', 'utf8')).split(' ')[0],
        ].join(' | ')} |\n`,
      );
      coldBefore = coldNow;
    }
    clearInterval(ticker);
    clearInterval(cold);
    clearInterval(deployer);
    await Promise.allSettled([...pending]);

    const { early, late, growth } = rssGrowth(rows.map((r) => r.rssKb));
    const errors = rows.reduce((a, r) => a + r.errors, 0);
    const throttles = rows.reduce((a, r) => a + r.throttles, 0);
    const rssOk = growth < 10;
    const errorsOk = errors === 0;
    process.stdout.write(
      `\nverdict: platform RSS low-water mark after warm-up ${fmt(early / 1024)} -> ${fmt(late / 1024)} MB (${growth >= 0 ? '+' : ''}${fmt(growth)} %, target < 10 %): ${rssOk ? 'ok' : 'FAIL'} ` +
        `(first and last windows: ${fmt(rows[0]!.rssKb / 1024)} and ${fmt(rows.at(-1)!.rssKb / 1024)} MB); ` +
        `errors other than throttles: ${errors} (target 0): ${errorsOk ? 'ok' : 'FAIL'}; intended throttles (429): ${throttles}\n`,
    );
    return rssOk && errorsOk;
  } finally {
    driver.close();
    await platform.stop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const ok = await soak();
  process.exit(ok ? 0 : 1);
}
