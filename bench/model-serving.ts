// Zero-code model serving benchmarks, each with its baseline measured in the same run:
//   engines:   the TypeScript RandomForest (100 trees, iris) vs scikit-learn (bench/sklearn-forest.ts)
//              vs ONNX Runtime on the same forest (test/fixtures/onnx/iris_rfc100.onnx)
//   batching:  requests/s at 64 concurrent clients to an ONNX model, dynamic batching on vs off
//   cold:      first request to a scaled-to-zero model function (warm spare host vs a new process)
// Run: npm run build && node dist/bench/model-serving.js [engines] [batching] [cold]
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { zipSync } from 'fflate';
import { loadSklearnModel } from '../src/models/sklearn/index.js';
import { OnnxModel } from '../src/models/onnx/index.js';
import { fromPackageRoot } from '../src/shared/paths.js';
import { load } from './lib/load.js';
import type { LoadResult } from './lib/load.js';
import { startPlatform } from './lib/processes.js';
import type { Row } from './lib/report.js';
import { median, printTable } from './lib/report.js';
import { benchSklearnForest } from './sklearn-forest.js';

const BATCH = 10_000;
/** The benchmarks call the modelfn API unsigned. */
const OPEN = { MODELFN_AUTH: 'none' };
const FOREST_ONNX = fromPackageRoot('test', 'fixtures', 'onnx', 'iris_rfc100.onnx');
const FOREST_JOBLIB = fromPackageRoot('test', 'fixtures', 'sklearn', 'models', 'bench_iris_rfc100.joblib.z');

function irisRows(): number[][] {
  return (JSON.parse(readFileSync(fromPackageRoot('test', 'fixtures', 'sklearn', 'expected.json'), 'utf8')) as { inputs: { iris: number[][] } }).inputs.iris;
}

/** The same deterministic batch as bench/sklearn-forest.ts (and its Python side). */
function batchRows(base: number[][], n: number): Float64Array {
  const out = new Float64Array(n * 4);
  for (let i = 0; i < n; i++) for (let j = 0; j < 4; j++) out[i * 4 + j] = base[i % base.length]![j]! + (((i * 7 + j * 13) % 11) - 5) * 0.01;
  return out;
}

/** (1) TS forest vs scikit-learn (colleague's bench, same run) vs ONNX Runtime on the same 100 trees. */
export async function benchModelEngines(): Promise<Row[]> {
  const rows = await benchSklearnForest();
  const base = irisRows();
  const model = await OnnxModel.load(new Uint8Array(readFileSync(FOREST_ONNX)));
  const one = { inputs: [{ name: 'input', datatype: 'FP32' as const, shape: [1, 4], data: Float32Array.from(base[0]!) }], outputs: ['label', 'probabilities'] };
  for (let i = 0; i < 2000; i++) await model.run(one);
  const blocks: number[] = [];
  for (let b = 0; b < 100; b++) {
    const t = performance.now();
    for (let i = 0; i < 50; i++) await model.run(one);
    blocks.push(((performance.now() - t) * 1000) / 50);
  }
  const ortSingleUs = median(blocks);
  const X = Float32Array.from(batchRows(base, BATCH));
  const batch = { inputs: [{ name: 'input', datatype: 'FP32' as const, shape: [BATCH, 4], data: X }], outputs: ['label', 'probabilities'] };
  for (let k = 0; k < 3; k++) await model.run(batch);
  const runs: number[] = [];
  let labels: BigInt64Array | undefined;
  for (let k = 0; k < 15; k++) {
    const t = performance.now();
    labels = (await model.run(batch))[0]!.data as BigInt64Array;
    runs.push(performance.now() - t);
  }
  const ortRowsPerS = BATCH / (median(runs) / 1000);
  await model.release();
  // The TS forest on the same batch, for the label agreement and the ratios.
  const ts = loadSklearnModel(new Uint8Array(readFileSync(FOREST_JOBLIB)));
  const tsLabels = ts.predict(batchRows(base, BATCH), BATCH) as number[];
  let agree = 0;
  for (let i = 0; i < BATCH; i++) if (Number(labels![i]) === tsLabels[i]) agree++;
  const tsSingle = rows.find((r) => r.name === 'sklearn-forest single-row predict (TS)')!.value;
  const tsBatch = rows.find((r) => r.name === 'sklearn-forest 10k-row batch (TS)')!.value;
  rows.push(
    { name: 'onnxruntime same forest: single-row run', value: ortSingleUs, unit: 'µs (median)', note: 'onnxruntime-node 1.30, 1 intra-op thread, async run()' },
    { name: 'onnxruntime same forest: 10k-row batch', value: ortRowsPerS, unit: 'rows/s', note: `labels agree with the TS forest on ${agree}/${BATCH} rows` },
    { name: 'TS forest vs onnxruntime, single row', value: ortSingleUs / tsSingle, unit: 'x faster', note: '' },
    { name: 'TS forest vs onnxruntime, 10k batch', value: tsBatch / ortRowsPerS, unit: 'x', note: '>1: TS has more rows/s' },
  );
  printTable('Model engines: 100-tree iris RandomForest (TypeScript vs scikit-learn vs ONNX Runtime)', rows);
  return rows;
}

