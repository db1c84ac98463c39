// Python cold starts of the seed function (RandomForestClassifier on iris, numpy + scikit-learn),
// with and without the zygote, and the platform's warm overhead against the handler called
// directly in one Python process; every figure of the table is measured in the same run.
// Run alone: `npm run build && node dist/bench/python-cold-start.js [samples]`.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fromPackageRoot } from '../src/shared/paths.js';
import { startPlatform } from './lib/processes.js';
import { median, percentile, printTable } from './lib/report.js';
import type { Row } from './lib/report.js';

const PYTHON = process.env.MODELFN_TEST_PYTHON ?? '/usr/bin/python3';
const ROWS = '[[5.1,3.5,1.4,0.2],[6.7,3.0,5.2,2.3]]';
const SEED = fromPackageRoot('test', 'fixtures', 'functions', 'seed-iris');
const WARM_REQUESTS = 300;
/** The benchmark talks to the modelfn API unsigned: a private platform on loopback. */
const OPEN = { MODELFN_AUTH: 'none' };

/** The seed's handler called in one Python process with the event the route builds (no platform). */
const DIRECT = `
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
os.environ['LAMBDA_TASK_ROOT'] = sys.argv[1]
import lambda_function
event = {'version': '2.0', 'routeKey': 'POST /predict', 'rawPath': '/predict', 'body': sys.argv[2], 'isBase64Encoded': False}
for _ in range(20):
    lambda_function.lambda_handler(event, None)
times = []
for _ in range(int(sys.argv[3])):
    t = time.perf_counter()
    out = lambda_function.lambda_handler(event, None)
    times.append((time.perf_counter() - t) * 1000)
times.sort()
print(json.dumps({'p50': times[len(times) // 2], 'body': out['body']}))
`;

async function deploySeed(url: string, zip: Buffer, keepAliveSec: number | null): Promise<void> {
  const upload = await fetch(`${url}/_modelfn/v1/bundles`, { method: 'POST', body: zip, headers: { 'content-type': 'application/zip' } });
  if (upload.status !== 201) throw new Error(`upload failed: ${upload.status} ${await upload.text()}`);
  const { sha256 } = (await upload.json()) as { sha256: string };
  const res = await fetch(`${url}/_modelfn/v1/functions/seed`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ runtime: 'python3.11', handler: 'lambda_function.lambda_handler', code: { sha256 }, keepAliveSec, routes: [{ method: 'POST', path: '/predict' }] }),
  });
  if (res.status !== 200 && res.status !== 201) throw new Error(`deploy failed: ${res.status} ${await res.text()}`);
}

async function instances(url: string): Promise<number> {
  const res = await fetch(`${url}/_modelfn/v1/functions/seed`);
  return ((await res.json()) as { instances: { instances: number } }).instances.instances;
}

async function predict(url: string, expected: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${url}/predict`, { method: 'POST', body: ROWS, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const body = await res.text();
  const ms = performance.now() - started;
  if (res.status !== 200 || body !== expected) throw new Error(`POST /predict answered ${res.status} ${body.slice(0, 300)}`);
  return ms;
}

/** First request after scale-to-zero, `samples` times (after `discard` warm-up cold starts). */
async function coldStarts(zip: Buffer, expected: string, zygote: boolean, samples: number): Promise<number[]> {
  const platform = await startPlatform({ ...OPEN, MODELFN_REAP_INTERVAL_MS: '20' }, zygote ? [] : ['--no-zygote']);
  try {
    await deploySeed(platform.url, zip, 0);
    // The deploy boots the zygote; the first cold starts also warm the page cache.
    const discard = 3;
    const times: number[] = [];
    for (let i = 0; i < samples + discard; i++) {
      const deadline = Date.now() + 10_000;
      while ((await instances(platform.url)) > 0) {
        if (Date.now() > deadline) throw new Error('the seed did not scale to zero');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      if (i === 1) await new Promise((resolve) => setTimeout(resolve, 2000));
      const ms = await predict(platform.url, expected);
      if (i >= discard) times.push(ms);
    }
    return times;
  } finally {
    await platform.stop();
  }
}

async function warmRoute(zip: Buffer, expected: string): Promise<number[]> {
  const platform = await startPlatform(OPEN);
  try {
    await deploySeed(platform.url, zip, null);
    for (let i = 0; i < 20; i++) await predict(platform.url, expected);
    const times: number[] = [];
    for (let i = 0; i < WARM_REQUESTS; i++) times.push(await predict(platform.url, expected));
    return times;
  } finally {
    await platform.stop();
  }
}

export async function benchPythonColdStart(samples = 10): Promise<Row[]> {
  const title = 'Python cold start of the seed function (numpy + scikit-learn RandomForest), zygote vs fresh interpreter';
  if (spawnSync(PYTHON, ['-c', 'import sklearn, joblib'], { stdio: 'ignore' }).status !== 0) {
    const rows = [{ name: 'python cold start', value: Number.NaN, unit: '', note: `skipped: ${PYTHON} has no scikit-learn (apt-get install python3-sklearn)` }];
    printTable(title, rows);
    return rows;
  }
  const work = mkdtempSync(join(tmpdir(), 'modelfn-bench-seed-'));
  try {
    const trained = spawnSync(PYTHON, [join(SEED, 'train.py'), work], { encoding: 'utf8' });
    if (trained.status !== 0) throw new Error(`training failed: ${trained.stderr}`);
    const expected = trained.stdout.trim();
    const zip = readFileSync(join(work, 'lambda_function.zip'));
    copyFileSync(join(SEED, 'lambda_function.py'), join(work, 'lambda_function.py'));

    const fresh = await coldStarts(zip, expected, false, samples);
    const forked = await coldStarts(zip, expected, true, samples);
    const route = await warmRoute(zip, expected);
    const direct = spawnSync(PYTHON, ['-c', DIRECT, work, ROWS, String(WARM_REQUESTS)], { encoding: 'utf8' });
    if (direct.status !== 0) throw new Error(`direct handler run failed: ${direct.stderr}`);
    const directResult = JSON.parse(direct.stdout) as { p50: number; body: string };
    if (directResult.body !== expected) throw new Error(`the direct handler answered ${directResult.body}`);

    const freshMs = median(fresh);
    const forkedMs = median(forked);
    const routeP50 = median(route);
    const rows: Row[] = [
      { name: 'cold start, fresh interpreter (--no-zygote)', value: freshMs, unit: 'ms (median)', note: `n=${fresh.length}, first POST /predict after scale-to-zero; min ${Math.min(...fresh).toFixed(0)}, max ${Math.max(...fresh).toFixed(0)}` },
      { name: 'cold start, forked from the zygote', value: forkedMs, unit: 'ms (median)', note: `n=${forked.length}; min ${Math.min(...forked).toFixed(0)}, max ${Math.max(...forked).toFixed(0)}` },
      { name: 'cold start with zygote / without', value: (forkedMs / freshMs) * 100, unit: '%', note: 'target <= 25 %' },
      { name: 'warm POST /predict through the route', value: routeP50, unit: 'ms (p50)', note: `n=${route.length}, p99 ${percentile(route, 99).toFixed(2)} ms, sequential keep-alive` },
      { name: 'warm handler called directly in one Python process', value: directResult.p50, unit: 'ms (p50)', note: `n=${WARM_REQUESTS}, the baseline` },
      { name: 'platform overhead (route - direct)', value: routeP50 - directResult.p50, unit: 'ms (p50)', note: 'gateway, event building, Runtime API round trip, response mapping' },
    ];
    printTable(title, rows);
    return rows;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchPythonColdStart(Number(process.argv[2] ?? 10));
}
