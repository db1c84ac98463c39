/**
 * Which scikit-learn classes are served, by module family and class name (module paths
 * moved over releases, e.g. sklearn.tree.tree -> sklearn.tree._classes, so only the package
 * is checked). Anything else is refused here, naming the class.
 */
import { limit } from '../errors.js';
import type { TabularModel } from '../model.js';
import { describe, PyObject } from '../pickle/values.js';
import type { PyValue } from '../pickle/values.js';
import { unsupported } from './common.js';
import { forest } from './forest.js';
import { gradientBoosting } from './gradient-boosting.js';
import { linearRegressor, logisticRegression } from './linear.js';
import { pipeline } from './pipeline.js';
import { minMaxScaler, standardScaler } from './scalers.js';
import { decisionTree } from './tree.js';

type Factory = (est: PyObject, build: (v: PyValue, path: string) => TabularModel) => TabularModel;

const SUPPORTED: ReadonlyArray<[pkg: string, names: string[], factory: Factory]> = [
  ['sklearn.tree', ['DecisionTreeClassifier', 'DecisionTreeRegressor'], decisionTree],
  ['sklearn.ensemble', ['RandomForestClassifier', 'RandomForestRegressor', 'ExtraTreesClassifier', 'ExtraTreesRegressor'], forest],
  ['sklearn.ensemble', ['GradientBoostingClassifier', 'GradientBoostingRegressor'], gradientBoosting],
  ['sklearn.linear_model', ['LogisticRegression'], logisticRegression],
  ['sklearn.linear_model', ['LinearRegression', 'Ridge', 'Lasso', 'ElasticNet'], linearRegressor],
  ['sklearn.preprocessing', ['StandardScaler'], standardScaler],
  ['sklearn.preprocessing', ['MinMaxScaler'], minMaxScaler],
  ['sklearn.pipeline', ['Pipeline'], pipeline],
];

/** Pipelines and boosting init estimators nest; a tampered file could nest them without end. */
const MAX_NESTING = 32;
let depth = 0;

export function buildEstimator(v: PyValue, path = 'model'): TabularModel {
  if (!(v instanceof PyObject)) throw unsupported(`${path} is ${describe(v)}, not a scikit-learn estimator`);
  const { module, name } = v.cls;
  for (const [pkg, names, factory] of SUPPORTED) {
    if ((module === pkg || module.startsWith(`${pkg}.`)) && names.includes(name)) {
      if (depth >= MAX_NESTING) throw limit(`estimators nested more than ${MAX_NESTING} deep (at ${path})`);
      depth++;
      try {
        return factory(v, buildEstimator);
      } finally {
        depth--;
      }
    }
  }
  throw unsupported(`unsupported estimator ${v.className}${path === 'model' ? '' : ` (at ${path})`}`);
}
