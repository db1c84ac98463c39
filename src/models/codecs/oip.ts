import { inputError } from './errors.js';
import type { ModelSignature } from './signature.js';
import type { Tensor } from './tensor.js';
import type { RawTensor } from './validate.js';

/** An Open Inference Protocol v2 inference request, structurally checked. */
export interface InferRequestBody {
  readonly id?: string;
  readonly inputs: readonly RawTensor[];
  readonly outputs?: readonly unknown[];
}

/** True for a body that is an OIP inference request (`inputs` is a list of tensor objects). */
export function looksLikeInferRequest(body: Record<string, unknown>): boolean {
  const inputs = body.inputs;
  return Array.isArray(inputs) && inputs.length > 0 && inputs.every((t) => typeof t === 'object' && t !== null && !Array.isArray(t) && 'name' in t && 'data' in t);
}

export function parseInferRequest(body: unknown): InferRequestBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw inputError('the inference request must be a JSON object with "inputs"');
  const b = body as Record<string, unknown>;
  if (b.id !== undefined && typeof b.id !== 'string') throw inputError('"id" must be a string');
  if (!Array.isArray(b.inputs) || b.inputs.length === 0) throw inputError('"inputs" must be a non-empty array of tensors {name, shape, datatype, data}');
  for (const [i, t] of b.inputs.entries()) {
    if (typeof t !== 'object' || t === null || Array.isArray(t)) throw inputError(`inputs[${i}] must be an object {name, shape, datatype, data}`);
    const tensor = t as Record<string, unknown>;
    for (const key of ['name', 'shape', 'datatype', 'data']) {
      if (!(key in tensor)) throw inputError(`inputs[${i}]${typeof tensor.name === 'string' ? ` ('${tensor.name}')` : ''} has no "${key}"`);
    }
  }
  if (b.outputs !== undefined && !Array.isArray(b.outputs)) throw inputError('"outputs" must be an array of {name}');
  return { id: b.id as string | undefined, inputs: b.inputs as RawTensor[], outputs: b.outputs as unknown[] | undefined };
}

/** The OIP inference response for computed outputs. */
export function inferResponse(modelName: string, modelVersion: string, id: string | undefined, outputs: readonly Tensor[]): Record<string, unknown> {
  return {
    model_name: modelName,
    model_version: modelVersion,
    ...(id !== undefined ? { id } : {}),
    outputs: outputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape, data: t.data })),
  };
}

/** OIP model metadata. */
export function modelMetadata(name: string, versions: readonly string[], signature: ModelSignature): Record<string, unknown> {
  return {
    name,
    versions,
    platform: signature.platform,
    inputs: signature.inputs.map((s) => ({ name: s.name, datatype: s.datatype, shape: s.shape })),
    outputs: signature.outputs.map((s) => ({ name: s.name, datatype: s.datatype, shape: s.shape })),
  };
}
