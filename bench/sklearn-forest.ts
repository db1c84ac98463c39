// Benchmark: the TypeScript RandomForest (100 trees, iris) against scikit-learn's own predict.
// Run: npm run build && node dist/bench/sklearn-forest.js
// scikit-learn is timed in the same run when /usr/bin/python3 has it (one python process,
// timed inside python with time.perf_counter); otherwise only the TypeScript side is reported.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadSklearnModel } from '../src/models/sklearn/index.js';

export interface Row {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

const PYTHON = '/usr/bin/python3';
const BATCH = 10_000;

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

/** Deterministic batch rows, built by the same formula in python below. */
function batchRows(base: number[][], n: number): Float64Array {
  const out = new Float64Array(n * 4);
  for (let i = 0; i < n; i++) for (let j = 0; j < 4; j++) out[i * 4 + j] = base[i % base.length]![j]! + ((((i * 7 + j * 13) % 11) - 5) * 0.01);
  return out;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

const PY_SCRIPT = `
import json, sys, time, joblib, numpy as np
model = joblib.load(sys.argv[1])
base = np.array(json.loads(sys.argv[2]))
n = int(sys.argv[3])
i = np.arange(n)[:, None]; j = np.arange(4)[None, :]
X = base[i[:, 0] % len(base)] + (((i * 7 + j * 13) % 11) - 5) * 0.01
row = base[:1]
for _ in range(50): model.predict(row)
single = []
for _ in range(400):
    t = time.perf_counter(); model.predict(row); single.append(time.perf_counter() - t)
model.predict(X)
batch = []
for _ in range(7):
    t = time.perf_counter(); pred = model.predict(X); batch.append(time.perf_counter() - t)
print(json.dumps({"single_us": float(np.median(single)) * 1e6, "batch_rows_per_s": n / float(np.median(batch)), "pred": pred[:200].tolist()}))
`;

interface PyResult {
  single_us: number;
  batch_rows_per_s: number;
  pred: number[];
}

function runPython(modelPath: string, base: number[][]): PyResult | null {
  const probe = spawnSync(PYTHON, ['-c', 'import sklearn, joblib'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) return null;
  const r = spawnSync(PYTHON, ['-c', PY_SCRIPT, modelPath, JSON.stringify(base), String(BATCH)], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`python benchmark failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as PyResult;
}

export async function benchSklearnForest(): Promise<Row[]> {
  const root = repoRoot();
  const modelPath = join(root, 'test', 'fixtures', 'sklearn', 'models', 'bench_iris_rfc100.joblib.z');
  const expected = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'sklearn', 'expected.json'), 'utf8')) as { inputs: { iris: number[][] } };
  const base = expected.inputs.iris;
  const t0 = performance.now();
  const model = loadSklearnModel(new Uint8Array(readFileSync(modelPath)));
  const loadMs = performance.now() - t0;

  // single row: median over blocks of 100 calls (timer resolution), after warm-up
  const row = Float64Array.from(base[0]!);
  for (let i = 0; i < 5000; i++) model.predict(row, 1);
  const blocks: number[] = [];
  for (let b = 0; b < 200; b++) {
    const t = performance.now();
    for (let i = 0; i < 100; i++) model.predict(row, 1);
    blocks.push(((performance.now() - t) * 1000) / 100);
  }
  const singleUs = median(blocks);

  const X = batchRows(base, BATCH);
  for (let k = 0; k < 5; k++) model.predict(X, BATCH); // warm-up (JIT)
  const runs: number[] = [];
  let pred: ReturnType<typeof model.predict> = [];
  for (let k = 0; k < 21; k++) {
    const t = performance.now();
    pred = model.predict(X, BATCH);
    runs.push(performance.now() - t);
  }
  const rowsPerS = BATCH / (median(runs) / 1000);
  // yield once so callers can interleave benchmarks
  await new Promise((r) => setImmediate(r));

  const rows: Row[] = [
    { name: 'sklearn-forest load (100 trees, zlib joblib)', value: loadMs, unit: 'ms' },
    { name: 'sklearn-forest single-row predict (TS)', value: singleUs, unit: 'µs (median)' },
    { name: 'sklearn-forest 10k-row batch (TS)', value: rowsPerS, unit: 'rows/s' },
  ];
  const py = runPython(modelPath, base);
  if (!py) {
    rows.push({ name: 'sklearn-forest scikit-learn comparison', value: NaN, unit: '', note: `skipped: ${PYTHON} has no scikit-learn` });
    return rows;
  }
  const agree = py.pred.every((p, i) => p === pred[i]);
  rows.push(
    { name: 'sklearn-forest single-row predict (scikit-learn)', value: py.single_us, unit: 'µs (median)' },
    { name: 'sklearn-forest 10k-row batch (scikit-learn)', value: py.batch_rows_per_s, unit: 'rows/s' },
    { name: 'sklearn-forest single-row speed-up vs scikit-learn', value: py.single_us / singleUs, unit: 'x', note: 'requirement >= 100x' },
    { name: 'sklearn-forest batch throughput ratio vs scikit-learn', value: rowsPerS / py.batch_rows_per_s, unit: 'x', note: `requirement >= 1x; first 200 labels ${agree ? 'agree' : 'DISAGREE'}` },
  );
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await benchSklearnForest()) {
    const v = Number.isFinite(r.value) ? (r.value >= 100 ? r.value.toFixed(0) : r.value.toFixed(2)) : '-';
    console.log(`${r.name.padEnd(58)} ${v.padStart(12)} ${r.unit}${r.note ? `  (${r.note})` : ''}`);
  }
}
