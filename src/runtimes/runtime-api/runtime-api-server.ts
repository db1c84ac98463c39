import { chmod } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { InvokeRequest } from '../runtime.js';
import { parseErrorBody } from './error-body.js';
import type { Answer, InvocationSession, NextWaiter } from './invocation-session.js';
import { connectionOwnedBySession } from './peer-check.js';
import type { PeerOwner } from './peer-check.js';

/** Lambda's limit for a synchronous response, as the runtime interface emulator enforces it. */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100;
/** A runtime that keeps sending past the limit is cut off here (the 413 is sent once it stops). */
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;
const PREFIX = '/2018-06-01/runtime/';
/** Not part of Lambda's API: a forked Python instance sends its stdout/stderr here (see python/). */
export const LOG_STREAM_PATH = '/_modelfn/log/';

/** Checks that the client port of a new connection belongs to the instance. */
export type PeerVerifier = (clientPort: number, serverPort: number, owner: number | PeerOwner) => Promise<boolean>;

export interface RuntimeApiServerOptions {
  readonly session: InvocationSession;
  readonly maxBodyBytes?: number;
  /** Default: the /proc check of peer-check.ts. */
  readonly verifyPeer?: PeerVerifier;
  /** A raw byte stream of the instance's stdout or stderr (forked instances). */
  readonly onLogStream?: (stream: 'stdout' | 'stderr', socket: Socket) => void;
  /**
   * Listen on this unix socket instead of loopback TCP: the Runtime API of a sandbox without a
   * network, whose folder is mounted into that sandbox alone (so no peer check is needed: no
   * other instance can name the socket).
   */
  readonly socketPath?: string;
}

/**
 * The platform side of the Lambda Runtime API for ONE instance: a `node:http` listener on
 * 127.0.0.1 with an ephemeral port, announced to the instance as AWS_LAMBDA_RUNTIME_API.
 *
 * One listener per instance (rather than one shared server) keeps the design obvious: a listener
 * serves exactly one session, so nothing a runtime sends can reach another instance's
 * invocations, and stopping an instance closes its listener. It only ever binds loopback and never
 * the gateway's port. Because any local process can reach a loopback port, each accepted
 * connection is first checked to come from the instance's own process tree (peer-check.ts);
 * anything else gets 403 and is disconnected.
 */
export class RuntimeApiServer {
  private readonly maxBodyBytes: number;
  private readonly verifyPeer: PeerVerifier;
  private readonly checks = new WeakMap<Socket, Promise<boolean>>();
  private readonly sockets = new Set<Socket>();
  private owner: Promise<number | PeerOwner | undefined>;
  private setOwnerPid: (owner: number | PeerOwner | undefined) => void = () => undefined;
  private closed = false;

  private constructor(
    private readonly server: Server,
    private readonly options: RuntimeApiServerOptions,
  ) {
    this.maxBodyBytes = options.maxBodyBytes ?? MAX_RESPONSE_BYTES;
    this.verifyPeer = options.verifyPeer ?? connectionOwnedBySession;
    this.owner = new Promise((resolve) => (this.setOwnerPid = resolve));
  }

