/**
 * DummyClassifier / DummyRegressor as used for gradient boosting's `init_` (the default
 * 'prior' / mean / quantile initial estimators): constant predictions.
 */
import { toFloat64 } from '../numpy/convert.js';
import type { PyObject } from '../pickle/values.js';
import { argmax, req, str, unsupported } from './common.js';

/** predict_proba row of a DummyClassifier (same for every input row). */
export function dummyClassifierProba(est: PyObject): Float64Array {
  const strategy = str(est.attr('_strategy') ?? req(est, 'strategy'), 'DummyClassifier.strategy');
  const prior = toFloat64(req(est, 'class_prior_'), 'DummyClassifier.class_prior_');
  switch (strategy) {
    case 'prior':
      return prior;
    case 'most_frequent': {
      const p = new Float64Array(prior.length);
      p[argmax(prior, 0, prior.length)] = 1;
      return p;
    }
    case 'uniform':
      return new Float64Array(prior.length).fill(1 / prior.length);
    default:
      throw unsupported(`DummyClassifier(strategy='${strategy}') is not supported as an init estimator`);
  }
}

/** predict value(s) of a DummyRegressor: `constant_` holds them whatever the strategy. */
export function dummyRegressorValue(est: PyObject): Float64Array {
  return toFloat64(req(est, 'constant_'), 'DummyRegressor.constant_');
}
