/**
 * StandardScaler and MinMaxScaler (transform only). Both let NaN through, as sklearn does
 * (check_array(force_all_finite='allow-nan')); infinity is rejected.
 *   StandardScaler: (x - mean_) / scale_, each part skipped when with_mean/with_std is off
 *   MinMaxScaler:   x * scale_ + min_, then clipped to feature_range when clip=True
 */
import { invalidModel } from '../errors.js';
import type { TabularModel } from '../model.js';
import { toFloat64 } from '../numpy/convert.js';
import { describe, PyTuple } from '../pickle/values.js';
import type { PyObject } from '../pickle/values.js';
import { checkInput, featureNames, nFeaturesOf, num, req } from './common.js';

function vector(est: PyObject, attr: string, n: number | undefined): Float64Array | null {
  const v = est.attr(attr);
  if (v === undefined || v === null) return null;
  const a = toFloat64(v, `${est.cls.name}.${attr}`);
  if (n !== undefined && a.length !== n) throw invalidModel(`${est.cls.name}.${attr} has ${a.length} values for ${n} features`);
  return a;
}

function transformer(est: PyObject, nFeatures: number, fn: (x: Float64Array, out: Float64Array) => void): TabularModel {
  const name = est.className;
  const transform = (rows: Float64Array, nRows: number): Float64Array => {
    checkInput(rows, nRows, nFeatures, name, 'allow');
    const out = new Float64Array(rows.length);
    fn(rows, out);
    return out;
  };
  return { estimator: name, task: 'transform', nFeatures, nOutputs: nFeatures, featureNames: featureNames(est), transform, predict: transform };
}

export function standardScaler(est: PyObject): TabularModel {
  const withMean = est.attr('with_mean') !== false;
  const withStd = est.attr('with_std') !== false;
  const declared = est.attr('n_features_in_');
  const mean = withMean ? vector(est, 'mean_', typeof declared === 'number' ? declared : undefined) : null;
  const scale = withStd ? vector(est, 'scale_', typeof declared === 'number' ? declared : undefined) : null;
  if (withMean && !mean) throw invalidModel('StandardScaler(with_mean=True) has no mean_');
  if (withStd && !scale) throw invalidModel('StandardScaler(with_std=True) has no scale_');
  const n = nFeaturesOf(est, (mean ?? scale)?.length);
  return transformer(est, n, (x, out) => {
    for (let i = 0; i < x.length; i++) {
      const f = i % n;
      let v = x[i]!;
      if (mean) v -= mean[f]!;
      if (scale) v /= scale[f]!;
      out[i] = v;
    }
  });
}

export function minMaxScaler(est: PyObject): TabularModel {
  const scale = vector(est, 'scale_', undefined);
  if (!scale) throw invalidModel('MinMaxScaler has no scale_');
  const n = nFeaturesOf(est, scale.length);
  const min = vector(est, 'min_', n);
  if (!min || scale.length !== n) throw invalidModel(`MinMaxScaler has scale_/min_ inconsistent with ${n} features`);
  const clip = est.attr('clip') === true;
  const range = req(est, 'feature_range');
  if (!(range instanceof PyTuple) || range.items.length !== 2) throw invalidModel(`MinMaxScaler.feature_range is ${describe(range)}`);
  const lo = num(range.items[0], 'feature_range[0]');
  const hi = num(range.items[1], 'feature_range[1]');
  return transformer(est, n, (x, out) => {
    for (let i = 0; i < x.length; i++) {
      const f = i % n;
      let v = x[i]! * scale[f]! + min[f]!;
      if (clip) v = v < lo ? lo : v > hi ? hi : v; // NaN stays NaN, like np.clip
      out[i] = v;
    }
  });
}
