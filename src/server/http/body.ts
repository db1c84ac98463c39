import type { IncomingMessage } from 'node:http';
import { ModelfnError } from '../../shared/errors.js';

/**
 * Past the limit, up to this many bytes are read and thrown away so the client (which is still
 * sending) receives the 413 instead of a reset connection; beyond it the connection is closed.
 */
export const DISCARD_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Read a request body up to `limit` bytes. An oversized body fails with PAYLOAD_TOO_LARGE without
 * ever being buffered; details.close says whether the connection must be closed after the answer.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  // A body already read (e.g. by the signature check) is handed out again, under this caller's limit.
  const holder = req as IncomingMessage & { [BODY]?: Promise<Buffer> };
  const cached = holder[BODY];
  if (cached) return cached.then((body) => (body.length > limit ? Promise.reject(tooLarge(body.length, limit, false)) : body));
  const reading = read(req, limit);
  holder[BODY] = reading;
  return reading;
}

/**
 * The body's promise lives on the request itself: it goes with the request, and a WeakMap entry
 * per request cost the garbage collector an ephemeron to trace on every one.
 */
const BODY = Symbol('modelfn.body');

function read(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  const declaredSize = declared === undefined ? undefined : Number(declared);
  if (declaredSize !== undefined && declaredSize > DISCARD_MAX_BYTES) {
    return Promise.reject(tooLarge(declaredSize, limit, true));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = declaredSize !== undefined && declaredSize > limit;
    let settled = false;
    const fail = (close: boolean) => {
      if (settled) return;
      settled = true;
      chunks.length = 0;
      reject(tooLarge(Math.max(size, declaredSize ?? 0), limit, close));
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (over || size > limit) {
        over = true;
        chunks.length = 0;
        if (size > DISCARD_MAX_BYTES) fail(true);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (over) return fail(false);
      if (settled) return;
      settled = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on('error', (err) => {
      if (settled) return;
      settled = true;
      reject(err);
    });
  });
}

function tooLarge(size: number, limit: number, close: boolean): ModelfnError {
  return new ModelfnError('PAYLOAD_TOO_LARGE', `request body is ${size} bytes; the limit is ${limit} bytes`, {
    details: { limit, close },
  });
}
