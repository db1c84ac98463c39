// Differential test against the real scikit-learn: models of every family modelfn serves, with
// random hyperparameters, data and label types (test/fixtures/sklearn/random_models.py), must
// predict what scikit-learn predicts, read directly and served over a route and the Open
// Inference Protocol. The fixed fixtures elsewhere pin known cases; this one looks for the cases
// nobody wrote down.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSklearnModel } from '../../src/models/sklearn/index.js';
import { fromPackageRoot } from '../../src/shared/paths.js';
import { removeTree, startPlatform } from '../support/platform.js';
import type { RunningPlatform } from '../support/platform.js';
import { PYTHON3, need, requirements } from '../support/requirements.js';
import { mustDeployModel } from './models-support.js';

interface RandomModel {
  readonly file: string;
  readonly family: string;
  readonly task: 'classification' | 'regression';
  readonly labels: string;
  readonly rows: number[][];
  readonly predict: unknown[];
  readonly proba?: number[][];
}

const SEEDS = [1, 2, 3];
const PER_SEED = 150;
let work: string | undefined;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'modelfn-sklearn-random-'));
});

after(async () => {
  if (work) await removeTree(work);
});

async function generate(seed: number): Promise<{ dir: string; models: RandomModel[] }> {
  const dir = join(work!, `seed-${seed}`);
  await import('node:fs/promises').then((fs) => fs.mkdir(dir, { recursive: true }));
  await new Promise<void>((resolve, reject) =>
    execFile(PYTHON3, [fromPackageRoot('test', 'fixtures', 'sklearn', 'random_models.py'), String(seed), String(PER_SEED), dir], { timeout: 120_000 }, (err, _out, stderr) =>
      err ? reject(new Error(`random_models.py failed: ${stderr || err.message}`)) : resolve(),
    ),
  );
  return { dir, models: JSON.parse(await readFile(join(dir, 'models.json'), 'utf8')) as RandomModel[] };
}

/** Labels equal as JSON values; numbers (regression outputs, probabilities) to 1e-6. */
function same(got: unknown, expected: unknown): boolean {
  if (typeof got === 'number' && typeof expected === 'number') return Math.abs(got - expected) <= 1e-6 * Math.max(1, Math.abs(expected));
  return got === expected;
}

function firstDifference(got: readonly unknown[], expected: readonly unknown[]): string | undefined {
  if (got.length !== expected.length) return `${got.length} values, expected ${expected.length}`;
  const at = got.findIndex((g, i) => !same(g, expected[i]));
  return at < 0 ? undefined : `at ${at}: ${JSON.stringify(got[at])}, expected ${JSON.stringify(expected[at])}`;
}

test(`${SEEDS.length * PER_SEED} random scikit-learn models predict and predict_proba as scikit-learn does`, async (t) => {
  if (!need(t, requirements.sklearn)) return;
  const wrong: string[] = [];
  let checked = 0;
  for (const seed of SEEDS) {
    const { dir, models } = await generate(seed);
    for (const m of models) {
      const model = loadSklearnModel(await readFile(join(dir, m.file)));
      const rows = Float64Array.from(m.rows.flat());
      const where = `seed ${seed} ${m.file} (${m.family}, ${m.task}, ${m.labels})`;
      const predicted = firstDifference(Array.from(model.predict(rows, m.rows.length)), m.predict.flat());
      if (predicted) wrong.push(`${where} predict ${predicted}`);
      if (m.proba) {
        if (!model.predictProba) wrong.push(`${where} has no predict_proba`);
        else {
          const proba = firstDifference(Array.from(model.predictProba(rows, m.rows.length)), m.proba.flat());
          if (proba) wrong.push(`${where} predict_proba ${proba}`);
        }
      }
      checked++;
    }
  }
  assert.deepEqual(wrong, [], `${wrong.length} of ${checked} models differ from scikit-learn`);
  assert.equal(checked, SEEDS.length * PER_SEED);
});

test('random scikit-learn models of each label type answer over a route and the Open Inference Protocol as scikit-learn does', async (t) => {
  if (!need(t, requirements.sklearn)) return;
  const { dir, models } = await generate(SEEDS[0]!);
  // One model per kind of answer: int, str, float and bool labels, one and two regression outputs.
  const picked = new Map<string, RandomModel>();
  for (const m of models) if (!picked.has(`${m.task}:${m.labels}`)) picked.set(`${m.task}:${m.labels}`, m);
  assert.ok(picked.size >= 5, `label kinds generated: ${[...picked.keys()].join(', ')}`);
  let platform: RunningPlatform | undefined;
  try {
    platform = await startPlatform();
    for (const [kind, m] of picked) {
      const name = `random-${m.file.replace('.joblib', '')}`;
      await mustDeployModel(platform.url, name, join(dir, m.file), { routes: [{ method: 'POST', path: `/${name}` }] });
      const where = `${kind} (${m.family}, ${m.file})`;
      const routed = await fetch(`${platform.url}/${name}`, { method: 'POST', body: JSON.stringify(m.rows) });
      assert.equal(routed.status, 200, `${where}: ${await routed.clone().text()}`);
      assert.equal(firstDifference(((await routed.json()) as unknown[]).flat(), m.predict.flat()), undefined, `${where} over its route`);
      if (m.proba) {
        const proba = await fetch(`${platform.url}/${name}?proba=1`, { method: 'POST', body: JSON.stringify(m.rows) });
        assert.equal(firstDifference(((await proba.json()) as number[][]).flat(), m.proba.flat()), undefined, `${where} predict_proba over its route`);
      }
      const nFeatures = m.rows[0]!.length;
      const inferred = await fetch(`${platform.url}/v2/models/${name}/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [{ name: 'input', shape: [m.rows.length, nFeatures], datatype: 'FP64', data: m.rows.flat() }], outputs: [{ name: 'predict' }] }),
      });
      assert.equal(inferred.status, 200, `${where} over OIP: ${await inferred.clone().text()}`);
      const output = ((await inferred.json()) as { outputs: Array<{ name: string; data: unknown[] }> }).outputs[0]!;
      assert.equal(output.name, 'predict');
      assert.equal(firstDifference(output.data, m.predict.flat()), undefined, `${where} over OIP`);
    }
  } finally {
    await platform?.cleanup();
  }
});
