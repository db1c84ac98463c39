import { EventEmitter } from 'node:events';
import type { ColdStartRecord, InvocationRecord } from '../scheduler/scheduler.js';
import { DURATION_BUCKETS_S, Histogram } from '../telemetry/metrics/histogram.js';

/** One step of one function's live chart. */
export interface LivePoint {
  /** End of the step, epoch ms. */
  readonly t: number;
  readonly requests: number;
  readonly errors: number;
  readonly throttles: number;
  readonly coldStarts: number;
  /** Latency percentiles of the step's invocations (ms); null without invocations. */
  readonly p50: number | null;
  readonly p99: number | null;
  /** Instances at the end of the step (all states). */
  readonly instances: number;
}

/** A recent invocation, for the dashboard's list (its lines come from the log store). */
export interface RecentInvocation {
  readonly requestId: string;
  readonly ts: number;
  readonly version: string;
  readonly durationMs: number;
  readonly billedDurationMs: number;
  readonly initDurationMs?: number;
  readonly errorType?: string;
  readonly traceId?: string;
}

class Step {
  requests = 0;
  errors = 0;
  throttles = 0;
  coldStarts = 0;
  readonly latency = new Histogram(DURATION_BUCKETS_S);
}

interface FunctionLive {
  step: Step;
  readonly points: LivePoint[];
  /** The last invocations as they came (a ring), with when they ended. */
  readonly recent: Array<{ r: InvocationRecord; ts: number }>;
  next: number;
}

export interface LiveSeriesOptions {
  readonly stepMs?: number;
  /** Steps kept per function (the charts' window). */
  readonly keep?: number;
  readonly maxFunctions?: number;
  readonly recentPerFunction?: number;
  readonly now?: () => number;
  /** Instances per function at the end of a step. */
  readonly instances: () => ReadonlyMap<string, number>;
}

/**
 * The dashboard's live charts: per function, one point per step (2 s by default, 30 minutes
 * kept) of requests, errors, throttles, cold starts, p50/p99 latency and instance count, plus the
 * last invocations. Events are added to the open step in memory; a timer closes the step and
 * emits 'tick' for the live stream.
 */
export class LiveSeries extends EventEmitter {
  readonly stepMs: number;
  private readonly keep: number;
  private readonly functions = new Map<string, FunctionLive>();
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;

  constructor(private readonly options: LiveSeriesOptions) {
    super();
    this.setMaxListeners(0);
    this.stepMs = options.stepMs ?? 2000;
    this.keep = options.keep ?? 900;
    this.now = options.now ?? Date.now;
    this.timer = setInterval(() => this.tick(), this.stepMs);
    this.timer.unref();
  }

  onInvocation(r: InvocationRecord): void {
    const f = this.entry(r.functionName);
    if (!f) return;
    f.step.requests++;
    if (r.errorType !== undefined) f.step.errors++;
    if (r.billedDurationMs > 0) f.step.latency.observe(r.durationMs / 1000);
    const keep = this.options.recentPerFunction ?? 50;
    const entry = { r, ts: this.now() };
    if (f.recent.length < keep) f.recent.push(entry);
    else f.recent[f.next] = entry;
    f.next = (f.next + 1) % keep;
  }

  onThrottle(functionName: string): void {
    const f = this.entry(functionName);
    if (f) f.step.throttles++;
  }

  onColdStart(r: ColdStartRecord): void {
    const f = this.entry(r.functionName);
    if (f) f.step.coldStarts++;
  }

  points(functionName: string, since = 0): LivePoint[] {
    return (this.functions.get(functionName)?.points ?? []).filter((p) => p.t > since);
  }

  /** The last invocations, newest first. */
  recent(functionName: string): RecentInvocation[] {
    const f = this.functions.get(functionName);
    if (!f) return [];
    const ordered = [...f.recent.slice(f.next), ...f.recent.slice(0, f.next)].reverse();
    return ordered.map(({ r, ts }) => ({
      requestId: r.requestId,
      ts,
      version: r.version,
      durationMs: r.durationMs,
      billedDurationMs: r.billedDurationMs,
      ...(r.initDurationMs !== undefined ? { initDurationMs: r.initDurationMs } : {}),
      ...(r.errorType !== undefined ? { errorType: r.errorType } : {}),
      ...(r.traceId !== undefined ? { traceId: r.traceId } : {}),
    }));
  }

  /** The latest point of every function. */
  latest(): Record<string, LivePoint> {
    const out: Record<string, LivePoint> = {};
    for (const [name, f] of this.functions) {
      const p = f.points.at(-1);
      if (p) out[name] = p;
    }
    return out;
  }

  /** Totals over the last `ms` (requests, errors, p99 of the worst step). */
  summary(functionName: string, ms: number): { requests: number; errors: number; throttles: number; coldStarts: number } {
    const since = this.now() - ms;
    const sum = { requests: 0, errors: 0, throttles: 0, coldStarts: 0 };
    for (const p of this.points(functionName, since)) {
      sum.requests += p.requests;
      sum.errors += p.errors;
      sum.throttles += p.throttles;
      sum.coldStarts += p.coldStarts;
    }
    return sum;
  }

  forget(functionName: string): void {
    this.functions.delete(functionName);
  }

  /** Close the open step of every function (the timer calls this; tests call it directly). */
  tick(): void {
    const t = this.now();
    const instances = this.options.instances();
    for (const name of instances.keys()) this.entry(name);
    const batch: Record<string, LivePoint> = {};
    for (const [name, f] of this.functions) {
      const s = f.step;
      f.step = new Step();
      const point: LivePoint = {
        t,
        requests: s.requests,
        errors: s.errors,
        throttles: s.throttles,
        coldStarts: s.coldStarts,
        p50: s.latency.count > 0 ? s.latency.quantile(0.5) * 1000 : null,
        p99: s.latency.count > 0 ? s.latency.quantile(0.99) * 1000 : null,
        instances: instances.get(name) ?? 0,
      };
      f.points.push(point);
      if (f.points.length > this.keep) f.points.shift();
      batch[name] = point;
    }
    this.emit('tick', t, batch);
  }

  close(): void {
    clearInterval(this.timer);
    this.removeAllListeners();
  }

  private entry(name: string): FunctionLive | undefined {
    let f = this.functions.get(name);
    if (!f) {
      if (this.functions.size >= (this.options.maxFunctions ?? 500)) return undefined;
      f = { step: new Step(), points: [], recent: [], next: 0 };
      this.functions.set(name, f);
    }
    return f;
  }
}
