import type { Tensor } from '../codecs/tensor.js';
import { concatRows, sameTrailingDims, sliceRows } from '../codecs/tensor.js';
import type { ModelRequest } from '../codecs/validate.js';

/** Rows of a request: the leading dimension every input shares, or undefined when they differ. */
export function requestRows(request: ModelRequest): number | undefined {
  let rows: number | undefined;
  for (const t of request.inputs) {
    if (t.shape.length === 0) return undefined;
    if (rows === undefined) rows = t.shape[0];
    else if (t.shape[0] !== rows) return undefined;
  }
  return rows;
}

/** Whether two requests can share an engine call (same inputs with the same trailing dimensions). */
export function mergeable(a: ModelRequest, b: ModelRequest): boolean {
  if (a.inputs.length !== b.inputs.length) return false;
  for (let i = 0; i < a.inputs.length; i++) {
    const x = a.inputs[i]!;
    const y = b.inputs[i]!;
    if (x.name !== y.name || x.datatype !== y.datatype || !sameTrailingDims(x.shape, y.shape)) return false;
  }
  return true;
}

/** One request holding every member's rows, computing the union of their outputs. */
export function mergeRequests(members: readonly ModelRequest[]): ModelRequest {
  const first = members[0]!;
  const inputs = first.inputs.map((_, i) => concatRows(members.map((m) => m.inputs[i]!)));
  const outputs: string[] = [];
  for (const m of members) for (const o of m.outputs) if (!outputs.includes(o)) outputs.push(o);
  return { inputs, outputs };
}

/**
 * Each member's outputs, cut from the merged call's outputs by row. Undefined when an output's
 * leading dimension is not the merged row count (the model does not keep rows apart).
 */
export function splitOutputs(members: readonly ModelRequest[], rows: readonly number[], outputs: readonly Tensor[]): Tensor[][] | undefined {
  const total = rows.reduce((a, b) => a + b, 0);
  if (outputs.some((t) => t.shape.length === 0 || t.shape[0] !== total)) return undefined;
  const byName = new Map(outputs.map((t) => [t.name, t]));
  const result: Tensor[][] = [];
  let offset = 0;
  for (const [i, member] of members.entries()) {
    const n = rows[i]!;
    result.push(member.outputs.map((name) => sliceRows(byName.get(name)!, offset, offset + n)));
    offset += n;
  }
  return result;
}
