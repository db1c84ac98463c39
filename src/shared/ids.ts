import { randomUUID, randomBytes } from 'node:crypto';

/** A Lambda-style request id (a UUID). */
export function newRequestId(): string {
  return randomUUID();
}

/** Short, sortable-enough id for instances and log streams: 8 random bytes in hex. */
export function newInstanceId(): string {
  return randomBytes(8).toString('hex');
}
