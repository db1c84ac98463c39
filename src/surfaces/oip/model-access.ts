import type { ServerResponse } from 'node:http';
import type { Principal } from '../../auth/access-keys.js';
import { runAs } from '../../auth/principal-context.js';
import { ModelInputError } from '../../models/codecs/errors.js';
import { stringifyJson } from '../../models/codecs/json.js';
import type { ModelSignature } from '../../models/codecs/signature.js';
import { ModelInvocationError } from '../../models/batching/errors.js';
import { modelOf } from '../../models/batching/model-dispatcher.js';
import type { Registry, Resolution } from '../../registry/registry.js';
import { ModelfnError, toModelfnError } from '../../shared/errors.js';
import { parseJsonBody } from '../../shared/json.js';
import { closeAfterResponse, headerList } from '../../server/http/respond.js';

/**
 * What the model protocols (OIP v2, KServe V1) share: models are model functions addressed by
 * function name (and version or alias), and every error is `{"error": "..."}`.
 */
export interface ModelTarget {
  readonly resolution: Resolution;
  readonly signature: ModelSignature;
}

/**
 * The model as `caller` may see it (another tenant's model does not exist for it). Only this
 * lookup runs as the caller, not the inference after it: while a caller's storage is on, Node
 * tracks every promise of the process (auth/principal-context.ts).
 */
export function resolveModel(registry: Registry, name: string, version: string | undefined, caller: Principal | undefined): ModelTarget {
  const resolution = runAs(caller, () => registry.resolve(name, version));
  const signature = modelOf(resolution);
  if (!signature) throw new ModelfnError('FUNCTION_NOT_FOUND', `model ${name} not found: function ${name} is not a model function (runtime "model")`);
  return { resolution, signature };
}

/** Published versions that may be asked for explicitly. */
export function versionsOf(target: ModelTarget): string[] {
  return Object.keys(target.resolution.document.versions).sort((a, b) => Number(a) - Number(b));
}

/** Parse a JSON body; malformed JSON is a 400 in the model protocols' own words. */
export function parseModelBody(body: Buffer): unknown {
  if (body.length === 0) throw new ModelInputError('the request has no body');
  try {
    return parseJsonBody(body);
  } catch (err) {
    throw new ModelInputError((err as Error).message);
  }
}

export function sendModelJson(res: ServerResponse, status: number, value: unknown, extraHeaders: Record<string, string> = {}): void {
  const body = Buffer.from(stringifyJson(value));
  res.writeHead(status, headerList({ 'content-type': 'application/json', 'content-length': String(body.length) }, Object.entries(extraHeaders).flat()));
  res.end(body);
}

/** Map any failure to a status and `{"error": message}`. */
export function sendModelError(res: ServerResponse, err: unknown, requestId: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string> = { 'x-request-id': requestId };
  if (err instanceof ModelInputError) return sendModelJson(res, 400, { error: err.message }, headers);
  if (err instanceof ModelInvocationError) {
    return sendModelJson(res, err.errorType === 'Sandbox.Timedout' ? 504 : 500, { error: `the model failed: ${err.message}` }, headers);
  }
  const error = toModelfnError(err);
  if (error.code === 'PAYLOAD_TOO_LARGE') closeAfterResponse(res);
  if (error.code === 'METHOD_NOT_ALLOWED') headers.allow = String(error.details.allowed);
  sendModelJson(res, error.status, { error: error.kind === 'system' ? 'internal error' : error.message }, headers);
}
