/**
 * GradientBoostingClassifier / GradientBoostingRegressor.
 *
 * raw = init + learning_rate * sum of stage trees (estimators_ is an object array of shape
 * (n_stages, K), K = 1 for regression and binary classification, n_classes otherwise).
 * The init term comes from `init_`: 'zero', a DummyClassifier/DummyRegressor (the defaults),
 * or any other supported estimator. Classifier init probabilities are clipped to
 * [eps, 1 - eps] with float32's eps and mapped through the loss link (logit, half-logit for
 * the exponential loss, log for multinomial; sklearn >= 1.4 centres the multinomial logits,
 * which changes no probability). Regression losses all predict the raw score.
 */
import { invalidModel } from '../errors.js';
import type { TabularModel } from '../model.js';
import { asArray, toLabels } from '../numpy/convert.js';
import { describe, PyObject } from '../pickle/values.js';
import type { PyValue } from '../pickle/values.js';
import { argmax, expit, featureNames, nFeaturesOf, num, req, softmaxInPlace, str, unsupported } from './common.js';
import { dummyClassifierProba, dummyRegressorValue } from './dummy.js';
import { treeOf } from './tree-compile.js';
import { TreeEnsemble } from './tree-ensemble.js';

export type BuildEstimator = (v: PyValue, path: string) => TabularModel;

const F32_EPS = 2 ** -23;
const clip = (p: number): number => Math.min(Math.max(p, F32_EPS), 1 - F32_EPS);

type Link = 'binomial' | 'exponential' | 'multinomial' | 'identity';

/**
 * Fills out[r*K..] with the init raw predictions. sklearn hands the init estimator X after
 * the trees' float32 validation, so `rows` here are already float32-rounded.
 */
type Init = (rows: Float64Array, nRows: number, out: Float64Array) => void;

function initOf(est: PyObject, link: Link, k: number, build: BuildEstimator): Init {
  const init = req(est, 'init_');
  if (init === 'zero') return () => undefined;
  if (!(init instanceof PyObject)) throw invalidModel(`${est.cls.name}.init_ is ${describe(init)}`);
  const toRaw = (p: Float64Array, po: number, out: Float64Array, o: number): void => {
    if (link === 'multinomial') {
      for (let j = 0; j < k; j++) out[o + j] = Math.log(clip(p[po + j]!));
    } else {
      const p1 = clip(p[po + 1]!);
      out[o] = (link === 'exponential' ? 0.5 : 1) * Math.log(p1 / (1 - p1));
    }
  };
  if (link === 'identity') {
    if (init.cls.name === 'DummyRegressor') {
      const c = dummyRegressorValue(init)[0]!;
      return (_rows, nRows, out) => out.fill(c, 0, nRows);
    }
    const m = build(init, `${est.cls.name}.init_`);
    return (rows, nRows, out) => out.set(m.predict(rows, nRows) as Float64Array);
  }
  if (init.cls.name === 'DummyClassifier') {
    const p = dummyClassifierProba(init);
    const row = new Float64Array(k);
    toRaw(p, 0, row, 0);
    return (_rows, nRows, out) => {
      for (let r = 0; r < nRows; r++) out.set(row, r * k);
    };
  }
  const m = build(init, `${est.cls.name}.init_`);
  if (!m.predictProba) throw unsupported(`${est.cls.name}.init_ (${m.estimator}) has no predict_proba`);
  const nc = m.classes?.length ?? 0;
  return (rows, nRows, out) => {
    const p = m.predictProba!(rows, nRows);
    for (let r = 0; r < nRows; r++) toRaw(p, r * nc, out, r * k);
  };
}

