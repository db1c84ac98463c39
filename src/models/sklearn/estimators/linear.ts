/**
 * Linear models: LogisticRegression (binary, multinomial, one-vs-rest) and the linear
 * regressors LinearRegression, Ridge, Lasso, ElasticNet (single and multi-target).
 *
 * decision = X @ coef_.T + intercept_. LogisticRegression's predict uses the decision
 * (binary: > 0), predict_proba follows sklearn's choice between one-vs-rest (expit, then
 * row-normalised for > 2 classes) and multinomial (softmax; binary multinomial is
 * softmax([-d, d])).
 */
import { invalidModel } from '../errors.js';
import type { Label, TabularModel } from '../model.js';
import { asArray, toFloat64, toLabels } from '../numpy/convert.js';
import type { PyObject } from '../pickle/values.js';
import { argmax, checkInput, expit, featureNames, req, sklearnVersion, softmaxInPlace } from './common.js';

interface Linear {
  nFeatures: number;
  nOutputs: number;
  /** nOutputs x nFeatures, row-major */
  coef: Float64Array;
  intercept: Float64Array;
  /** coef_ stored as float32 (e.g. a boosting init estimator fitted on float32 X): sklearn then computes in float32 */
  float32: boolean;
}

function linearParts(est: PyObject): Linear {
  const what = est.cls.name;
  const coefArr = asArray(req(est, 'coef_'), `${what}.coef_`);
  const coef = toFloat64(coefArr, `${what}.coef_`);
  const shape = coefArr.shape;
  if (shape.length !== 1 && shape.length !== 2) throw invalidModel(`${what}.coef_ has shape (${shape.join(', ')})`);
  const coef2d = shape.length === 2; // (n_targets, n_features) vs (n_features,)
  const nOutputs = coef2d ? shape[0]! : 1;
  const nFeatures = coef2d ? shape[1]! : shape[0]!;
  const iv = req(est, 'intercept_');
  const intercept = new Float64Array(nOutputs);
  if (typeof iv === 'number') intercept.fill(iv);
  else {
    const ia = toFloat64(iv, `${what}.intercept_`);
    if (ia.length === 1) intercept.fill(ia[0]!);
    else if (ia.length === nOutputs) intercept.set(ia);
    else throw invalidModel(`${what}.intercept_ has ${ia.length} values for ${nOutputs} outputs`);
  }
  const declared = est.attr('n_features_in_');
  if (typeof declared === 'number' && declared !== nFeatures) throw invalidModel(`${what}.coef_ has ${nFeatures} features, n_features_in_ is ${declared}`);
  const float32 = coefArr.dtype!.kind === 'f' && coefArr.dtype!.itemsize === 4;
  return { nFeatures, nOutputs, coef, intercept, float32 };
}

function decision(m: Linear, rows: Float64Array, nRows: number): Float64Array {
  const { nFeatures: f, nOutputs: k, coef, intercept } = m;
  const out = new Float64Array(nRows * k);
  for (let r = 0; r < nRows; r++) {
    const xo = r * f;
    for (let j = 0; j < k; j++) {
      let s = 0;
      const co = j * f;
      if (m.float32) {
        for (let i = 0; i < f; i++) s = Math.fround(s + Math.fround(Math.fround(rows[xo + i]!) * coef[co + i]!));
        out[r * k + j] = Math.fround(s + intercept[j]!);
      } else {
        for (let i = 0; i < f; i++) s += rows[xo + i]! * coef[co + i]!;
        out[r * k + j] = s + intercept[j]!;
      }
    }
  }
  return out;
}

export function linearRegressor(est: PyObject): TabularModel {
  const m = linearParts(est);
  const name = est.className;
  return {
    estimator: name,
    task: 'regression',
    nFeatures: m.nFeatures,
    nOutputs: m.nOutputs,
    featureNames: featureNames(est),
    predict(rows, nRows) {
      checkInput(rows, nRows, m.nFeatures, name, 'reject');
      return decision(m, rows, nRows);
    },
  };
}

/** sklearn's rule for LogisticRegression.predict_proba: one-vs-rest or softmax. */
function usesOvr(est: PyObject, nClasses: number): boolean {
  const mc = est.attr('multi_class');
  const solver = est.attr('solver');
  if (mc === 'ovr' || mc === 'warn') return true;
  if (mc === 'multinomial') return false;
  // 'auto' (and 'deprecated' / absent in sklearn >= 1.5): multinomial unless binary or liblinear
  const [major, minor] = sklearnVersion(est);
  const newtonOvr = solver === 'newton-cholesky' && (major < 1 || (major === 1 && minor < 6));
  return nClasses <= 2 || solver === 'liblinear' || newtonOvr;
}

export function logisticRegression(est: PyObject): TabularModel {
  const m = linearParts(est);
  const name = est.className;
  const classes: Label[] = toLabels(req(est, 'classes_'), `${est.cls.name}.classes_`);
  const nc = classes.length;
  if (nc < 2 || (nc === 2 ? m.nOutputs !== 1 : m.nOutputs !== nc)) {
    throw invalidModel(`${est.cls.name} has coef_ for ${m.nOutputs} outputs but ${nc} classes`);
  }
  const ovr = usesOvr(est, nc);
  const dec = (rows: Float64Array, nRows: number): Float64Array => {
    checkInput(rows, nRows, m.nFeatures, name, 'reject');
    return decision(m, rows, nRows);
  };
  return {
    estimator: name,
    task: 'classification',
    nFeatures: m.nFeatures,
    nOutputs: 1,
    classes,
    featureNames: featureNames(est),
    predict(rows, nRows) {
      const d = dec(rows, nRows);
      const out = new Array<Label>(nRows);
      for (let r = 0; r < nRows; r++) out[r] = classes[nc === 2 ? (d[r]! > 0 ? 1 : 0) : argmax(d, r * nc, nc)]!;
      return out;
    },
    predictProba(rows, nRows) {
      const d = dec(rows, nRows);
      if (nc === 2) {
        const out = new Float64Array(nRows * 2);
        for (let r = 0; r < nRows; r++) {
          // ovr: expit(d); multinomial: softmax([-d, d]) = expit(2d)
          const p = expit(ovr ? d[r]! : 2 * d[r]!);
          out[2 * r] = 1 - p;
          out[2 * r + 1] = p;
        }
        return out;
      }
      for (let r = 0; r < nRows; r++) {
        const o = r * nc;
        if (ovr) {
          let s = 0;
          for (let j = 0; j < nc; j++) s += d[o + j] = expit(d[o + j]!);
          for (let j = 0; j < nc; j++) d[o + j] = d[o + j]! / s;
        } else {
          softmaxInPlace(d, o, nc);
        }
      }
      return d;
    },
  };
}
