import { inputError } from './errors.js';
import type { ModelSignature } from './signature.js';
import type { Tensor } from './tensor.js';
import { nest } from './tensor.js';
import type { RawTensor } from './validate.js';
import { inferShape } from './validate.js';
import { rowsToInputs } from './rows.js';

/**
 * KServe V1 / TF Serving predict: `{"instances": [...]}` (rows) or `{"inputs": ...}` (columns:
 * one tensor for a single-input model, or an object of tensors by input name).
 */
export type V1Request =
  | { readonly kind: 'instances'; readonly inputs: RawTensor[] }
  | { readonly kind: 'inputs'; readonly inputs: RawTensor[]; readonly named: boolean };

export function parseV1Request(signature: ModelSignature, body: Record<string, unknown>): V1Request {
  const hasInstances = 'instances' in body;
  const hasInputs = 'inputs' in body;
  if (hasInstances && hasInputs) throw inputError('send either "instances" or "inputs", not both');
  if (hasInstances) return { kind: 'instances', inputs: rowsToInputs(signature, body.instances, '"instances"') };
  if (!hasInputs) throw inputError('the request must have "instances" (rows) or "inputs" (columns)');
  const inputs = body.inputs;
  if (typeof inputs === 'object' && inputs !== null && !Array.isArray(inputs)) {
    return {
      kind: 'inputs',
      named: true,
      inputs: Object.entries(inputs as Record<string, unknown>).map(([name, value]) => columnTensor(name, value)),
    };
  }
  if (signature.inputs.length !== 1) {
    throw inputError(`this model has ${signature.inputs.length} inputs: "inputs" must be an object keyed by input name (${signature.inputs.map((s) => s.name).join(', ')})`);
  }
  return { kind: 'inputs', named: false, inputs: [columnTensor(signature.inputs[0]!.name, inputs)] };
}

function columnTensor(name: string, value: unknown): RawTensor {
  const data = Array.isArray(value) ? value : [value];
  return { name, shape: inferShape(data), data };
}

/** `{"outputs": ...}`: one output as its nested value, several as an object by name. */
export function v1ColumnResponse(outputs: readonly Tensor[], named: boolean): Record<string, unknown> {
  const value = (t: Tensor) => nest(t.data as ArrayLike<unknown>, t.shape);
  if (outputs.length === 1 && !named) return { outputs: value(outputs[0]!) };
  return { outputs: Object.fromEntries(outputs.map((t) => [t.name, value(t)])) };
}
