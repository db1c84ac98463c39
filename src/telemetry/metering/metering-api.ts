import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HTTPMethod } from 'find-my-way';
import { ModelfnError } from '../../shared/errors.js';
import { sendJson } from '../../server/http/respond.js';
import { parseTime } from '../../surfaces/admin/logs-endpoint.js';
import type { MeteringService } from './metering-service.js';

type Handler = (req: IncomingMessage, res: ServerResponse, params: Record<string, string>, query: URLSearchParams) => Promise<void>;

/** Where the endpoints are mounted: the modelfn API (AdminSurface.on). */
export interface ApiRouter {
  on(method: HTTPMethod, path: string, handler: Handler): void;
}

const DAY = 86_400_000;

/**
 * The modelfn API's metering endpoints:
 * - GET /_modelfn/v1/metering?since=24h&until=&function=&step=5m: usage per function as a time series;
 * - GET /_modelfn/v1/cost?since=7d&until=&function=: usage per version priced by each provider.
 * Times are ISO 8601, epoch ms or durations back from now (15m, 2h, 7d); since defaults to 7d.
 */
export function registerMeteringApi(
  router: ApiRouter,
  metering: () => MeteringService | undefined,
  /** Whether the current caller may see a function's usage (tenants see their own functions). */
  canSee: (functionName: string) => boolean = () => true,
): void {
  const service = (): MeteringService => {
    const m = metering();
    if (!m) throw new ModelfnError('RESOURCE_NOT_FOUND', 'metering is switched off on this platform (telemetry disabled)');
    return m;
  };
  router.on('GET', '/_modelfn/v1/metering', async (_req, res, _params, query) => {
    const range = rangeOf(query);
    const stepMs = parseStep(query.get('step'), range.until - range.since);
    const series = service().series({ ...range, stepMs }).filter((p) => canSee(p.functionName));
    sendJson(res, 200, { since: range.since, until: range.until, stepMs, series: series.map((p) => ({ ...p, gbSeconds: p.mbMs / 1024 / 1000, cpuSeconds: p.cpuMs / 1000 })) });
  });
  router.on('GET', '/_modelfn/v1/cost', async (_req, res, _params, query) => {
    sendJson(res, 200, service().cost(rangeOf(query), canSee));
  });
}

function rangeOf(query: URLSearchParams): { since: number; until: number; functionName?: string } {
  const now = Date.now();
  const since = parseTime(query.get('since')) ?? now - 7 * DAY;
  const until = parseTime(query.get('until')) ?? now;
  if (until < since) throw new ModelfnError('INVALID_PARAMETER', 'until must not be before since');
  const fn = query.get('function');
  return { since, until, ...(fn ? { functionName: fn } : {}) };
}

/** "1m", "5m", "1h", "1d" or ms; default: about 120 points over the range, at least a minute. */
function parseStep(value: string | null, rangeMs: number): number {
  if (value === null || value === '') return Math.max(60_000, Math.ceil(rangeMs / 120 / 60_000) * 60_000);
  const m = /^(\d+)(m|h|d)?$/.exec(value);
  if (!m) throw new ModelfnError('INVALID_PARAMETER', `step must be a duration like 1m, 1h, 1d; got ${JSON.stringify(value)}`);
  const ms = Number(m[1]) * (m[2] === 'd' ? DAY : m[2] === 'h' ? 3_600_000 : m[2] === 'm' ? 60_000 : 1);
  if (ms < 60_000 || ms > 31 * DAY) throw new ModelfnError('INVALID_PARAMETER', 'step must be from 1m to 31d');
  return ms;
}
