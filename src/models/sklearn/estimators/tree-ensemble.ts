/**
 * Many compiled trees merged into one set of flat typed arrays (per-tree roots, children
 * interleaved, leaf rows pre-computed by the caller), so a forest's hot loop touches a few
 * contiguous arrays and allocates nothing per row. Inputs are cast to float32 first, as
 * sklearn does, and compared with the float64 thresholds: `float32(x) <= threshold` goes left.
 */
import { invalidModel, SklearnInputError } from '../errors.js';
import type { CompiledTree } from './tree-compile.js';

/** Fills `stride` leaf values of `tree` node `node` into dst at off. */
export type LeafFill = (tree: CompiledTree, node: number, dst: Float64Array, off: number) => void;

export class TreeEnsemble {
  readonly nTrees: number;
  readonly roots: Int32Array;
  /** children interleaved: kids[2n] = left, kids[2n + 1] = right (global indices) */
  readonly kids: Int32Array;
  /** split feature, -1 at leaves (the loop's exit test) */
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly missingLeft: Uint8Array;
  /** leaf rows, `stride` values per (global) node */
  readonly values: Float64Array;
  /** every tree carries missing_go_to_left (sklearn >= 1.3), so NaN inputs can be routed */
  readonly routesNaN: boolean;
  private scratch = new Float32Array(64);
  /** whether the last float32Input() saw a NaN: selects the NaN-routing traversal */
  private sawNaN = false;

  constructor(
    trees: readonly CompiledTree[],
    readonly nFeatures: number,
    readonly stride: number,
    fill: LeafFill,
    /** GradientBoosting validates X with force_all_finite=True whatever the tree layout */
    rejectNaN = false,
  ) {
    if (trees.length === 0) throw invalidModel('tree ensemble has no trees');
    const total = trees.reduce((s, t) => s + t.nodeCount, 0);
    this.nTrees = trees.length;
    this.roots = new Int32Array(trees.length);
    this.kids = new Int32Array(2 * total);
    this.feature = new Int32Array(total);
    this.threshold = new Float64Array(total);
    this.missingLeft = new Uint8Array(total);
    this.values = new Float64Array(total * stride);
    this.routesNaN = !rejectNaN && trees.every((t) => t.missingLeft !== null);
    let base = 0;
    trees.forEach((t, k) => {
      if (t.nFeatures !== nFeatures) throw invalidModel(`tree ${k} has ${t.nFeatures} features, the estimator ${nFeatures}`);
      this.roots[k] = base;
      for (let i = 0; i < t.nodeCount; i++) {
        const g = base + i;
        const leaf = t.left[i] === -1;
        this.kids[2 * g] = leaf ? g : base + t.left[i]!;
        this.kids[2 * g + 1] = leaf ? g : base + t.right[i]!;
        this.feature[g] = leaf ? -1 : t.feature[i]!;
        this.threshold[g] = t.threshold[i]!;
        this.missingLeft[g] = t.missingLeft ? t.missingLeft[i]! : 0;
        if (leaf) fill(t, i, this.values, g * stride);
      }
      base += t.nodeCount;
    });
  }

  /**
   * sklearn casts X to float32 before comparing with the float64 thresholds. Returns a
   * reused buffer (no allocation per call once it is large enough); rejects ±inf (also
   * float64 values beyond float32 range) and NaN unless the trees route missing values.
   */
  float32Input(rows: Float64Array, nRows: number, estimator: string): Float32Array {
    const n = nRows * this.nFeatures;
    if (!Number.isInteger(nRows) || nRows < 0 || rows.length !== n) {
      throw new SklearnInputError(`${estimator} expects ${this.nFeatures} features per row: got ${rows.length} values for ${nRows} rows`);
    }
    if (this.scratch.length < n) this.scratch = new Float32Array(Math.max(n, this.scratch.length * 2));
    const x = this.scratch;
    let nan = false;
    for (let i = 0; i < n; i++) {
      const v = Math.fround(rows[i]!);
      if (v - v !== 0) {
        inputProblem(v, i, this.nFeatures, this.routesNaN, estimator);
        nan = true;
      }
      x[i] = v;
    }
    this.sawNaN = nan;
    return x;
  }

  /** Global index of the leaf reached by tree t for the row starting at x[off]. */
  leaf(t: number, x: Float32Array, off: number): number {
    const { kids, feature, threshold } = this;
    let n = this.roots[t]!;
    let f = feature[n]!;
    if (!this.sawNaN) {
      while (f >= 0) {
        n = kids[2 * n + (x[off + f]! <= threshold[n]! ? 0 : 1)]!;
        f = feature[n]!;
      }
      return n;
    }
    while (f >= 0) {
      const v = x[off + f]!;
      // NaN compares false: it goes left only when the node says so (sklearn >= 1.3)
      const right = v <= threshold[n]! || (v !== v && this.missingLeft[n] === 1) ? 0 : 1;
      n = kids[2 * n + right]!;
      f = feature[n]!;
    }
    return n;
  }

  /** out[r*stride + j] += sum over trees of leaf value j, for every row. */
  sumInto(x: Float32Array, nRows: number, out: Float64Array): void {
    const { stride, values, nFeatures: nf, nTrees, roots, kids, feature, threshold } = this;
    if (this.sawNaN) {
      for (let r = 0; r < nRows; r++) {
        for (let t = 0; t < nTrees; t++) {
          const vo = this.leaf(t, x, r * nf) * stride;
          for (let j = 0; j < stride; j++) out[r * stride + j] += values[vo + j]!;
        }
      }
      return;
    }
    // the hot loop, inlined: no NaN possible here
    for (let t = 0; t < nTrees; t++) {
      const root = roots[t]!;
      for (let r = 0; r < nRows; r++) {
        const o = r * stride;
        const xo = r * nf;
        let n = root;
        let f = feature[n]!;
        while (f >= 0) {
          n = kids[2 * n + (x[xo + f]! <= threshold[n]! ? 0 : 1)]!;
          f = feature[n]!;
        }
        const vo = n * stride;
        for (let j = 0; j < stride; j++) out[o + j] += values[vo + j]!;
      }
    }
  }

  /**
   * Gradient boosting: tree t = stage * K + k adds scale * leaf value to out[r*K + k], in
   * sklearn's order (predict_stages: stage by stage, class by class).
   */
  addByColumn(x: Float32Array, nRows: number, out: Float64Array, k: number, scale: number): void {
    const values = this.values;
    const nf = this.nFeatures;
    for (let r = 0; r < nRows; r++) {
      const o = r * k;
      for (let t = 0; t < this.nTrees; t++) out[o + (t % k)] += scale * values[this.leaf(t, x, r * nf)]!;
    }
  }
}

function inputProblem(v: number, i: number, nFeatures: number, routesNaN: boolean, estimator: string): void {
  const row = Math.floor(i / nFeatures);
  if (v !== v) {
    if (routesNaN) return;
    throw new SklearnInputError(
      `Input X contains NaN (row ${row}); ${estimator} does not accept missing values (trees saved by scikit-learn < 1.3 and gradient boosting reject NaN)`,
    );
  }
  throw new SklearnInputError(`Input X contains infinity or a value too large for float32 (row ${row}); ${estimator} does not accept it`);
}
