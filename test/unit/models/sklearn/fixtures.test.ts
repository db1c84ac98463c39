// Every fixture produced by make_fixtures.py (real scikit-learn 1.2.1 + synthesised >= 1.3
// and >= 1.4.1 tree layouts, every container and protocol) must reproduce sklearn's own
// predict / predict_proba / transform to 1e-6, labels exactly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadSklearnModel } from '../../../../src/models/sklearn/index.js';
import type { TabularModel } from '../../../../src/models/sklearn/index.js';
import { expected, fixture, flat, rowsOf } from './helpers.js';
import type { Json } from './helpers.js';

const exp = expected();

function compare(got: ArrayLike<number | string | boolean>, want: Json[], what: string, rtol?: number): void {
  const w = flat(want);
  assert.equal(got.length, w.length, `${what}: length`);
  for (let i = 0; i < w.length; i++) {
    const g = got[i];
    const e = w[i];
    if (typeof e === 'number' || e === null) {
      assert.equal(typeof g, 'number', `${what}[${i}]: ${String(g)} should be a number`);
      const ev = e === null ? NaN : e;
      if (Number.isNaN(ev)) assert.ok(Number.isNaN(g), `${what}[${i}]: expected NaN, got ${String(g)}`);
      else assert.ok(Math.abs((g as number) - ev) <= (rtol ? rtol * Math.max(1, Math.abs(ev)) : 1e-6), `${what}[${i}]: got ${String(g)}, sklearn ${ev}`);
    } else {
      assert.strictEqual(g, e, `${what}[${i}]`);
    }
  }
}

function run(m: TabularModel, kind: string, rows: Float64Array, nRows: number): ArrayLike<number | string | boolean> {
  if (kind === 'predict') return m.predict(rows, nRows);
  if (kind === 'predict_proba') {
    assert.ok(m.predictProba, 'predictProba missing');
    return m.predictProba(rows, nRows);
  }
  assert.ok(m.transform, 'transform missing');
  return m.transform(rows, nRows);
}

void describe('sklearn fixtures agree with scikit-learn', () => {
  assert.ok(exp.cases.length >= 100, 'expected.json lists the fixtures');
  for (const c of exp.cases) {
    void it(`${c.file}`, () => {
      const m = loadSklearnModel(fixture(c.file));
      if (!c.estimator.endsWith('.Pipeline')) assert.equal(m.estimator, c.estimator);
      for (const [key, outs] of Object.entries(c.inputs)) {
        const { rows, nRows } = rowsOf(exp.inputs[key]!);
        assert.equal(m.nFeatures, exp.inputs[key]![0]!.length);
        for (const [kind, want] of Object.entries(outs)) compare(run(m, kind, rows, nRows), want!, `${c.model} ${key} ${kind}`, c.rtol);
      }
    });
  }
});

void describe('model metadata', () => {
  void it('classifier with string labels exposes classes in sklearn order', () => {
    const m = loadSklearnModel(fixture('models/iris_str_rfc.joblib'));
    assert.equal(m.task, 'classification');
    assert.deepEqual(m.classes, ['setosa', 'versicolor', 'virginica']);
    assert.equal(m.nOutputs, 1);
  });
  void it('object-dtype labels (nested pickle in joblib) are strings', () => {
    assert.deepEqual(loadSklearnModel(fixture('models/iris_obj_dtc.joblib')).classes, ['setosa', 'versicolor', 'virginica']);
  });
  void it('bool, float and negative int labels keep their type', () => {
    assert.deepEqual(loadSklearnModel(fixture('models/bin_bool_rfc.joblib')).classes, [false, true]);
    assert.deepEqual(loadSklearnModel(fixture('models/bin_float_dtc.joblib')).classes, [-1, 3]);
    assert.deepEqual(loadSklearnModel(fixture('models/bin_neg_etc.joblib')).classes, [-3, 4]);
  });
  void it('feature_names_in_ is exposed', () => {
    assert.deepEqual(loadSklearnModel(fixture('models/iris_named_dtc.joblib')).featureNames, [
      'sepal_length', 'sepal_width', 'petal_length', 'petal_width',
    ]);
    assert.equal(loadSklearnModel(fixture('models/iris_dtc.joblib')).featureNames, undefined);
  });
  void it('pipelines are named after their steps and take the final task', () => {
    const p = loadSklearnModel(fixture('models/iris_pipe_std_logreg.joblib'));
    assert.equal(p.estimator, 'Pipeline(StandardScaler, LogisticRegression)');
    assert.equal(p.task, 'classification');
    assert.ok(p.predictProba);
    const t = loadSklearnModel(fixture('models/reg_pipe_std_minmax.joblib'));
    assert.equal(t.estimator, 'Pipeline(StandardScaler, MinMaxScaler)');
    assert.equal(t.task, 'transform');
    assert.equal(t.nOutputs, 5);
    assert.equal(loadSklearnModel(fixture('models/iris_pipe_minmax_passthrough_dtc.joblib')).estimator, 'Pipeline(MinMaxScaler, DecisionTreeClassifier)');
  });
  void it('multi-output regressors report their width', () => {
    for (const f of ['reg2_rfr', 'reg2_dtr', 'reg2_linear', 'reg2_lasso', 'reg2_ridge', 'reg2_etr']) {
      const m = loadSklearnModel(fixture(`models/${f}.joblib`));
      assert.equal(m.task, 'regression', f);
      assert.equal(m.nOutputs, 2, f);
    }
    assert.equal(loadSklearnModel(fixture('models/reg_gbr.joblib')).nOutputs, 1);
  });
  void it('regressors have no predictProba, transformers no classes', () => {
    assert.equal(loadSklearnModel(fixture('models/reg_dtr.joblib')).predictProba, undefined);
    assert.equal(loadSklearnModel(fixture('models/reg_std.joblib')).classes, undefined);
  });
});
