import type { IncomingMessage, ServerResponse } from 'node:http';
import { send, sendJson } from '../../server/http/respond.js';
import type { RequestTarget } from '../../server/http/request-url.js';
import type { Surface } from '../../server/surface.js';

/** What the surface exposes: Prometheus text and its content type. */
export interface MetricsSource {
  text(): Promise<string>;
  readonly contentType: string;
}

/** GET /metrics: the platform's metrics in Prometheus text format (404 while telemetry is off). */
export class MetricsSurface implements Surface {
  readonly name = 'metrics';
  readonly prefixes = ['/metrics'];

  constructor(private readonly source: () => MetricsSource | undefined) {}

  async handle(req: IncomingMessage, res: ServerResponse, target: RequestTarget): Promise<void> {
    if (target.rawPath !== '/metrics') return sendJson(res, 404, { message: `no metrics endpoint at ${target.rawPath}`, code: 'RESOURCE_NOT_FOUND' });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendJson(res, 405, { message: `${req.method} is not allowed on /metrics; allowed: GET, HEAD`, code: 'METHOD_NOT_ALLOWED' }, { allow: 'GET, HEAD' });
    }
    const source = this.source();
    if (!source) return sendJson(res, 404, { message: 'metrics are switched off on this platform (telemetry disabled)', code: 'RESOURCE_NOT_FOUND' });
    const text = await source.text();
    send(res, 200, req.method === 'HEAD' ? '' : text, { 'content-type': source.contentType, 'cache-control': 'no-store' });
  }
}
