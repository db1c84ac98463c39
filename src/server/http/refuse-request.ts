import type { Duplex } from 'node:stream';
import type { LingerLimits } from './lingering-close.js';
import { isLingering, lingeringClose } from './lingering-close.js';

/**
 * Answer a request Node's parser rejected (its 'clientError'), as Node's own handler would: too
 * slow 408, headers too large 431, anything else malformed 400, and close the connection, since
 * where this request ends and the next begins is unknown. The close lingers (lingering-close.ts):
 * the rest of the request keeps arriving into the failed parser, which reports each chunk here
 * again, and is dropped.
 */
export function refuseRequest(err: NodeJS.ErrnoException, socket: Duplex, limits?: LingerLimits): void {
  if (isLingering(socket)) return;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
  socket.write(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  lingeringClose(socket, limits);
}