export function gradientBoosting(est: PyObject, build: BuildEstimator): TabularModel {
  const name = est.className;
  const isClassifier = est.cls.name.endsWith('Classifier');
  const stages = asArray(req(est, 'estimators_'), `${est.cls.name}.estimators_`);
  if (stages.dtype!.kind !== 'O' || stages.shape.length !== 2 || stages.size === 0) {
    throw invalidModel(`${est.cls.name}.estimators_ is ${stages.describe()}, expected an object array (n_stages, K)`);
  }
  const k = stages.shape[1]!;
  const trees = stages.objects!.map((t, i) => treeOf(t, `${est.cls.name}.estimators_[${Math.floor(i / k)}, ${i % k}]`));
  const nFeatures = nFeaturesOf(est, trees[0]!.nFeatures);
  for (const t of trees) if (t.nOutputs !== 1 || t.maxClasses !== 1) throw invalidModel(`${name} stage tree is not a single-output regression tree`);
  const ens = new TreeEnsemble(trees, nFeatures, 1, (t, node, dst, off) => (dst[off] = t.values[node]!), true);
  const lr = num(req(est, 'learning_rate'), `${est.cls.name}.learning_rate`);

  let link: Link = 'identity';
  let classes: (number | string | boolean)[] | undefined;
  if (isClassifier) {
    classes = toLabels(req(est, 'classes_'), `${est.cls.name}.classes_`);
    const loss = str(req(est, 'loss'), `${est.cls.name}.loss`);
    if (loss === 'exponential') link = 'exponential';
    else if (loss === 'log_loss' || loss === 'deviance') link = classes.length === 2 ? 'binomial' : 'multinomial';
    else throw unsupported(`${name} with loss='${loss}' is not supported`);
    const expectK = classes.length === 2 ? 1 : classes.length;
    if (k !== expectK || (link === 'exponential' && k !== 1)) throw invalidModel(`${name} has K=${k} trees per stage for ${classes.length} classes`);
  } else if (k !== 1) {
    throw invalidModel(`${name} has K=${k} trees per stage, expected 1`);
  }
  const init = initOf(est, link, k, build);
  const initObj = est.attr('init_');
  const needsRows = initObj instanceof PyObject && !initObj.cls.name.startsWith('Dummy');

  const raw = (rows: Float64Array, nRows: number): Float64Array => {
    const x = ens.float32Input(rows, nRows, name);
    const out = new Float64Array(nRows * k);
    init(needsRows ? Float64Array.from(x.subarray(0, rows.length)) : rows, nRows, out);
    ens.addByColumn(x, nRows, out, k, lr);
    return out;
  };
  const names = featureNames(est);
  if (!isClassifier) {
    return { estimator: name, task: 'regression', nFeatures, nOutputs: 1, featureNames: names, predict: raw };
  }
  const labels = classes!;
  const nc = labels.length;
  const proba = (rows: Float64Array, nRows: number): Float64Array => {
    const r = raw(rows, nRows);
    if (link === 'multinomial') {
      for (let i = 0; i < nRows; i++) softmaxInPlace(r, i * nc, nc);
      return r;
    }
    const out = new Float64Array(nRows * 2);
    for (let i = 0; i < nRows; i++) {
      const p = expit(link === 'exponential' ? 2 * r[i]! : r[i]!);
      out[2 * i] = 1 - p;
      out[2 * i + 1] = p;
    }
    return out;
  };
  return {
    estimator: name,
    task: 'classification',
    nFeatures,
    nOutputs: 1,
    classes: labels,
    featureNames: names,
    predict(rows, nRows) {
      const out = new Array<number | string | boolean>(nRows);
      if (link === 'multinomial') {
        const r = raw(rows, nRows);
        for (let i = 0; i < nRows; i++) out[i] = labels[argmax(r, i * nc, nc)]!;
      } else if (link === 'exponential') {
        const r = raw(rows, nRows); // sklearn 1.2: (raw >= 0)
        for (let i = 0; i < nRows; i++) out[i] = labels[r[i]! >= 0 ? 1 : 0]!;
      } else {
        const p = proba(rows, nRows); // argmax of [1 - p, p]
        for (let i = 0; i < nRows; i++) out[i] = labels[p[2 * i + 1]! > p[2 * i]! ? 1 : 0]!;
      }
      return out;
    },
    predictProba: proba,
  };
}
