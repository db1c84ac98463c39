import type { Duplex } from 'node:stream';
import { DISCARD_MAX_BYTES } from './body.js';

/** How long a closing connection keeps reading, and how much (see lingeringClose). */
export interface LingerLimits {
  readonly lingerMs?: number;
  readonly maxBytes?: number;
  /** How often the bytes read are checked against maxBytes. */
  readonly checkEveryMs?: number;
}

const CLOSING = Symbol('modelfn.closing');

type LingeringSocket = Duplex & { bytesRead?: number; [CLOSING]?: true };

/** Is the socket in its lingering close (its answer written, its client's bytes dropped)? */
export function isLingering(socket: Duplex): boolean {
  return (socket as LingeringSocket)[CLOSING] === true;
}

/**
 * Close a connection that its client may still be writing to. A socket closed with unread bytes
 * makes the kernel reset the connection, and a client busy sending its body gets "connection
 * reset" instead of the answer written just before (10 of 10 times for an 8 MB upload behind a
 * request line Node could not parse; 1 to 2 of 4 for bodies over 64 MB answered 413). So this
 * ends the platform's side, keeps reading and dropping what the client still sends, and destroys
 * the socket when the client closes its side, after `lingerMs` (5 s), or past `maxBytes` (64 MB)
 * read meanwhile. Servers call this a lingering close (nginx: lingering_close).
 */
export function lingeringClose(socket: Duplex, limits: LingerLimits = {}): void {
  const s = socket as LingeringSocket;
  if (s[CLOSING]) return;
  s[CLOSING] = true;
  const { lingerMs = 5_000, maxBytes = DISCARD_MAX_BYTES, checkEveryMs = 100 } = limits;
  const from = s.bytesRead ?? 0;
  s.end();
  const deadline = setTimeout(() => s.destroy(), lingerMs);
  const check = setInterval(() => {
    if ((s.bytesRead ?? 0) - from > maxBytes) s.destroy();
  }, checkEveryMs);
  deadline.unref();
  check.unref();
  s.once('close', () => {
    clearTimeout(deadline);
    clearInterval(check);
  });
}
