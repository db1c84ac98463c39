import type { ModelInputError } from './errors.js';
import { MODEL_INPUT_ERROR_TYPE, inputError } from './errors.js';
import { isEnvelope } from './envelope.js';
import { stringifyJson } from './json.js';
import { inferResponse, looksLikeInferRequest, parseInferRequest } from './oip.js';
import { outputRows, rowsToInputs } from './rows.js';
import type { ModelSignature } from './signature.js';
import type { Tensor } from './tensor.js';
import { parseV1Request, v1ColumnResponse } from './v1.js';
import type { ModelRequest, RawTensor } from './validate.js';
import { validateRequest } from './validate.js';

/** How the answer to one call is shaped. */
export type Reply =
  | { readonly kind: 'rows'; readonly output: string }
  | { readonly kind: 'oip'; readonly id?: string }
  | { readonly kind: 'v1-instances'; readonly output: string }
  | { readonly kind: 'v1-inputs'; readonly named: boolean }
  | { readonly kind: 'envelope' };

/** One decoded call to a model function, from whatever event reached it. */
export interface ModelCall {
  readonly request: ModelRequest;
  readonly reply: Reply;
  /** The event was an API Gateway request (answer with statusCode/body). */
  readonly http: boolean;
}

export interface CallMeta {
  readonly modelName: string;
  readonly modelVersion: string;
}

/**
 * Decode the event a model function receives: an API Gateway event (payload 2.0 or 1.0) whose
 * body is one of the formats below, or the body itself from a direct Invoke:
 * - a JSON array of rows (the seed's format) -> a JSON array of predictions;
 * - `{"instances": [...]}` or `{"inputs": ...}` (KServe V1 / TF Serving);
 * - an Open Inference Protocol inference request;
 * - the platform's internal envelope.
 * `?proba=1` (or `"proba": true` next to `instances`) returns class probabilities instead of labels.
 */
export function decodeCall(signature: ModelSignature, event: unknown): ModelCall {
  if (isApiGatewayEvent(event)) {
    const body = parseHttpBody(event);
    return decodeBody(signature, body, queryFlag(event, 'proba'), true);
  }
  return decodeBody(signature, event, false, false);
}

export function decodeBody(signature: ModelSignature, body: unknown, proba: boolean, http: boolean): ModelCall {
  if (Array.isArray(body)) {
    const output = rowOutput(signature, proba);
    return { request: validateRequest(signature, rowsToInputs(signature, body), [output]), reply: { kind: 'rows', output }, http };
  }
  if (typeof body !== 'object' || body === null) {
    throw inputError('send a JSON array of rows (e.g. [[5.1, 3.5, 1.4, 0.2]]), {"instances": [...]}, {"inputs": ...} or an Open Inference Protocol request');
  }
  const b = body as Record<string, unknown>;
  if (isEnvelope(b)) {
    if (!Array.isArray(b.inputs)) throw inputError('the model request has no "inputs"');
    return { request: validateRequest(signature, b.inputs as RawTensor[], b.outputs as unknown[] | undefined), reply: { kind: 'envelope' }, http };
  }
  if (looksLikeInferRequest(b)) {
    const oip = parseInferRequest(b);
    return { request: validateRequest(signature, oip.inputs, oip.outputs), reply: { kind: 'oip', id: oip.id }, http };
  }
  if ('instances' in b || 'inputs' in b) {
    const v1 = parseV1Request(signature, b);
    const wantProba = proba || b.proba === true;
    if (v1.kind === 'instances') {
      const output = rowOutput(signature, wantProba);
      return { request: validateRequest(signature, v1.inputs, [output]), reply: { kind: 'v1-instances', output }, http };
    }
    return { request: validateRequest(signature, v1.inputs, [rowOutput(signature, wantProba)]), reply: { kind: 'v1-inputs', named: v1.named }, http };
  }
  throw inputError('unrecognised request: send a JSON array of rows, {"instances": [...]}, {"inputs": ...} or an Open Inference Protocol request {"inputs": [{"name", "shape", "datatype", "data"}]}');
}

/** The output the row formats return: labels/values, or probabilities when asked. */
export function rowOutput(signature: ModelSignature, proba: boolean): string {
  if (!proba) return signature.predictOutput;
  if (!signature.probaOutput) throw inputError('this model has no class probabilities (proba is only for classifiers)');
  return signature.probaOutput;
}

/** The answer's JSON value (before any HTTP wrapping). */
export function replyBody(reply: Reply, outputs: readonly Tensor[], meta: CallMeta): unknown {
  switch (reply.kind) {
    case 'rows':
      return outputRows(pick(outputs, reply.output));
    case 'v1-instances':
      return { predictions: outputRows(pick(outputs, reply.output)) };
    case 'v1-inputs':
      return v1ColumnResponse(outputs, reply.named);
    case 'oip':
      return inferResponse(meta.modelName, meta.modelVersion, reply.id, outputs);
    case 'envelope':
      throw new Error('envelope replies are encoded by encodeResult');
  }
}

/** The function result for a call: the body, or an API Gateway response around it. */
export function encodeReply(call: ModelCall, outputs: readonly Tensor[], meta: CallMeta): string {
  const body = stringifyJson(replyBody(call.reply, outputs, meta));
  if (!call.http) return body;
  return JSON.stringify({ statusCode: 200, headers: { 'content-type': 'application/json' }, body });
}

/** A rejected HTTP call answers 400 {"error": ...}; a direct Invoke gets a function error. */
export function httpError(status: number, message: string): string {
  return JSON.stringify({ statusCode: status, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: message }) });
}

export function invokeError(err: ModelInputError): { errorType: string; errorMessage: string } {
  return { errorType: MODEL_INPUT_ERROR_TYPE, errorMessage: err.message };
}

function pick(outputs: readonly Tensor[], name: string): Tensor {
  const t = outputs.find((o) => o.name === name);
  if (!t) throw new Error(`the model did not return output '${name}'`);
  return t;
}

export function isApiGatewayEvent(event: unknown): event is Record<string, unknown> {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return false;
  const e = event as Record<string, unknown>;
  return typeof e.requestContext === 'object' && e.requestContext !== null && ('rawPath' in e || 'httpMethod' in e);
}

function parseHttpBody(event: Record<string, unknown>): unknown {
  const raw = event.body;
  if (raw === undefined || raw === null || raw === '') throw inputError('the request has no body: send a JSON array of rows, e.g. [[5.1, 3.5, 1.4, 0.2]]');
  if (typeof raw !== 'string') throw inputError('the request body must be JSON text');
  const text = event.isBase64Encoded === true ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw inputError(`the request body is not valid JSON: ${(err as Error).message}`);
  }
}

function queryFlag(event: Record<string, unknown>, name: string): boolean {
  const params = event.queryStringParameters;
  if (typeof params !== 'object' || params === null) return false;
  const value = (params as Record<string, unknown>)[name];
  return typeof value === 'string' && ['', '1', 'true', 'yes'].includes(value.toLowerCase());
}