async function deployModel(url: string, name: string, file: string, handler: string, extra: Record<string, unknown>): Promise<void> {
  const zip = Buffer.from(zipSync({ [handler]: readFileSync(file) }));
  const up = await fetch(`${url}/_modelfn/v1/bundles`, { method: 'POST', body: zip, headers: { 'content-type': 'application/zip' } });
  const { sha256 } = (await up.json()) as { sha256: string };
  const res = await fetch(`${url}/_modelfn/v1/functions/${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ runtime: 'model', handler, memoryMb: 256, timeoutSec: 10, code: { sha256 }, ...extra }),
  });
  if (!res.ok) throw new Error(`deploy ${name} failed: ${res.status} ${await res.text()}`);
}

async function modelStats(url: string, name: string): Promise<{ inference_count: number; execution_count: number }> {
  const body = (await (await fetch(`${url}/v2/models/${name}/stats`)).json()) as { model_stats: Array<{ inference_count: number; execution_count: number }> };
  return body.model_stats[0] ?? { inference_count: 0, execution_count: 0 };
}

/** (2) Requests/s at 64 concurrent clients (OIP infer, one row each), batching on vs off. */
export async function benchModelBatching(connections = 64, seconds = 8, rounds = 3): Promise<Row[]> {
  const platform = await startPlatform(OPEN);
  const body = JSON.stringify({ inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [5.1, 3.5, 1.4, 0.2] }] });
  try {
    await deployModel(platform.url, 'forest-plain', FOREST_ONNX, 'model.onnx', {});
    await deployModel(platform.url, 'forest-batched', FOREST_ONNX, 'model.onnx', { batching: { maxBatchSize: 64, maxDelayMs: 2 } });
    // A second baseline: no batching, instances capped at 2 per core (less contention than 60 processes).
    await deployModel(platform.url, 'forest-capped', FOREST_ONNX, 'model.onnx', { reservedConcurrency: 4 });
    const urls = { off: `${platform.url}/v2/models/forest-plain/infer`, on: `${platform.url}/v2/models/forest-batched/infer`, capped: `${platform.url}/v2/models/forest-capped/infer` };
    // Warm-up: the unbatched function scales out to as many instances as the load asks for.
    await load(urls.off, connections, 4, body);
    await load(urls.capped, connections, 2, body);
    await load(urls.on, connections, 2, body);
    const runs: Record<'on' | 'off' | 'capped', LoadResult[]> = { on: [], off: [], capped: [] };
    const before = await modelStats(platform.url, 'forest-batched');
    // Alternate so that machine noise hits every variant alike.
    for (let r = 0; r < rounds; r++) {
      runs.off.push(await load(urls.off, connections, seconds, body));
      runs.on.push(await load(urls.on, connections, seconds, body));
      runs.capped.push(await load(urls.capped, connections, seconds, body));
    }
    const after = await modelStats(platform.url, 'forest-batched');
    const view = (await (await fetch(`${platform.url}/_modelfn/v1/functions/forest-plain`)).json()) as { instances: { instances: number } };
    const off = median(runs.off.map((x) => x.requestsPerSec));
    const on = median(runs.on.map((x) => x.requestsPerSec));
    const capped = median(runs.capped.map((x) => x.requestsPerSec));
    const failures = (k: 'on' | 'off' | 'capped') => runs[k].reduce((n, x) => n + x.non2xx + x.errors, 0);
    const perCall = (after.inference_count - before.inference_count) / Math.max(1, after.execution_count - before.execution_count);
    const rows: Row[] = [
      { name: `batching off: ${connections} clients, OIP infer, 100-tree forest (ONNX)`, value: off, unit: 'req/s', note: `median of ${rounds}; p50 ${median(runs.off.map((x) => x.p50Ms))} ms; ${view.instances.instances} instances; ${failures('off')} non-2xx` },
      { name: `batching on (64 rows / 2 ms): same load`, value: on, unit: 'req/s', note: `median of ${rounds}; p50 ${median(runs.on.map((x) => x.p50Ms))} ms; ${perCall.toFixed(1)} requests per engine call; ${failures('on')} non-2xx` },
      { name: 'batching on / off', value: on / off, unit: 'x', note: 'target >= 3x' },
      { name: 'batching off, instances capped at 4 (reserved concurrency)', value: capped, unit: 'req/s', note: `median of ${rounds}; p50 ${median(runs.capped.map((x) => x.p50Ms))} ms; ${failures('capped')} non-2xx` },
      { name: 'batching on / off capped at 4 instances', value: on / capped, unit: 'x', note: 'second baseline' },
    ];
    printTable(`Dynamic batching: ${connections} concurrent clients (autocannon, keep-alive)`, rows);
    return rows;
  } finally {
    await platform.stop();
  }
}

async function instances(url: string, name: string): Promise<number> {
  const view = (await (await fetch(`${url}/_modelfn/v1/functions/${name}`)).json()) as { instances: { instances: number } };
  return view.instances.instances;
}

async function coldSeries(spares: boolean, samples: number): Promise<{ latency: number[]; init: number[] }> {
  const platform = await startPlatform({ ...OPEN, MODELFN_REAP_INTERVAL_MS: '20', MODELFN_MODEL_SPARES: spares ? '2' : '0' });
  const latency: number[] = [];
  const init: number[] = [];
  try {
    await deployModel(platform.url, 'iris', fromPackageRoot('examples', 'iris-joblib', 'model.joblib'), 'model.joblib', { keepAliveSec: 0 });
    const body = JSON.stringify([[5.1, 3.5, 1.4, 0.2]]);
    for (let i = 0; i < samples + 1; i++) {
      while ((await instances(platform.url, 'iris')) > 0) await new Promise((r) => setTimeout(r, 10));
      // Let the replacement spare boot and warm up (off the request path), as between real requests.
      await new Promise((r) => setTimeout(r, 1500));
      const started = performance.now();
      const res = await fetch(`${platform.url}/2015-03-31/functions/iris/invocations`, { method: 'POST', body, headers: { 'x-amz-log-type': 'Tail' } });
      const text = await res.text();
      const elapsed = performance.now() - started;
      if (text !== '[0]') throw new Error(`unexpected answer ${text}`);
      const log = Buffer.from(res.headers.get('x-amz-log-result') ?? '', 'base64').toString('utf8');
      const m = /Init Duration: ([\d.]+) ms/.exec(log);
      if (i === 0) continue; // the first one also pays the platform's own first-request costs
      latency.push(elapsed);
      if (m) init.push(Number(m[1]));
    }
    return { latency, init };
  } finally {
    await platform.stop();
  }
}

/** (3) Cold start of a zero-code model function (the iris RandomForest joblib, 100 trees). */
export async function benchModelColdStart(samples = 12): Promise<Row[]> {
  const warm = await coldSeries(true, samples);
  const fresh = await coldSeries(false, Math.max(5, Math.floor(samples / 2)));
  const rows: Row[] = [
    { name: 'model cold start, client-observed (warm spare host)', value: median(warm.latency), unit: 'ms (median)', note: `n=${warm.latency.length}; target <= 30 ms; Invoke of the iris joblib, 100 trees` },
    { name: 'model cold start, Init Duration (warm spare host)', value: median(warm.init), unit: 'ms (median)', note: 'model load included; from REPORT' },
    { name: 'baseline: cold start without spares (new process)', value: median(fresh.latency), unit: 'ms (median)', note: `n=${fresh.latency.length}; MODELFN_MODEL_SPARES=0` },
    { name: 'baseline: Init Duration without spares', value: median(fresh.init), unit: 'ms (median)', note: '' },
  ];
  printTable('Cold start of a zero-code model function (scaled to zero between samples)', rows);
  return rows;
}

/** Every model-serving benchmark, in order. */
export async function benchModelServing(sections: readonly string[] = []): Promise<Row[]> {
  const all = sections.length === 0;
  const rows: Row[] = [];
  if (all || sections.includes('engines')) rows.push(...(await benchModelEngines()));
  if (all || sections.includes('batching')) rows.push(...(await benchModelBatching()));
  if (all || sections.includes('cold')) rows.push(...(await benchModelColdStart()));
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchModelServing(process.argv.slice(2));
}
