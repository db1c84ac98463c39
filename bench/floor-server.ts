// The architecture floor: what a gateway costs that does only what modelfn's isolation needs
// and nothing of its features. A node:http server builds each request's API Gateway 2.0 event
// (JSON.stringify), hands it to one instance process (floor-instance.ts) over a pipe, several
// calls per write, and answers with the handler's JSON. No route table, scheduler, pool,
// deadline, trace, log record, metering or telemetry. Between the bare server (no isolation)
// and the platform, it splits what the platform costs into the price of a separate instance
// process and the price of the platform's features.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fromPackageRoot } from '../src/shared/paths.js';
import { frameWriter, readFrames } from './lib/floor-frames.js';

const instance = spawn(process.execPath, [fromPackageRoot('dist', 'bench', 'floor-instance.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
const calls = new Map<number, (result: Buffer) => void>();
let nextId = 1;
const send = frameWriter(instance.stdin);
readFrames(instance.stdout, (id, body) => {
  const done = calls.get(id);
  calls.delete(id);
  // Its own Buffer, not a view that keeps the whole read chunk alive (as the platform hands it on).
  done?.(Buffer.from(body));
});
instance.once('exit', () => process.exit(1));

function call(event: string, done: (result: Buffer) => void): void {
  const id = nextId++ >>> 0;
  calls.set(id, done);
  send(id, Buffer.from(event));
}

function eventOf(req: IncomingMessage, body: Buffer, requestId: string): string {
  const headers: Record<string, string> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    const seen = headers[name];
    headers[name] = seen === undefined ? req.rawHeaders[i + 1]! : `${seen},${req.rawHeaders[i + 1]!}`;
  }
  const now = Date.now();
  const [rawPath = '/', rawQueryString = ''] = (req.url ?? '/').split('?', 2);
  return JSON.stringify({
    version: '2.0',
    routeKey: `${req.method} ${rawPath}`,
    rawPath,
    rawQueryString,
    headers,
    requestContext: {
      accountId: '000000000000',
      apiId: 'floor',
      domainName: headers.host ?? '',
      http: { method: req.method, path: rawPath, protocol: `HTTP/${req.httpVersion}`, sourceIp: req.socket.remoteAddress ?? '', userAgent: headers['user-agent'] ?? '' },
      requestId,
      routeKey: `${req.method} ${rawPath}`,
      stage: '$default',
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
    body: body.toString('utf8'),
    isBase64Encoded: false,
  });
}

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const requestId = randomUUID();
    call(eventOf(req, Buffer.concat(chunks), requestId), (result) => {
      res.writeHead(200, ['content-type', 'application/json', 'content-length', String(result.length), 'apigw-requestid', requestId]);
      res.end(result.toString('latin1'), 'latin1');
    });
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') process.stdout.write(`floor server at http://127.0.0.1:${address.port}\n`);
});
process.on('SIGTERM', () => {
  instance.kill();
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
