import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { sendJson } from './http/respond.js';
import { endStreams } from './http/streams.js';
import { refuseRequest } from './http/refuse-request.js';
import { matchesPrefix, splitTarget } from './http/request-url.js';
import type { Surface } from './surface.js';

/** How long a client may take to send a request (Node's limits; the defaults suit any real client). */
export interface GatewayTimeouts {
  /** Whole request, headers and body (Node answers 408 and closes). Default 300 s. */
  readonly requestMs?: number;
  /** Headers alone. Default 60 s. */
  readonly headersMs?: number;
  /** How often Node checks the two (default 30 s). */
  readonly checkIntervalMs?: number;
}

/**
 * The HTTP front door: picks the surface that owns the path (longest prefix first), else the
 * user-route catch-all. It never spawns or schedules anything itself.
 */
export class Gateway {
  readonly server: Server;
  private readonly mounted: Array<{ prefix: string; surface: Surface }>;
  private inFlight = 0;
  private draining = false;
  private onDrained: (() => void) | undefined;

  constructor(
    surfaces: readonly Surface[],
    private readonly fallback: Surface,
    private readonly log: Logger,
    timeouts: GatewayTimeouts = {},
  ) {
    this.mounted = surfaces
      .flatMap((surface) => surface.prefixes.map((prefix) => ({ prefix, surface })))
      .sort((a, b) => b.prefix.length - a.prefix.length);
    this.server = createServer(
      {
        keepAliveTimeout: 65_000,
        // A request must arrive whole in bounded time: with no limit, a client that sent its
        // headers and then only part of its body held its connection (and the call) forever.
        requestTimeout: timeouts.requestMs ?? 300_000,
        headersTimeout: timeouts.headersMs ?? 60_000,
        ...(timeouts.checkIntervalMs !== undefined ? { connectionsCheckingInterval: timeouts.checkIntervalMs } : {}),
      },
      (req, res) => this.dispatch(req, res),
    );
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => refuseRequest(err, socket));
  }

  /** Reserved path prefixes (user routes may not use them). */
  get reservedPrefixes(): string[] {
    return this.mounted.map((m) => m.prefix);
  }

  listen(port: number, host: string): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        if (address === null || typeof address === 'string') return reject(new Error('server has no TCP address'));
        resolve({ host: address.address, port: address.port });
      });
    });
  }

  /** Stop accepting connections and wait for requests in flight (up to graceMs). */
  async drain(graceMs: number): Promise<void> {
    this.draining = true;
    endStreams();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.onDrained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.server.closeAllConnections();
    await closed;
  }

  private dispatch(req: IncomingMessage, res: ServerResponse): void {
    const target = splitTarget(req.url);
    if (this.draining) res.setHeader('connection', 'close');
    let surface = this.fallback;
    for (const m of this.mounted) {
      if (matchesPrefix(target.rawPath, m.prefix)) {
        surface = m.surface;
        break;
      }
    }
    this.inFlight++;
    // One then() with both handlers instead of catch().finally(): two promises fewer per request.
    surface.handle(req, res, target).then(
      () => this.finished(),
      (err: unknown) => {
        try {
          // Surfaces answer their own errors; reaching here is a bug, but the platform stays up.
          this.log.error({ err, surface: surface.name, path: target.rawPath }, 'unhandled error in surface');
          if (!res.headersSent) sendJson(res, 500, { message: 'internal error', code: 'INTERNAL' });
          else res.destroy();
        } finally {
          this.finished();
        }
      },
    );
  }

  private finished(): void {
    this.inFlight--;
    if (this.inFlight === 0 && this.onDrained) this.onDrained();
  }
}
