import type { Duplex } from 'node:stream';
import { DISCARD_MAX_BYTES } from './body.js';

/**
 * How long a refused connection is kept reading (and dropping) what its client still sends.
 * Closed at once, a socket with unread bytes makes the kernel reset the connection, and a client
 * still writing its body (an upload behind a request line Node could not parse, a header block
 * too large, a request too slow) got "connection reset" instead of the answer: 10 of 10 times for
 * an 8 MB body behind an invalid request line. Servers call this a lingering close (nginx:
 * lingering_close); it is bounded in time here and, like a refused body (body.ts), in bytes.
 */
const LINGER_MS = 5_000;

/** Where the client's bytes stood when the connection was answered. */
const ANSWERED_AT = Symbol('modelfn.answeredAt');

type RefusedSocket = Duplex & { bytesRead?: number; [ANSWERED_AT]?: number };

/**
 * Answer a request Node's parser rejected (its 'clientError'), as Node's own handler would: too
 * slow 408, headers too large 431, anything else malformed 400, and close the connection, since
 * where this request ends and the next begins is unknown. The close lingers: the rest of the
 * request keeps arriving into the failed parser, which reports it here again and again, and is
 * dropped until the client closes its side, the linger times out or it passes the byte limit.
 */
export function refuseRequest(err: NodeJS.ErrnoException, socket: RefusedSocket, lingerMs = LINGER_MS): void {
  const answeredAt = socket[ANSWERED_AT];
  if (answeredAt !== undefined) {
    if ((socket.bytesRead ?? 0) - answeredAt > DISCARD_MAX_BYTES) socket.destroy();
    return;
  }
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
  socket[ANSWERED_AT] = socket.bytesRead ?? 0;
  socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  const linger = setTimeout(() => socket.destroy(), lingerMs);
  linger.unref();
  socket.once('close', () => clearTimeout(linger));
}
