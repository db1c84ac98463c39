import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** Write a JSON response in one call. */
export function sendJson(res: ServerResponse, status: number, value: unknown, headers: OutgoingHttpHeaders = {}): void {
  send(res, status, JSON.stringify(value), { 'content-type': 'application/json', ...headers });
}

export function send(res: ServerResponse, status: number, body: string | Buffer, headers: OutgoingHttpHeaders = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { ...headers, 'content-length': bytes.length });
  res.end(bytes);
}

/**
 * After an error answered before the body was read (e.g. 413), close the connection rather than
 * read the rest of a large upload.
 */
export function closeAfterResponse(res: ServerResponse): void {
  res.setHeader('connection', 'close');
  res.once('finish', () => res.req.socket.destroySoon());
}
