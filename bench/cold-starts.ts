// Cold starts with stem cells on vs off, in the same run: the first request after scale-to-zero,
// measured by the client, for a Node.js handler, the seed's Python function (numpy +
// scikit-learn RandomForest) and a zero-code joblib model. Two platforms run side by side (stem
// cells on, MODELFN_STEM_CELLS=off) and samples alternate between them, so machine noise hits
// both alike. Also prints the phases of the stem-cell cold starts (from the cold-starts API).
// Run alone: `npm run build && node dist/bench/cold-starts.js [samples]`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { zipSync } from 'fflate';
import { zipDirectory } from '../src/artifacts/zip-directory.js';
import { fromPackageRoot } from '../src/shared/paths.js';
import { startPlatform } from './lib/processes.js';
import type { Server } from './lib/processes.js';
import { median, printTable } from './lib/report.js';
import type { Row } from './lib/report.js';

const PYTHON = process.env.MODELFN_TEST_PYTHON ?? '/usr/bin/python3';
/** The benchmark talks to private platforms on loopback, unsigned. */
const ENV = { MODELFN_AUTH: 'none', MODELFN_REAP_INTERVAL_MS: '20' };
/** Between samples: the platform scales to zero, then stem cells refill (off the request path, as between real requests). */
const SETTLE_MS = 1500;

interface Target {
  readonly name: string;
  readonly label: string;
  readonly targetMs: number;
  /** One request; resolves with the client-observed time, after checking the answer. */
  call(url: string): Promise<number>;
}

interface Phases {
  initDurationMs: number;
  stemCell: boolean;
  phases: { fetchMs: number | null; processStartMs: number | null; runtimeInitMs: number | null; userInitMs: number | null; firstInvokeMs: number | null };
}

async function upload(url: string, zip: Buffer): Promise<string> {
  const res = await fetch(`${url}/_modelfn/v1/bundles`, { method: 'POST', body: zip, headers: { 'content-type': 'application/zip' } });
  if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { sha256: string }).sha256;
}

