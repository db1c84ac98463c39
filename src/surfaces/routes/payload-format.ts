import type { InvocationOutcome } from '../../scheduler/invocation.js';
import type { HttpRequestInfo } from './http-request.js';
import type { RouteBinding } from './route-table.js';

/** An HTTP response produced from a function's result. */
export interface MappedResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
}

/**
 * One API Gateway payload format: how a request becomes the event and how the function's result
 * becomes the response. Versions 1.0 and 2.0 differ in both directions, so each is one class.
 */
export interface PayloadFormatCodec {
  readonly version: '1.0' | '2.0';
  buildEvent(request: HttpRequestInfo, binding: RouteBinding, pathParameters: Record<string, string> | undefined): Buffer;
  mapResult(payload: Buffer): MappedResponse;
}

export const BAD_GATEWAY: MappedResponse = jsonError(502, 'Internal Server Error', 'FUNCTION_ERROR');

export function jsonError(status: number, message: string, code: string, extra: Record<string, unknown> = {}): MappedResponse {
  return {
    status,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify({ message, code, ...extra })),
  };
}

/** A function error or a malformed result on a route is a 502, as API Gateway answers. */
export function mapOutcome(codec: PayloadFormatCodec, outcome: InvocationOutcome): MappedResponse {
  if (!outcome.result.ok) {
    return jsonError(502, 'Internal Server Error', 'FUNCTION_ERROR', { errorType: outcome.result.error.errorType });
  }
  return codec.mapResult(outcome.result.payload);
}

/** Headers an integration may not set: the gateway owns framing. */
export const HOP_BY_HOP = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'trailer']);

export function parseStatus(value: unknown): number | undefined {
  const status = typeof value === 'string' && /^\d{3}$/.test(value) ? Number(value) : value;
  return typeof status === 'number' && Number.isInteger(status) && status >= 100 && status <= 599 ? status : undefined;
}

export function bodyBytes(body: unknown, isBase64: unknown): Buffer | undefined {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body !== 'string') return Buffer.from(JSON.stringify(body));
  if (isBase64 === true) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body.replace(/\s/g, ''))) return undefined;
    return Buffer.from(body, 'base64');
  }
  return Buffer.from(body);
}
