/**
 * sklearn.pipeline.Pipeline: transformers applied in order, then the final step's
 * predict / predict_proba / transform. 'passthrough' and None steps are skipped.
 */
import { invalidModel } from '../errors.js';
import type { TabularModel } from '../model.js';
import { describe, PyTuple } from '../pickle/values.js';
import type { PyObject, PyValue } from '../pickle/values.js';
import { req, unsupported } from './common.js';

export type BuildEstimator = (v: PyValue, path: string) => TabularModel;

export function pipeline(est: PyObject, build: BuildEstimator): TabularModel {
  const steps = req(est, 'steps');
  if (!Array.isArray(steps) || steps.length === 0) throw invalidModel(`Pipeline.steps is ${describe(steps)}`);
  const models: TabularModel[] = [];
  steps.forEach((s, i) => {
    if (!(s instanceof PyTuple) || s.items.length !== 2 || typeof s.items[0] !== 'string') throw invalidModel(`Pipeline.steps[${i}] is ${describe(s)}`);
    const step = s.items[1];
    if (step === 'passthrough' || step === null) return;
    models.push(build(step as PyValue, `Pipeline.steps[${i}] '${s.items[0]}'`));
  });
  if (models.length === 0) throw unsupported('Pipeline whose steps are all passthrough');
  const final = models[models.length - 1]!;
  const transformers = final.task === 'transform' ? models : models.slice(0, -1);
  for (let i = 0; i < models.length - 1; i++) {
    if (models[i]!.task !== 'transform') throw unsupported(`Pipeline step ${models[i]!.estimator} is not a transformer but is not last`);
    if (models[i]!.nOutputs !== models[i + 1]!.nFeatures) {
      throw invalidModel(`Pipeline step ${models[i]!.estimator} outputs ${models[i]!.nOutputs} columns, the next step expects ${models[i + 1]!.nFeatures}`);
    }
  }
  const prefix = (rows: Float64Array, nRows: number, upto: number): Float64Array => {
    let x = rows;
    for (let i = 0; i < upto; i++) x = transformers[i]!.transform!(x, nRows);
    return x;
  };
  const nPre = final.task === 'transform' ? transformers.length - 1 : transformers.length;
  const short = (m: TabularModel): string => (m.estimator.startsWith('Pipeline(') ? m.estimator : m.estimator.split('.').pop()!);
  const first = models[0]!;
  const out: TabularModel = {
    estimator: `Pipeline(${models.map(short).join(', ')})`,
    task: final.task,
    nFeatures: first.nFeatures,
    nOutputs: final.nOutputs,
    classes: final.classes,
    featureNames: first.featureNames,
    predict: (rows, nRows) => final.predict(prefix(rows, nRows, nPre), nRows),
  };
  return {
    ...out,
    ...(final.predictProba ? { predictProba: (rows: Float64Array, nRows: number) => final.predictProba!(prefix(rows, nRows, nPre), nRows) } : {}),
    ...(final.transform ? { transform: (rows: Float64Array, nRows: number) => final.transform!(prefix(rows, nRows, nPre), nRows) } : {}),
  };
}
