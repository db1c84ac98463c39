/**
 * sklearn.tree._tree.Tree -> flat typed arrays.
 *
 * The pickle is `(Tree, (n_features, n_classes, n_outputs), state)` with state
 * `{max_depth, node_count, nodes, values}`. `nodes` is a structured array whose layout is
 * read from its dtype (56 bytes up to sklearn 1.2, 64 with `missing_go_to_left` from 1.3).
 * The structure is validated so traversal cannot misbehave on a tampered file: children of
 * an internal node must have larger indices than the node (sklearn adds parents before
 * children, and this rules out cycles, so a walk ends within node_count steps), features
 * must be in range and leaves have both children -1.
 *
 * Many trees are merged into one TreeEnsemble (one set of arrays, per-tree roots) so a
 * forest's hot loop touches a few contiguous typed arrays and allocates nothing.
 */
import { invalidModel, SklearnInputError } from '../errors.js';
import { asArray, structField, toFloat64 } from '../numpy/convert.js';
import { describe, PyObject } from '../pickle/values.js';
import type { PyValue } from '../pickle/values.js';
import { int, req } from './common.js';

const INT_FIELD = ['i8', 'i4'];

export interface CompiledTree {
  readonly nodeCount: number;
  readonly nFeatures: number;
  readonly nOutputs: number;
  readonly nClasses: readonly number[];
  /** max(nClasses): the last axis of `values` */
  readonly maxClasses: number;
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  /** null for the pre-1.3 layout (no missing-value support: NaN input is rejected) */
  readonly missingLeft: Uint8Array | null;
  /** node_count * n_outputs * maxClasses, float64 as stored */
  readonly values: Float64Array;
}

export function compileTree(v: PyValue | undefined, what: string): CompiledTree {
  if (!(v instanceof PyObject) || v.className !== 'sklearn.tree._tree.Tree') throw invalidModel(`${what} is ${describe(v)}, expected sklearn.tree._tree.Tree`);
  const [nf, nc, no] = v.args;
  const nFeatures = int(nf, `${what} n_features`);
  const nOutputs = int(no, `${what} n_outputs`);
  const nClasses = Array.from(toFloat64(nc, `${what} n_classes`));
  if (nFeatures < 1 || nOutputs < 1 || nClasses.length !== nOutputs || nClasses.some((c) => !Number.isInteger(c) || c < 1)) {
    throw invalidModel(`${what} has inconsistent n_features=${nFeatures}, n_outputs=${nOutputs}, n_classes=[${nClasses.join(', ')}]`);
  }
  const maxClasses = Math.max(...nClasses);
  const nodeCount = int(req(v, 'node_count'), `${what}.node_count`);
  const nodes = asArray(req(v, 'nodes'), `${what}.nodes`);
  if (!nodes.dtype!.fields) throw invalidModel(`${what}.nodes has dtype ${nodes.dtype!.name}, expected sklearn's structured node dtype`);
  if (nodes.shape.length !== 1 || nodes.size !== nodeCount || nodeCount < 1) {
    throw invalidModel(`${what}.nodes has shape (${nodes.shape.join(', ')}) but node_count is ${nodeCount}`);
  }
  const f = (name: string, types: string[]): Float64Array => structField(nodes, name, `${what}.nodes`, types);
  const left = Int32Array.from(f('left_child', INT_FIELD));
  const right = Int32Array.from(f('right_child', INT_FIELD));
  const featureF = f('feature', INT_FIELD);
  const threshold = f('threshold', ['f8']);
  const missingLeft = nodes.dtype!.field('missing_go_to_left') ? Uint8Array.from(f('missing_go_to_left', ['u1', 'b1'])) : null;
  const feature = new Int32Array(nodeCount);
  for (let i = 0; i < nodeCount; i++) {
    const l = left[i]!;
    const r = right[i]!;
    if (l === -1 && r === -1) continue; // leaf (feature is TREE_UNDEFINED there)
    if (!(l > i && r > i && l < nodeCount && r < nodeCount)) {
      throw invalidModel(`${what} node ${i} has invalid child indices (${l}, ${r}): children must follow their parent within ${nodeCount} nodes`);
    }
    const ft = featureF[i]!;
    if (!(ft >= 0 && ft < nFeatures)) throw invalidModel(`${what} node ${i} splits on feature ${ft}, outside 0..${nFeatures - 1}`);
    if (Number.isNaN(threshold[i]!)) throw invalidModel(`${what} node ${i} has a NaN threshold`);
    feature[i] = ft;
  }
  const valuesArr = asArray(req(v, 'values'), `${what}.values`);
  if (valuesArr.dtype!.kind !== 'f' || valuesArr.dtype!.itemsize !== 8) {
    throw invalidModel(`${what}.values has dtype ${valuesArr.dtype!.name}, expected float64`);
  }
  const shape = valuesArr.shape;
  if (shape.length !== 3 || shape[0] !== nodeCount || shape[1] !== nOutputs || shape[2] !== maxClasses) {
    throw invalidModel(`${what}.values has shape (${shape.join(', ')}), expected (${nodeCount}, ${nOutputs}, ${maxClasses})`);
  }
  const values = toFloat64(valuesArr, `${what}.values`);
  return { nodeCount, nFeatures, nOutputs, nClasses, maxClasses, left, right, feature, threshold, missingLeft, values };
}

