/**
 * RandomForest{Classifier,Regressor} and ExtraTrees{Classifier,Regressor}: identical at
 * prediction time. `estimators_` is a list of fitted decision trees whose `tree_`s
 * are merged into one TreeEnsemble; classifiers average per-tree probabilities, regressors
 * average predictions (sklearn's _accumulate_prediction then division by n_estimators).
 */
import { invalidModel } from '../errors.js';
import type { TabularModel } from '../model.js';
import { describe } from '../pickle/values.js';
import type { PyObject } from '../pickle/values.js';
import { req } from './common.js';
import { treeOf } from './tree-compile.js';
import { treeClassifier, treeRegressor } from './tree.js';

export function forest(est: PyObject): TabularModel {
  const members = req(est, 'estimators_');
  if (!Array.isArray(members) || members.length === 0) throw invalidModel(`${est.cls.name}.estimators_ is ${describe(members)}, expected a non-empty list of trees`);
  const trees = members.map((m, i) => treeOf(m, `${est.cls.name}.estimators_[${i}]`));
  return est.cls.name.endsWith('Classifier') ? treeClassifier(est, trees, 'mean') : treeRegressor(est, trees, 'mean');
}
