/**
 * DecisionTreeClassifier / DecisionTreeRegressor, and the shared builders forest.ts uses.
 *
 * Classification follows sklearn exactly: a single tree's predict is the argmax of the raw
 * leaf values and predict_proba normalises the leaf row (a zero row stays zero); a forest
 * normalises every tree's leaf row first, then averages. Normalising also makes leaves of
 * sklearn >= 1.4.1 (stored as fractions) and older ones (weighted counts) give the same
 * probabilities.
 */
import type { Label, TabularModel } from '../model.js';
import { toLabels } from '../numpy/convert.js';
import type { PyObject } from '../pickle/values.js';
import { featureNames, int, labelsFor, nFeaturesOf, req, unsupported } from './common.js';
import { treeOf } from './tree-compile.js';
import { TreeEnsemble } from './tree-ensemble.js';
import type { CompiledTree } from './tree-compile.js';

export type Averaging = 'single' | 'mean';

function nOutputsOf(est: PyObject): number {
  const v = est.attr('n_outputs_');
  return v === undefined ? 1 : int(v, 'n_outputs_');
}

export function treeClassifier(est: PyObject, trees: CompiledTree[], averaging: Averaging): TabularModel {
  const name = est.className;
  if (nOutputsOf(est) !== 1) throw unsupported(`${name} with ${nOutputsOf(est)} outputs: multi-output classification is not supported`);
  const classes: Label[] = toLabels(req(est, 'classes_'), `${est.cls.name}.classes_`);
  const k = classes.length;
  const nFeatures = nFeaturesOf(est, trees[0]!.nFeatures);
  for (const t of trees) {
    if (t.nClasses[0] !== k) throw unsupported(`${name}: a tree has ${t.nClasses[0]} classes but classes_ has ${k}`);
  }
  const normalizeLeaves = averaging === 'mean';
  const ens = new TreeEnsemble(trees, nFeatures, k, (t, node, dst, off) => {
    const src = node * t.nOutputs * t.maxClasses; // output 0
    let s = 0;
    for (let j = 0; j < k; j++) s += t.values[src + j]!;
    const div = normalizeLeaves && s !== 0 ? s : 1;
    for (let j = 0; j < k; j++) dst[off + j] = t.values[src + j]! / div;
  });
  const raw = (rows: Float64Array, nRows: number): Float64Array => {
    const x = ens.float32Input(rows, nRows, name);
    const out = new Float64Array(nRows * k);
    ens.sumInto(x, nRows, out);
    return out;
  };
  const proba = (rows: Float64Array, nRows: number): Float64Array => {
    const out = raw(rows, nRows);
    for (let r = 0; r < nRows; r++) {
      const o = r * k;
      if (averaging === 'mean') {
        for (let j = 0; j < k; j++) out[o + j] = out[o + j]! / ens.nTrees;
      } else {
        let s = 0;
        for (let j = 0; j < k; j++) s += out[o + j]!;
        if (s === 0) s = 1;
        for (let j = 0; j < k; j++) out[o + j] = out[o + j]! / s;
      }
    }
    return out;
  };
  return {
    estimator: name,
    task: 'classification',
    nFeatures,
    nOutputs: 1,
    classes,
    featureNames: featureNames(est),
    predict(rows, nRows) {
      // sklearn: a single tree argmaxes its raw leaf values, a forest its mean probabilities
      return labelsFor(classes, averaging === 'mean' ? proba(rows, nRows) : raw(rows, nRows), nRows);
    },
    predictProba: proba,
  };
}

export function treeRegressor(est: PyObject, trees: CompiledTree[], averaging: Averaging): TabularModel {
  const name = est.className;
  const nOutputs = nOutputsOf(est);
  const nFeatures = nFeaturesOf(est, trees[0]!.nFeatures);
  for (const t of trees) {
    if (t.nOutputs !== nOutputs || t.maxClasses !== 1) throw unsupported(`${name}: a tree has ${t.nOutputs} outputs x ${t.maxClasses}, expected ${nOutputs} x 1`);
  }
  const ens = new TreeEnsemble(trees, nFeatures, nOutputs, (t, node, dst, off) => {
    for (let o = 0; o < nOutputs; o++) dst[off + o] = t.values[node * nOutputs + o]!;
  });
  return {
    estimator: name,
    task: 'regression',
    nFeatures,
    nOutputs,
    featureNames: featureNames(est),
    predict(rows, nRows) {
      const x = ens.float32Input(rows, nRows, name);
      const out = new Float64Array(nRows * nOutputs);
      ens.sumInto(x, nRows, out);
      if (averaging === 'mean') for (let i = 0; i < out.length; i++) out[i] = out[i]! / ens.nTrees;
      return out;
    },
  };
}

export function decisionTree(est: PyObject): TabularModel {
  const trees = [treeOf(est, est.cls.name)];
  return est.cls.name.endsWith('Classifier') ? treeClassifier(est, trees, 'single') : treeRegressor(est, trees, 'single');
}
