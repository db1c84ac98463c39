import type { Datatype, TensorValues } from './datatypes.js';
import { isDatatype } from './datatypes.js';
import { allSafe, stringifyJson } from './json.js';
import type { Tensor } from './tensor.js';
import type { ModelRequest } from './validate.js';

/**
 * The internal model request between the platform and a model instance: already validated
 * inputs (flat data, the model's datatypes) and the outputs to compute. Every surface (routes,
 * Invoke, OIP, V1) and the batcher reach the instance with this one format.
 */
export const ENVELOPE_REQUEST = 'modelfn.infer/1';
export const ENVELOPE_RESULT = 'modelfn.result/1';

export function isEnvelope(body: unknown): boolean {
  return typeof body === 'object' && body !== null && (body as { modelfn?: unknown }).modelfn === ENVELOPE_REQUEST;
}

export function encodeEnvelope(request: ModelRequest): Buffer {
  return Buffer.from(
    stringifyJson({
      modelfn: ENVELOPE_REQUEST,
      inputs: request.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape, data: t.data })),
      outputs: request.outputs,
    }),
  );
}

/** The instance's answer. int64 values beyond 2^53 travel as decimal strings so none is rounded. */
export function encodeResult(outputs: readonly Tensor[]): string {
  return stringifyJson({
    modelfn: ENVELOPE_RESULT,
    outputs: outputs.map((t) => ({
      name: t.name,
      datatype: t.datatype,
      shape: t.shape,
      data: (t.data instanceof BigInt64Array || t.data instanceof BigUint64Array) && !allSafe(t.data) ? Array.from(t.data, String) : t.data,
    })),
  });
}

export function decodeResult(payload: Buffer): Tensor[] {
  const body = JSON.parse(payload.toString('utf8')) as { modelfn?: unknown; outputs?: unknown };
  if (body.modelfn !== ENVELOPE_RESULT || !Array.isArray(body.outputs)) throw new Error('the model instance answered in an unknown format');
  return body.outputs.map((o: { name: string; datatype: unknown; shape: number[]; data: unknown[] }) => {
    if (!isDatatype(o.datatype)) throw new Error(`the model instance answered with datatype ${String(o.datatype)}`);
    return { name: o.name, datatype: o.datatype, shape: o.shape, data: values(o.datatype, o.data) };
  });
}

function values(datatype: Datatype, data: unknown[]): TensorValues {
  switch (datatype) {
    case 'INT64':
      return BigInt64Array.from(data as Array<number | string>, (v) => BigInt(v));
    case 'UINT64':
      return BigUint64Array.from(data as Array<number | string>, (v) => BigInt(v));
    case 'FP32':
      return Float32Array.from(data as number[]);
    case 'FP64':
      return Float64Array.from(data as Array<number | null>, (v) => (v === null ? NaN : v));
    default:
      return data as TensorValues;
  }
}
