import type { Scheduler, InvocationRecord } from '../../scheduler/scheduler.js';
import type { Clock } from '../../shared/clock.js';
import { CpuSampler } from './cpu-sampler.js';
import { MeteringStore } from './metering-store.js';
import type { UsagePoint, UsageQuery } from './metering-store.js';
import { priceUsage } from './pricing.js';
import type { PriceTable } from './pricing.js';
import { MeterBook, addUsage, emptyUsage, gbSeconds } from './usage.js';
import type { Usage, UsageRow } from './usage.js';

export interface MeteringOptions {
  readonly dbPath: string;
  readonly scheduler: Scheduler;
  readonly clock: Clock;
  readonly prices: PriceTable;
  readonly retentionDays: number;
  readonly flushIntervalMs?: number;
  /**
   * Cluster mode: flushed rows go here (a JetStream stream every node applies to its own store)
   * instead of straight into the store.
   */
  readonly sink?: (rows: UsageRow[]) => void;
  readonly cpuSampleIntervalMs?: number;
}

/** Usage of one function version over a range, with what it would cost elsewhere. */
export interface CostLine {
  readonly functionName: string;
  readonly version: string;
  readonly requests: number;
  readonly errors: number;
  readonly coldStarts: number;
  readonly throttles: number;
  readonly memoryMb: number;
  readonly billedMs: number;
  readonly initMs: number;
  readonly gbSeconds: number;
  readonly cpuSeconds: number;
  /** Provider id -> USD. */
  readonly costs: Record<string, number>;
}

export interface CostReport {
  readonly since: number;
  readonly until: number;
  readonly currency: string;
  readonly pricesUpdated: string;
  readonly freeTiers: 'excluded' | 'included';
  readonly providers: ReadonlyArray<{ id: string; name: string; freeTier?: string; sources: string[] }>;
  readonly functions: CostLine[];
  readonly total: Omit<CostLine, 'functionName' | 'version' | 'memoryMb'>;
}

/**
 * Metering: every finished invocation (and throttle) is added to in-memory minute buckets per
 * function version; a timer writes the buckets to SQLite in one transaction; a CPU sampler adds
 * the instances' measured CPU time. Nothing here runs on the request path beyond the add.
 * An idle function (scaled to zero, or warm and idle) accrues nothing: only invocations are billed.
 */
export class MeteringService {
  readonly store: MeteringStore;
  private readonly book = new MeterBook();
  private readonly cpu: CpuSampler;
  private readonly flushTimer: NodeJS.Timeout;
  private readonly retentionTimer: NodeJS.Timeout;
  private readonly onInvocation = (r: InvocationRecord) => this.book.add(r, this.options.clock.now());
  private readonly onThrottle = (name: string, version: string) => this.book.addThrottle(name, version, this.options.clock.now());

  constructor(private readonly options: MeteringOptions) {
    this.store = new MeteringStore(options.dbPath);
    options.scheduler.on('invocation', this.onInvocation);
    options.scheduler.on('throttle', this.onThrottle);
    this.cpu = new CpuSampler(
      () => options.scheduler.instanceProcesses(),
      (fn, version, cpuMs) => this.book.addCpu(fn, version, cpuMs, options.clock.now()),
      options.cpuSampleIntervalMs,
    );
    this.flushTimer = setInterval(() => this.flush(), options.flushIntervalMs ?? 10_000);
    this.flushTimer.unref();
    this.retentionTimer = setInterval(() => this.enforceRetention(), 3_600_000);
    this.retentionTimer.unref();
    this.enforceRetention();
  }

  get prices(): PriceTable {
    return this.options.prices;
  }

  /** Write what was gathered (one transaction). Queries call it first, so they see everything. */
  flush(): void {
    if (this.options.sink) this.options.sink(this.book.drain());
    else this.store.write(this.book.drain());
  }

  /** Read the instances' CPU time now (tests; the timer does it every few seconds). */
  sampleCpu(): Promise<void> {
    return this.cpu.sample();
  }

  enforceRetention(): number {
    return this.store.deleteBefore(this.options.clock.now() - this.options.retentionDays * 86_400_000);
  }

  series(q: UsageQuery & { stepMs: number }): UsagePoint[] {
    this.flush();
    return this.store.series(q);
  }

  /** canSee: a caller that may see only some functions (a tenant's key) gets only their lines. */
  cost(q: UsageQuery, canSee: (functionName: string) => boolean = () => true): CostReport {
    this.flush();
    const until = q.until ?? this.options.clock.now();
    const totals = this.store.totals(q).filter((u) => canSee(u.functionName));
    const { prices } = this.options;
    const sum: Usage = emptyUsage();
    const functions = totals.map((u) => {
      addUsage(sum, u);
      return line(u.functionName, u.version, u, prices);
    });
    // Totals are priced line by line (memory differs between functions), then added.
    const costs: Record<string, number> = {};
    for (const p of prices.providers) costs[p.id] = functions.reduce((n, f) => n + f.costs[p.id]!, 0);
    const all = line('', '', sum, prices);
    return {
      since: q.since,
      until,
      currency: prices.currency,
      pricesUpdated: prices.updated,
      freeTiers: prices.freeTiers,
      providers: prices.providers.map((p) => ({ id: p.id, name: p.name, freeTier: p.freeTier, sources: p.sources })),
      functions,
      total: {
        requests: all.requests,
        errors: all.errors,
        coldStarts: all.coldStarts,
        throttles: all.throttles,
        billedMs: all.billedMs,
        initMs: all.initMs,
        gbSeconds: all.gbSeconds,
        cpuSeconds: all.cpuSeconds,
        costs,
      },
    };
  }

  close(): void {
    this.options.scheduler.off('invocation', this.onInvocation);
    this.options.scheduler.off('throttle', this.onThrottle);
    clearInterval(this.flushTimer);
    clearInterval(this.retentionTimer);
    this.cpu.stop();
    try {
      this.flush();
    } finally {
      this.store.close();
    }
  }
}

function line(functionName: string, version: string, u: Usage, prices: PriceTable): CostLine {
  const costs: Record<string, number> = {};
  for (const p of prices.providers) costs[p.id] = priceUsage(p, u).total;
  return {
    functionName,
    version,
    requests: u.requests,
    errors: u.errors,
    coldStarts: u.coldStarts,
    throttles: u.throttles,
    memoryMb: u.memoryMb,
    billedMs: u.billedMs,
    initMs: u.initMs,
    gbSeconds: gbSeconds(u.mbMs),
    cpuSeconds: u.cpuMs / 1000,
    costs,
  };
}