  static async listen(options: RuntimeApiServerOptions): Promise<RuntimeApiServer> {
    const server = createServer();
    const api = new RuntimeApiServer(server, options);
    // Long polls and idle keep-alive connections between invocations must not time out.
    server.keepAliveTimeout = 0;
    server.requestTimeout = 0;
    server.headersTimeout = 60_000;
    server.on('connection', (socket: Socket) => api.onConnection(socket));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      // A failure of the platform itself is Lambda's 500: "non-recoverable state, exit promptly".
      api.onRequest(req, res).catch(() => reply(res, 500, { errorType: 'InternalServerError', errorMessage: 'Internal Server Error' }, true));
    });
    server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      api.onUpgrade(req, socket).catch(() => socket.destroy());
    });
    server.on('clientError', (_err, socket: Socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const listening = () => {
        server.off('error', reject);
        resolve();
      };
      if (options.socketPath !== undefined) server.listen(options.socketPath, listening);
      else server.listen(0, '127.0.0.1', listening);
    });
    // The sandbox's user is not the platform's: it must be allowed to connect.
    if (options.socketPath !== undefined) await chmod(options.socketPath, 0o666);
    return api;
  }

  /** host:port, the value of AWS_LAMBDA_RUNTIME_API (unix:<path> for a unix socket, as the platform sees it). */
  get address(): string {
    if (this.options.socketPath !== undefined) return `unix:${this.options.socketPath}`;
    const { address, port } = this.server.address() as AddressInfo;
    return `${address}:${port}`;
  }

  get port(): number {
    return this.options.socketPath !== undefined ? 0 : (this.server.address() as AddressInfo).port;
  }

  /** The instance's process (its session leader, or the process and its session); connections wait until it is known. */
  setOwner(owner: number | PeerOwner): void {
    this.setOwnerPid(owner);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.setOwnerPid(undefined);
    this.server.close();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  private onConnection(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const clientPort = socket.remotePort;
    const check =
      this.options.socketPath !== undefined
        ? Promise.resolve(true)
        : this.owner.then((owner) => (owner === undefined || clientPort === undefined ? false : this.verifyPeer(clientPort, this.port, owner).catch(() => false)));
    this.checks.set(socket, check);
  }

  private async allowed(socket: Socket): Promise<boolean> {
    return (await this.checks.get(socket)) === true;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!(await this.allowed(req.socket))) {
      return reply(res, 403, { errorType: 'AccessDenied', errorMessage: 'this Runtime API serves only its own instance' }, true);
    }
    const path = (req.url ?? '/').split('?')[0]!;
    if (!path.startsWith(PREFIX)) return reply(res, 404, { errorType: 'NotFound', errorMessage: `no Runtime API endpoint at ${path}` });
    const rest = path.slice(PREFIX.length);
    if (rest === 'invocation/next') {
      if (req.method !== 'GET') return reply(res, 405, { errorType: 'MethodNotAllowed', errorMessage: 'use GET' });
      return this.next(req, res);
    }
    const match = /^invocation\/([^/]{1,256})\/(response|error)$/.exec(rest);
    if (!match && rest !== 'init/error') return reply(res, 404, { errorType: 'NotFound', errorMessage: `no Runtime API endpoint at ${path}` });
    if (req.method !== 'POST') return reply(res, 405, { errorType: 'MethodNotAllowed', errorMessage: 'use POST' });
    const body = await this.readBody(req);
    const session = this.options.session;
    let id = '';
    try {
      id = match ? decodeURIComponent(match[1]!) : '';
    } catch {
      return reply(res, 400, { errorType: 'InvalidRequestID', errorMessage: 'Invalid request ID' }, body === 'aborted');
    }
    if (body === 'aborted') return;
    const headerType = header(req, 'lambda-runtime-function-error-type');
    const tooLarge = body === 'too-large';
    let answer: Answer;
    if (match?.[2] === 'response') {
      answer = tooLarge ? session.onResponseTooLarge(id, this.maxBodyBytes) : session.onResponse(id, body as Buffer);
    } else {
      const error = tooLarge
        ? { errorType: headerType ?? 'Runtime.Unknown', errorMessage: `the runtime reported an error over ${this.maxBodyBytes} bytes` }
        : parseErrorBody(body as Buffer, headerType);
      answer = match ? session.onError(id, error) : session.onInitError(error);
      if (tooLarge && answer.status === 202) answer = { status: 413, errorType: 'RequestEntityTooLarge', errorMessage: `Exceeded maximum allowed payload size (${this.maxBodyBytes} bytes).` };
    }
    if (answer.status === 202) return reply(res, 202, { status: 'OK' });
    return reply(res, answer.status, { errorType: answer.errorType, errorMessage: answer.errorMessage }, tooLarge);
  }

  private next(req: IncomingMessage, res: ServerResponse): void {
    const waiter: NextWaiter = {
      deliver: (request) => {
        if (res.writableEnded || res.destroyed || req.socket.destroyed) return false;
        deliverEvent(res, request);
        return true;
      },
    };
    const refusal = this.options.session.onNext(waiter);
    if (refusal && refusal.status !== 202) {
      return reply(res, refusal.status, { errorType: refusal.errorType, errorMessage: refusal.errorMessage });
    }
    res.once('close', () => this.options.session.cancelNext(waiter));
  }

  /** The body, 'too-large' once over the limit (the rest is drained so the client reads the 413), or 'aborted'. */
  private readBody(req: IncomingMessage): Promise<Buffer | 'too-large' | 'aborted'> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let over = false;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > this.maxBodyBytes) {
          over = true;
          chunks.length = 0;
          if (size > MAX_DRAIN_BYTES) req.socket.destroy();
        } else chunks.push(chunk);
      });
      req.once('end', () => resolve(over ? 'too-large' : Buffer.concat(chunks)));
      req.once('error', () => resolve('aborted'));
      req.once('close', () => resolve(over ? 'too-large' : 'aborted'));
    });
  }

  private async onUpgrade(req: IncomingMessage, socket: Socket): Promise<void> {
    socket.on('error', () => socket.destroy()); // the http server no longer watches an upgraded socket
    const stream = (req.url ?? '').slice(LOG_STREAM_PATH.length);
    const known = (req.url ?? '').startsWith(LOG_STREAM_PATH) && (stream === 'stdout' || stream === 'stderr');
    if (!known || !this.options.onLogStream || !(await this.allowed(socket))) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: modelfn-log\r\nConnection: Upgrade\r\n\r\n');
    // The stream's owner closes it (after draining), not the listener.
    this.sockets.delete(socket);
    this.options.onLogStream(stream, socket);
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function deliverEvent(res: ServerResponse, request: InvokeRequest): void {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'lambda-runtime-aws-request-id': request.requestId,
    'lambda-runtime-deadline-ms': String(request.deadlineMs),
    'lambda-runtime-invoked-function-arn': request.invokedFunctionArn,
  };
  if (request.traceId) headers['lambda-runtime-trace-id'] = request.traceId;
  if (request.clientContext) headers['lambda-runtime-client-context'] = request.clientContext;
  if (request.cognitoIdentity) headers['lambda-runtime-cognito-identity'] = request.cognitoIdentity;
  for (const [name, value] of Object.entries(headers)) {
    try {
      res.setHeader(name, value);
    } catch {
      /* a value no HTTP header can carry (a newline in a client context) is left out */
    }
  }
  res.setHeader('content-length', request.payload.length);
  res.writeHead(200);
  res.end(request.payload);
}

function reply(res: ServerResponse, status: number, body: unknown, close = false): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) };
  if (close) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(text);
}