async function deploy(url: string, name: string, zip: Buffer, spec: Record<string, unknown>): Promise<void> {
  const sha256 = await upload(url, zip);
  const res = await fetch(`${url}/_modelfn/v1/functions/${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...spec, code: { sha256 }, keepAliveSec: 0 }),
  });
  if (res.status !== 200 && res.status !== 201) throw new Error(`deploy ${name} failed: ${res.status} ${await res.text()}`);
}

async function instances(url: string, name: string): Promise<number> {
  const view = (await (await fetch(`${url}/_modelfn/v1/functions/${name}`)).json()) as { instances: { instances: number } };
  return view.instances.instances;
}

async function lastColdStart(url: string, name: string): Promise<Phases | undefined> {
  const body = (await (await fetch(`${url}/_modelfn/v1/functions/${name}/cold-starts`)).json()) as { coldStarts: Phases[] };
  return body.coldStarts[0];
}

async function timed(send: () => Promise<Response>, check: (status: number, body: string) => boolean): Promise<number> {
  const started = performance.now();
  const res = await send();
  const body = await res.text();
  const ms = performance.now() - started;
  if (!check(res.status, body)) throw new Error(`unexpected answer ${res.status} ${body.slice(0, 300)}`);
  return ms;
}

function invokeTarget(name: string, label: string, targetMs: number, event: unknown, expected: (body: string) => boolean): Target {
  return {
    name,
    label,
    targetMs,
    call: (url) => timed(() => fetch(`${url}/2015-03-31/functions/${name}/invocations`, { method: 'POST', body: JSON.stringify(event) }), (s, b) => s === 200 && expected(b)),
  };
}

/** One cold start: wait for scale-to-zero and the refill, then the first request. */
async function sample(server: Server, target: Target): Promise<{ ms: number; phases: Phases | undefined }> {
  const deadline = Date.now() + 15_000;
  while ((await instances(server.url, target.name)) > 0) {
    if (Date.now() > deadline) throw new Error(`${target.name} did not scale to zero`);
    await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const ms = await target.call(server.url);
  return { ms, phases: await lastColdStart(server.url, target.name) };
}

function fmtPhases(list: Array<Phases | undefined>): string {
  const m = (pick: (p: Phases) => number | null) => {
    const values = list.filter((p): p is Phases => p !== undefined).map(pick).filter((v): v is number => v !== null);
    return values.length === 0 ? '–' : median(values).toFixed(1);
  };
  return `init ${m((p) => p.initDurationMs)} = fetch ${m((p) => p.phases.fetchMs)} + process ${m((p) => p.phases.processStartMs)} + runtime ${m((p) => p.phases.runtimeInitMs)} + user ${m((p) => p.phases.userInitMs)}; first invoke ${m((p) => p.phases.firstInvokeMs)} ms`;
}

export async function benchColdStarts(samples = 10): Promise<Row[]> {
  const title = 'Cold starts, stem cells on vs off (first request after scale-to-zero, client-observed, same run, alternating)';
  const work = mkdtempSync(join(tmpdir(), 'modelfn-bench-cold-'));
  const on = await startPlatform(ENV);
  const off = await startPlatform({ ...ENV, MODELFN_STEM_CELLS: 'off' });
  const notes: string[] = [];
  try {
    const targets: Target[] = [];
    // Node.js: the benchmark's greeter (parse the body, answer a greeting).
    const greeter = await zipDirectory(fromPackageRoot('bench', 'fixtures', 'greeter'));
    for (const s of [on, off]) await deploy(s.url, 'greeter', greeter, { runtime: 'nodejs20.x', handler: 'index.handler', memoryMb: 128 });
    targets.push(invokeTarget('greeter', 'Node.js handler (128 MB)', 25, { body: '{"name":"bench"}' }, (b) => b === '{"message":"hello, bench"}'));
    // The seed's Python function, trained as the seed does.
    if (spawnSync(PYTHON, ['-c', 'import sklearn, joblib'], { stdio: 'ignore' }).status === 0) {
      const seed = fromPackageRoot('test', 'fixtures', 'functions', 'seed-iris');
      const trained = spawnSync(PYTHON, [join(seed, 'train.py'), work], { encoding: 'utf8' });
      if (trained.status !== 0) throw new Error(`training failed: ${trained.stderr}`);
      const expected = trained.stdout.trim();
      const zip = readFileSync(join(work, 'lambda_function.zip'));
      for (const s of [on, off]) await deploy(s.url, 'seed', zip, { runtime: 'python3.11', handler: 'lambda_function.lambda_handler', memoryMb: 256, routes: [{ method: 'POST', path: '/predict' }] });
      targets.push({
        name: 'seed',
        label: 'seed Python function (numpy + scikit-learn RandomForest)',
        targetMs: 150,
        call: (url) => timed(() => fetch(`${url}/predict`, { method: 'POST', body: '[[5.1,3.5,1.4,0.2],[6.7,3.0,5.2,2.3]]' }), (s, b) => s === 200 && b === expected),
      });
    } else {
      notes.push(`seed Python function skipped: ${PYTHON} has no scikit-learn (apt-get install python3-sklearn)`);
    }
    // A zero-code joblib model (the iris RandomForest, 100 trees).
    const model = Buffer.from(zipSync({ 'model.joblib': readFileSync(fromPackageRoot('examples', 'iris-joblib', 'model.joblib')) }));
    for (const s of [on, off]) await deploy(s.url, 'iris', model, { runtime: 'model', handler: 'model.joblib', memoryMb: 256, timeoutSec: 10 });
    targets.push(invokeTarget('iris', 'zero-code joblib model (iris RandomForest, 100 trees)', 30, [[5.1, 3.5, 1.4, 0.2]], (b) => b === '[0]'));

    const results = new Map<string, { on: number[]; off: number[]; phasesOn: Array<Phases | undefined>; phasesOff: Array<Phases | undefined>; stemOn: number }>();
    for (const t of targets) results.set(t.name, { on: [], off: [], phasesOn: [], phasesOff: [], stemOn: 0 });
    // Two discarded rounds: the platforms' own first-request costs, the zygote's boot, the page cache.
    const discard = 2;
    for (let round = 0; round < samples + discard; round++) {
      for (const t of targets) {
        const r = results.get(t.name)!;
        // Alternate which platform goes first.
        const order: Array<['on' | 'off', Server]> = round % 2 === 0 ? [['on', on], ['off', off]] : [['off', off], ['on', on]];
        for (const [which, server] of order) {
          const s = await sample(server, t);
          if (round < discard) continue;
          r[which].push(s.ms);
          if (which === 'on') {
            r.phasesOn.push(s.phases);
            if (s.phases?.stemCell) r.stemOn++;
          } else r.phasesOff.push(s.phases);
        }
      }
    }
    const rows: Row[] = [];
    for (const t of targets) {
      const r = results.get(t.name)!;
      const onMs = median(r.on);
      const offMs = median(r.off);
      rows.push(
        { name: `${t.label}: stem cells on`, value: onMs, unit: 'ms (median)', note: `n=${r.on.length}, ${r.stemOn} from a stem cell; target <= ${t.targetMs} ms: ${onMs <= t.targetMs ? 'met' : 'NOT met'}; ${fmtPhases(r.phasesOn)}` },
        { name: `${t.label}: stem cells off`, value: offMs, unit: 'ms (median)', note: `n=${r.off.length}, new processes; ${fmtPhases(r.phasesOff)}` },
        { name: `${t.label}: on / off`, value: (onMs / offMs) * 100, unit: '%', note: `min on ${Math.min(...r.on).toFixed(1)}, max on ${Math.max(...r.on).toFixed(1)}` },
      );
    }
    for (const note of notes) rows.push({ name: note, value: Number.NaN, unit: '' });
    printTable(title, rows);
    return rows;
  } finally {
    await Promise.all([on.stop(), off.stop()]);
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchColdStarts(Number(process.argv[2] ?? 10));
}