/** Tree state of an estimator (DecisionTree*, or a forest/GB member). */
export function treeOf(est: PyValue | undefined, what: string): CompiledTree {
  if (!(est instanceof PyObject)) throw invalidModel(`${what} is ${describe(est)}, expected a fitted decision tree`);
  return compileTree(req(est, 'tree_'), `${what}.tree_`);
}

/** Fills `stride` leaf values of `tree` node `node` into dst at off. */
export type LeafFill = (tree: CompiledTree, node: number, dst: Float64Array, off: number) => void;

export class TreeEnsemble {
  readonly nTrees: number;
  readonly roots: Int32Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly missingLeft: Uint8Array;
  /** leaf rows, `stride` values per (global) node */
  readonly values: Float64Array;
  /** every tree carries missing_go_to_left (sklearn >= 1.3), so NaN inputs can be routed */
  readonly routesNaN: boolean;
  private scratch = new Float32Array(64);

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
    this.left = new Int32Array(total);
    this.right = new Int32Array(total);
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
        this.left[g] = leaf ? -1 : base + t.left[i]!;
        this.right[g] = leaf ? -1 : base + t.right[i]!;
        this.feature[g] = t.feature[i]!;
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
    for (let i = 0; i < n; i++) {
      const v = Math.fround(rows[i]!);
      if (v - v !== 0) inputProblem(v, i, this.nFeatures, this.routesNaN, estimator);
      x[i] = v;
    }
    return x;
  }

  /** Global index of the leaf reached by tree t for the row starting at x[off]. */
  leaf(t: number, x: Float32Array, off: number): number {
    const left = this.left;
    const feature = this.feature;
    const threshold = this.threshold;
    let n = this.roots[t]!;
    let l = left[n]!;
    while (l >= 0) {
      const v = x[off + feature[n]!]!;
      // NaN compares false: it goes left only when the node says so (sklearn >= 1.3)
      n = v <= threshold[n]! ? l : v !== v && this.missingLeft[n] === 1 ? l : this.right[n]!;
      l = left[n]!;
    }
    return n;
  }

  /** out[r*stride + j] += sum over trees of leaf value j, for every row. */
  sumInto(x: Float32Array, nRows: number, out: Float64Array): void {
    const stride = this.stride;
    const values = this.values;
    const nf = this.nFeatures;
    for (let r = 0; r < nRows; r++) {
      const o = r * stride;
      for (let t = 0; t < this.nTrees; t++) {
        const vo = this.leaf(t, x, r * nf) * stride;
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
