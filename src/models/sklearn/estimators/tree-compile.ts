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
 */
import { invalidModel } from '../errors.js';
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
