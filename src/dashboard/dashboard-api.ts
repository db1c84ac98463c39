import type { IncomingMessage, ServerResponse } from 'node:http';
import { runAs } from '../auth/principal-context.js';
import type { Principal } from '../auth/access-keys.js';
import { functionArn } from '../registry/arn.js';
import type { Registry } from '../registry/registry.js';
import type { RegistryChange } from '../registry/store.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { ModelfnError } from '../shared/errors.js';
import { sendJson } from '../server/http/respond.js';
import { trackStream } from '../server/http/streams.js';
import { functionView } from '../surfaces/admin/function-view.js';
import { coldStartView } from '../surfaces/admin/admin-surface.js';
import { parseTime } from '../surfaces/admin/logs-endpoint.js';
import type { LogStore } from '../telemetry/logs/log-record.js';
import { LogRenderer } from '../telemetry/logs/log-record.js';
import type { MeteringService } from '../telemetry/metering/metering-service.js';
import type { LivePoint, LiveSeries } from './live-series.js';

/** What the dashboard reads. */
export interface DashboardData {
  readonly registry: Registry;
  readonly scheduler: Scheduler;
  readonly logs: LogStore;
  readonly live: LiveSeries;
  readonly metering: () => MeteringService | undefined;
  readonly version: string;
}

const FIVE_MINUTES = 5 * 60_000;

/**
 * The JSON the dashboard's pages read (under /ui/api, behind the session check) and its live
 * stream: GET /ui/api/events is a server-sent-events stream with a 'tick' per chart step (the
 * new points of every function) and a 'functions' event whenever a function is deployed,
 * changed or removed, so pages update without a reload.
 */
export class DashboardApi {
  constructor(private readonly data: DashboardData) {}

  async handle(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams, principal: Principal | null): Promise<void> {
    if (req.method !== 'GET') throw new ModelfnError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on /ui/api${path}`);
    const headers = { 'cache-control': 'no-store' };
    if (path === '/overview') return sendJson(res, 200, this.overview(principal), headers);
    if (path === '/events') return this.events(req, res, principal ?? undefined);
    if (path === '/cost') return sendJson(res, 200, this.cost(query), headers);
    const m = /^\/functions\/([A-Za-z0-9_-]{1,140})(\/series|\/invocations|\/logs)?$/.exec(path);
    if (m) {
      const name = m[1]!;
      if (!this.data.registry.get(name)) throw new ModelfnError('FUNCTION_NOT_FOUND', `function ${name} does not exist`);
      if (m[2] === undefined) return sendJson(res, 200, this.detail(name), headers);
      if (m[2] === '/series') return sendJson(res, 200, { stepMs: this.data.live.stepMs, points: this.data.live.points(name, Number(query.get('since') ?? 0) || 0) }, headers);
      if (m[2] === '/invocations') return sendJson(res, 200, { invocations: this.data.live.recent(name) }, headers);
      return sendJson(res, 200, await this.logs(name, query), headers);
    }
    throw new ModelfnError('RESOURCE_NOT_FOUND', `no dashboard API at ${path}`);
  }

  private overview(principal: Principal | null) {
    const live = this.data.live;
    return {
      version: this.data.version,
      principal,
      telemetry: this.data.metering() !== undefined,
      stepMs: live.stepMs,
      functions: this.data.registry.list().map((doc) => ({ ...this.view(doc.name)!, last5m: live.summary(doc.name, FIVE_MINUTES), latest: live.latest()[doc.name] ?? null })),
    };
  }

  private detail(name: string) {
    return {
      function: this.view(name),
      stepMs: this.data.live.stepMs,
      points: this.data.live.points(name),
      invocations: this.data.live.recent(name),
      coldStarts: this.data.scheduler.recentColdStarts(name).map(coldStartView),
    };
  }

  private cost(query: URLSearchParams) {
    const metering = this.data.metering();
    if (!metering) throw new ModelfnError('RESOURCE_NOT_FOUND', 'metering is switched off on this platform (telemetry disabled)');
    const now = Date.now();
    return metering.cost({ since: parseTime(query.get('since')) ?? now - 7 * 86_400_000, until: now });
  }

  private async logs(name: string, query: URLSearchParams) {
    const requestId = query.get('requestId') ?? undefined;
    const records = await this.data.logs.query({ functionName: name, requestId, limit: requestId ? 1000 : 200 });
    return { lines: new LogRenderer().render(records) };
  }

  private view(name: string) {
    const doc = this.data.registry.get(name);
    if (!doc) return undefined;
    const counts = { instances: 0, idle: 0, busy: 0, starting: 0, waiting: 0 };
    for (const p of this.data.scheduler.snapshot()) {
      if (p.functionName !== name) continue;
      counts.instances += p.instances;
      counts.idle += p.idle;
      counts.busy += p.busy;
      counts.starting += p.starting;
      counts.waiting += p.waiting;
    }
    return functionView(doc, counts, functionArn(this.data.registry.account, name), this.data.scheduler.keepAliveStatus(name, doc.scaling));
  }

  /**
   * The live stream, open as long as the page is. Its events arrive outside the request: they are
   * filtered by the tenant of the stream's caller, given here (the surface does not run the stream
   * as its caller: an open dashboard would keep the caller's storage on, principal-context.ts).
   */
  private async events(req: IncomingMessage, res: ServerResponse, principal: Principal | undefined): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    res.write(`retry: 2000\n\n`);
    const untrack = trackStream(res);
    const visible = (name: string) => principal === undefined || principal.admin || runAs(principal, () => this.data.registry.get(name) !== undefined);
    const onTick = (t: number, points: Record<string, LivePoint>) => {
      const mine = principal === undefined || principal.admin ? points : Object.fromEntries(Object.entries(points).filter(([name]) => visible(name)));
      res.write(`event: tick\ndata: ${JSON.stringify({ t, points: mine })}\n\n`);
    };
    const onChange = (change: RegistryChange) => {
      if (change.type === 'put' && !visible(change.name)) return;
      if (change.type === 'delete' && principal !== undefined && !principal.admin) return;
      res.write(`event: functions\ndata: ${JSON.stringify({ name: change.name, type: change.type })}\n\n`);
    };
    this.data.live.on('tick', onTick);
    this.data.registry.on('change', onChange);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    heartbeat.unref();
    await new Promise<void>((resolve) => {
      const done = () => {
        clearInterval(heartbeat);
        this.data.live.off('tick', onTick);
        this.data.registry.off('change', onChange);
        untrack();
        resolve();
      };
      req.socket.once('close', done);
      res.once('close', done);
    });
  }
}
