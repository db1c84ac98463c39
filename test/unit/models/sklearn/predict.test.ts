// Prediction-time behaviour beyond the fixture outputs: input validation that mirrors
// sklearn's check_array, NaN routing by layout, float32 comparison, batch == row-by-row,
// and a coarse speed guard for the 100-tree forest.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { performance } from 'node:perf_hooks';
import { loadSklearnModel, SklearnInputError } from '../../../../src/models/sklearn/index.js';
import { expected, fixture, rowsOf } from './helpers.js';

const exp = expected();
const iris = rowsOf(exp.inputs.iris!);

void describe('input validation', () => {
  void it('rejects a wrong number of values', () => {
    const m = loadSklearnModel(fixture('models/iris_rfc.joblib'));
    assert.throws(() => m.predict(new Float64Array(5), 1), /expects 4 features per row/);
    const l = loadSklearnModel(fixture('models/iris_logreg.joblib'));
    assert.throws(() => l.predict(new Float64Array(8), 3), SklearnInputError);
  });
  void it('rejects NaN where sklearn does: pre-1.3 trees, gradient boosting, linear models', () => {
    const row = Float64Array.from([5.1, NaN, 1.4, 0.2]);
    for (const f of ['iris_dtc', 'iris_rfc', 'iris_gbc', 'iris_logreg']) {
      const m = loadSklearnModel(fixture(`models/${f}.joblib`));
      assert.throws(() => m.predict(row, 1), (e: unknown) => e instanceof SklearnInputError && /NaN/.test(e.message), f);
    }
  });
  void it('routes NaN with missing_go_to_left for the >= 1.3 layout', () => {
    const m = loadSklearnModel(fixture('models/iris_rfc_v13.joblib'));
    const p = m.predictProba!(Float64Array.from([NaN, NaN, NaN, NaN]), 1);
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  });
  void it('rejects infinity and values beyond float32 range for trees, infinity for linear models and scalers', () => {
    const tree = loadSklearnModel(fixture('models/iris_rfc_v13.joblib'));
    assert.throws(() => tree.predict(Float64Array.from([Infinity, 1, 1, 1]), 1), /infinity/);
    assert.throws(() => tree.predict(Float64Array.from([1e39, 1, 1, 1]), 1), /too large for float32/);
    assert.throws(() => loadSklearnModel(fixture('models/reg_linear.joblib')).predict(Float64Array.from([1, 2, 3, -Infinity, 5]), 1), /infinity/);
    assert.throws(() => loadSklearnModel(fixture('models/reg_std.joblib')).transform!(Float64Array.from([1, 2, 3, Infinity, 5]), 1), /infinity/);
  });
  void it('scalers pass NaN through (sklearn allow-nan), a following estimator rejects it', () => {
    const s = loadSklearnModel(fixture('models/reg_std.joblib'));
    const out = s.transform!(Float64Array.from([1, NaN, 3, 4, 5]), 1);
    assert.ok(Number.isNaN(out[1]) && Number.isFinite(out[0]));
    const p = loadSklearnModel(fixture('models/reg_pipe_std_minmax_ridge.joblib'));
    assert.throws(() => p.predict(Float64Array.from([1, NaN, 3, 4, 5]), 1), /NaN/);
  });
  void it('zero rows give empty outputs', () => {
    const m = loadSklearnModel(fixture('models/iris_gbc.joblib'));
    assert.equal(m.predict(new Float64Array(0), 0).length, 0);
    assert.equal(m.predictProba!(new Float64Array(0), 0).length, 0);
  });
});

void describe('tree traversal', () => {
  void it('compares float32(x) with the float64 threshold, like sklearn', () => {
    // iris_dtc's root splits petal width (feature 3) at 0.800000011920929 (= float32(0.8)).
    // 0.8000000119209291 is above it in float64 but float32 rounds it onto it: sklearn goes
    // left (class 0); 0.80001 goes right (class 1). Checked with sklearn 1.2.1.
    const m = loadSklearnModel(fixture('models/iris_dtc.joblib'));
    const rows = Float64Array.from([5, 3, 1.5, 0.8000000119209291, 5, 3, 1.5, 0.80001, 5, 3, 1.5, 0.5]);
    assert.deepEqual(m.predict(rows, 3), [0, 1, 0]);
  });
  void it('batch prediction equals row-by-row prediction and does not modify the input', () => {
    const m = loadSklearnModel(fixture('models/iris_gbc.joblib'));
    const copy = iris.rows.slice();
    const batch = m.predictProba!(iris.rows, iris.nRows);
    assert.deepEqual(iris.rows, copy);
    for (let r = 0; r < iris.nRows; r++) {
      const one = m.predictProba!(iris.rows.subarray(r * 4, r * 4 + 4), 1);
      assert.deepEqual(Array.from(one), Array.from(batch.subarray(r * 3, r * 3 + 3)));
    }
  });
});

void describe('speed guard (the real benchmark is bench/sklearn-forest.ts)', () => {
  void it('100-tree iris forest: single-row predict well under 250 µs (sklearn ~2.5 ms)', () => {
    const m = loadSklearnModel(fixture('models/bench_iris_rfc100.joblib.z'));
    const row = iris.rows.subarray(0, 4);
    for (let i = 0; i < 2000; i++) m.predict(row, 1);
    const n = 5000;
    const t = performance.now();
    for (let i = 0; i < n; i++) m.predict(row, 1);
    const us = ((performance.now() - t) * 1000) / n;
    assert.ok(us < 250, `single-row predict took ${us.toFixed(1)} µs`);
  });
});
