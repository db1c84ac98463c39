import { validateHeaderName, validateHeaderValue } from 'node:http';
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
  /** validJson: the runtime vouches the payload is valid JSON (it may then skip parsing it). */
  mapResult(payload: Buffer, validJson?: boolean): MappedResponse;
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
  return codec.mapResult(outcome.result.payload, outcome.result.validJson === true);
}

/** Headers an integration may not set: the gateway owns framing. */
export const HOP_BY_HOP = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'trailer']);

/**
 * A final status, 200-599. A 1xx is no final answer: Node would write it as an interim response
 * with nothing after it, and the client would wait for the real one (or, on a kept-alive
 * connection, take the next request's answer for it).
 */
export function parseStatus(value: unknown): number | undefined {
  const status = typeof value === 'string' && /^\d{3}$/.test(value) ? Number(value) : value;
  return typeof status === 'number' && Number.isInteger(status) && status >= 200 && status <= 599 ? status : undefined;
}

/**
 * Headers of a result as text (String() of each value). Throws for a value that has no text (an
 * object whose own toString is not a function); the mappers answer that result with a 502.
 */
export function headerText(value: unknown): string {
  return String(value);
}

/**
 * The response if Node can write it, else the 502 of a malformed result, as API Gateway answers
 * one: every header name must be a token, every value free of CR, LF, NUL and characters beyond
 * latin1 (a function's header must not be able to inject another, nor make writeHead throw).
 */
export function writable(response: MappedResponse): MappedResponse {
  try {
    for (const [name, value] of Object.entries(response.headers)) {
      validateHeaderName(name);
      for (const v of Array.isArray(value) ? value : [value]) validateHeaderValue(name, v);
    }
  } catch {
    return BAD_GATEWAY;
  }
  return response;
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
