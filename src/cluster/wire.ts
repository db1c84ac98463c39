import type { Invocation, InvocationOutcome, InvocationTarget } from '../scheduler/invocation.js';
import type { LambdaError } from '../runtimes/runtime.js';
import type { ErrorCode } from '../shared/errors.js';
import { ModelfnError } from '../shared/errors.js';

/**
 * Invocations and outcomes between nodes. A frame is a 4-byte length, a JSON header, then the
 * payload bytes exactly as they arrived (the event, or the function's result): never re-encoded.
 */
export interface ForwardRequest {
  readonly origin: string;
  readonly target: InvocationTarget;
  readonly invocation: Omit<Invocation, 'payload'>;
}

export type ForwardReply =
  | { readonly kind: 'accepted'; readonly node: string }
  | { readonly kind: 'busy'; readonly node: string }
  | { readonly kind: 'outcome'; readonly node: string; readonly outcome: Omit<InvocationOutcome, 'result'>; readonly ok: boolean; readonly error?: LambdaError }
  | { readonly kind: 'error'; readonly node: string; readonly code: ErrorCode; readonly message: string; readonly details?: Record<string, unknown> };

export function encodeFrame(header: unknown, payload?: Buffer): Buffer {
  const head = Buffer.from(JSON.stringify(header));
  const out = Buffer.allocUnsafe(4 + head.length + (payload?.length ?? 0));
  out.writeUInt32BE(head.length, 0);
  head.copy(out, 4);
  payload?.copy(out, 4 + head.length);
  return out;
}

export function decodeFrame<T>(data: Uint8Array): { header: T; payload: Buffer } {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const length = buf.readUInt32BE(0);
  return { header: JSON.parse(buf.subarray(4, 4 + length).toString('utf8')) as T, payload: buf.subarray(4 + length) };
}

/** Bytes a frame adds around the payload (to stay under the server's max_payload). */
export function frameOverhead(header: unknown): number {
  return 4 + Buffer.byteLength(JSON.stringify(header));
}

export function outcomeReply(node: string, outcome: InvocationOutcome): { header: ForwardReply; payload?: Buffer } {
  const { result, ...rest } = outcome;
  if (result.ok) return { header: { kind: 'outcome', node, outcome: rest, ok: true }, payload: result.payload };
  return { header: { kind: 'outcome', node, outcome: rest, ok: false, error: result.error } };
}

export function outcomeOf(reply: Extract<ForwardReply, { kind: 'outcome' }>, payload: Buffer): InvocationOutcome {
  return { ...reply.outcome, result: reply.ok ? { ok: true, payload } : { ok: false, error: reply.error! } };
}

export function errorReply(node: string, err: unknown): ForwardReply {
  if (err instanceof ModelfnError) return { kind: 'error', node, code: err.code, message: err.message, details: err.details };
  return { kind: 'error', node, code: 'INTERNAL', message: 'internal error' };
}

export function errorOf(reply: Extract<ForwardReply, { kind: 'error' }>): ModelfnError {
  return new ModelfnError(reply.code, reply.message, { details: reply.details ?? {} });
}
