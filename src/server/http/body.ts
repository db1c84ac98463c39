import type { IncomingMessage } from 'node:http';
import { ModelfnError } from '../../shared/errors.js';

/**
 * Read a request body up to `limit` bytes. A declared Content-Length over the limit fails before
 * reading; a body that grows past it fails as soon as it does, without buffering the rest.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    return Promise.reject(tooLarge(Number(declared), limit));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        reject(tooLarge(size, limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on('error', (err) => {
      if (!failed) reject(err);
      failed = true;
    });
  });
}

function tooLarge(size: number, limit: number): ModelfnError {
  return new ModelfnError('PAYLOAD_TOO_LARGE', `request body is ${size} bytes or more; the limit is ${limit} bytes`, {
    details: { limit },
  });
}
