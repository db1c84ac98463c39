import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { IntervalHistogram } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import type { ColdStartRecord, InvocationRecord } from '../../scheduler/scheduler.js';
import { BATCH_BUCKETS, DURATION_BUCKETS_S, Histogram, INIT_BUCKETS_S } from './histogram.js';
import { LabelCap } from './label-cap.js';
import type { SeriesLabels } from './label-cap.js';

/** Why an invocation failed, as a small fixed set (error types are user-defined strings). */
export type ErrorKind = 'function' | 'timeout' | 'out_of_memory' | 'runtime' | 'init';
const ERROR_KINDS: readonly ErrorKind[] = ['function', 'timeout', 'out_of_memory', 'runtime', 'init'];

export type ColdStartPhase = 'fetch' | 'process_start' | 'runtime_init' | 'user_init' | 'first_invoke';
const PHASES: readonly ColdStartPhase[] = ['fetch', 'process_start', 'runtime_init', 'user_init', 'first_invoke'];

export function errorKind(errorType: string, init: boolean): ErrorKind {
  if (init) return 'init';
  if (errorType === 'Sandbox.Timedout') return 'timeout';
  if (errorType === 'Runtime.OutOfMemory') return 'out_of_memory';
  if (errorType.startsWith('Runtime.') || errorType.startsWith('Function.')) return 'runtime';
  return 'function';
}

class FunctionSeries {
  invocations = 0;
  pipelined = 0;
  readonly redispatches = new Map<'gone' | 'withdrawn', number>();
  throttles = 0;
  coldStarts = 0;
  readonly errors = new Map<ErrorKind, number>();
  readonly duration = new Histogram(DURATION_BUCKETS_S);
  readonly init = new Histogram(INIT_BUCKETS_S);
  readonly phases = new Map<ColdStartPhase, Histogram>();
}

/** What the scheduler shows at scrape time (Scheduler.snapshot()). */
export interface PoolSnapshot {
  readonly functionName: string;
  readonly version: string;
  readonly idle: number;
  readonly busy: number;
  readonly starting: number;
  readonly waiting: number;
}

/** Per model version: how many engine calls ran at each batch size (rows). */
export interface BatchSizeSource {
  readonly name: string;
  readonly version: string;
  readonly batchSizes: ReadonlyMap<number, number>;
}

export interface PlatformMetricsOptions {
  /** Distinct (function, version) label pairs; the rest are counted as "other". */
  readonly maxSeries?: number;
  /** A series quiet this long may give its slot to a new function. */
  readonly evictIdleMs?: number;
  readonly pools: () => readonly PoolSnapshot[];
  readonly batches?: () => Iterable<BatchSizeSource>;
  /** The platform process's own CPU, memory and event-loop delay. */
  readonly processMetrics?: boolean;
  readonly now?: () => number;
}

interface Sample {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName?: string;
}

/**
 * The platform's Prometheus metrics. Invocation, throttle and cold-start events are added to
 * plain per-series numbers (a map lookup and a few adds, no I/O); prom-client's registry turns
 * them into the text format when /metrics is scraped, together with gauges read from the
 * scheduler at that moment (instances by state, concurrency, queue depth) and batch sizes.
 */
export class PlatformMetrics {
  readonly registry = new Registry();
  readonly series: LabelCap<FunctionSeries>;
  private readonly now: () => number;
  private readonly loopDelay: IntervalHistogram | undefined;

  constructor(private readonly options: PlatformMetricsOptions) {
    this.now = options.now ?? Date.now;
    this.series = new LabelCap(options.maxSeries ?? 200, options.evictIdleMs ?? 15 * 60_000, () => new FunctionSeries());
    if (options.processMetrics !== false) {
      // Read at scrape time only (prom-client's default set also watches every GC: not here).
      this.loopDelay = monitorEventLoopDelay({ resolution: 20 });
      this.loopDelay.enable();
      this.processFamilies(this.loopDelay);
    }
    this.family('modelfn_invocations_total', 'Invocations that finished (including function errors), by function and version.', 'counter', () =>
      this.each((labels, s) => [{ labels: { ...labels }, value: s.invocations }]),
    );
    this.family('modelfn_errors_total', 'Failed invocations by kind: function (the handler threw), timeout, out_of_memory, runtime (crash, bad response), init (the cold start failed).', 'counter', () =>
      this.each((labels, s) => [...s.errors].map(([kind, value]) => ({ labels: { ...labels, kind }, value }))),
    );
    this.family('modelfn_pipelined_invocations_total', 'Invocations handed to a busy instance to run after the calls it held (pipelining of fast functions).', 'counter', () =>
      this.each((labels, s) => [{ labels: { ...labels }, value: s.pipelined }]),
    );
    this.family('modelfn_pipeline_redispatches_total', 'Pipelined invocations that did not start on their instance and ran elsewhere: gone (the instance died first), withdrawn (taken back from behind a long call).', 'counter', () =>
      this.each((labels, s) => [...s.redispatches].map(([reason, value]) => ({ labels: { ...labels, reason }, value }))),
    );
    this.family('modelfn_throttles_total', 'Requests refused with 429 (concurrency limit and queue full).', 'counter', () =>
      this.each((labels, s) => [{ labels: { ...labels }, value: s.throttles }]),
    );
    this.family('modelfn_cold_starts_total', 'Instances started (cold starts).', 'counter', () =>
      this.each((labels, s) => [{ labels: { ...labels }, value: s.coldStarts }]),
    );
    this.family('modelfn_invocation_duration_seconds', 'Time in the function per invocation (what REPORT calls Duration).', 'histogram', () =>
      this.each((labels, s) => histogramSamples('modelfn_invocation_duration_seconds', labels, s.duration)),
    );
    this.family('modelfn_init_duration_seconds', 'Cold start time, from the decision to start an instance until it is ready (REPORT Init Duration).', 'histogram', () =>
      this.each((labels, s) => histogramSamples('modelfn_init_duration_seconds', labels, s.init)),
    );
    this.family(
      'modelfn_cold_start_phase_seconds',
      'Cold start phases: fetch (code bundle ready, temp dir, environment), process_start (spawn, or a stem cell taking the function, until the runtime runs), runtime_init (runtime set-up), user_init (loading the handler module and its model), first_invoke (the first invocation on the new instance).',
      'histogram',
      () => this.each((labels, s) => [...s.phases].flatMap(([phase, h]) => histogramSamples('modelfn_cold_start_phase_seconds', { ...labels, phase }, h))),
    );
    this.family('modelfn_concurrent_executions', 'Invocations running now.', 'gauge', () => this.pools((p) => [{ labels: {}, value: p.busy }]));
    this.family('modelfn_instances', 'Instances by state (starting, idle, busy); functions scaled to zero have none.', 'gauge', () =>
      this.pools((p) => [
        { labels: { state: 'starting' }, value: p.starting },
        { labels: { state: 'idle' }, value: p.idle },
        { labels: { state: 'busy' }, value: p.busy },
      ]),
    );
    this.family('modelfn_queue_depth', 'Requests waiting for an instance.', 'gauge', () => this.pools((p) => [{ labels: {}, value: p.waiting }]));
    this.family('modelfn_batch_size', 'Rows per engine call of model functions (dynamic batching merges concurrent requests).', 'histogram', () => this.batchSamples());
  }

  // ---- events (called from the scheduler's emitters: in-memory adds only) ------------------

  onInvocation(r: InvocationRecord): void {
    const s = this.series.get(r.functionName, r.version, this.now());
    s.invocations++;
    if (r.pipelined === true) s.pipelined++;
    const initFailed = r.billedDurationMs === 0 && r.initDurationMs !== undefined && r.errorType !== undefined;
    if (!initFailed) s.duration.observe(r.durationMs / 1000);
    if (r.errorType !== undefined) {
      const kind = errorKind(r.errorType, initFailed);
      s.errors.set(kind, (s.errors.get(kind) ?? 0) + 1);
    }
  }

  onRedispatch(functionName: string, version: string, why: 'gone' | 'withdrawn'): void {
    const s = this.series.get(functionName, version, this.now());
    s.redispatches.set(why, (s.redispatches.get(why) ?? 0) + 1);
  }

  onThrottle(functionName: string, version: string): void {
    this.series.get(functionName, version, this.now()).throttles++;
  }

  onColdStart(r: ColdStartRecord): void {
    const s = this.series.get(r.functionName, r.version, this.now());
    s.coldStarts++;
    s.init.observe(r.initDurationMs / 1000);
    const p = r.phases;
    if (!p) return;
    const values: Array<[ColdStartPhase, number | undefined]> = [
      ['fetch', p.fetchMs],
      ['process_start', p.processStartMs],
      ['runtime_init', p.runtimeInitMs],
      ['user_init', p.userInitMs],
      ['first_invoke', p.firstInvokeMs],
    ];
    for (const [phase, ms] of values) {
      if (ms === undefined) continue;
      let h = s.phases.get(phase);
      if (!h) s.phases.set(phase, (h = new Histogram(INIT_BUCKETS_S)));
      h.observe(Math.max(0, ms) / 1000);
    }
  }

  /** A function was deleted: its series go (Prometheus treats them as ended). */
  forget(functionName: string): void {
    this.series.forget(functionName);
  }

  /** Stop the event-loop delay monitor. */
  close(): void {
    this.loopDelay?.disable();
  }

  /** The exposition text. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  // ---- exposition ------------------------------------------------------------------------------

  private family(name: string, help: string, type: 'counter' | 'gauge' | 'histogram', values: () => Sample[]): void {
    this.registry.registerMetric({
      name,
      help,
      type,
      aggregator: 'sum',
      get: async () => ({ name, help, type, aggregator: 'sum', values: values() }),
    } as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  private processFamilies(loop: IntervalHistogram): void {
    const start = Date.now() / 1000 - process.uptime();
    this.family('modelfn_process_cpu_seconds_total', 'CPU time of the platform process (user + system), seconds.', 'counter', () => {
      const u = process.cpuUsage();
      return [{ labels: {}, value: (u.user + u.system) / 1e6 }];
    });
    this.family('modelfn_process_resident_memory_bytes', 'Resident memory of the platform process.', 'gauge', () => [{ labels: {}, value: process.memoryUsage.rss() }]);
    this.family('modelfn_process_heap_used_bytes', 'V8 heap in use in the platform process.', 'gauge', () => [{ labels: {}, value: process.memoryUsage().heapUsed }]);
    this.family('modelfn_process_start_time_seconds', 'When the platform process started (epoch seconds).', 'gauge', () => [{ labels: {}, value: start }]);
    this.family('modelfn_event_loop_delay_seconds', 'Event-loop delay of the platform process since the last scrape (p50, p99, max).', 'gauge', () => {
      const out = [
        { labels: { quantile: 'p50' }, value: loop.count > 0 ? loop.percentile(50) / 1e9 : 0 },
        { labels: { quantile: 'p99' }, value: loop.count > 0 ? loop.percentile(99) / 1e9 : 0 },
        { labels: { quantile: 'max' }, value: loop.count > 0 ? loop.max / 1e9 : 0 },
      ];
      loop.reset();
      return out;
    });
  }

  private each(samples: (labels: SeriesLabels, s: FunctionSeries) => Sample[]): Sample[] {
    const out: Sample[] = [];
    for (const [labels, s] of this.series.entries()) out.push(...samples(labels, s));
    return out;
  }

  /** Scheduler gauges, summed per label pair (functions past the cap add up under "other"). */
  private pools(samples: (p: PoolSnapshot) => Sample[]): Sample[] {
    const now = this.now();
    const sums = new Map<string, Sample>();
    for (const pool of this.options.pools()) {
      const labels = this.series.labelsFor(pool.functionName, pool.version, now);
      for (const sample of samples(pool)) {
        const full = { ...labels, ...sample.labels };
        const key = JSON.stringify(full);
        const prev = sums.get(key);
        sums.set(key, { labels: full, value: (prev?.value ?? 0) + sample.value });
      }
    }
    return [...sums.values()];
  }

  private batchSamples(): Sample[] {
    if (!this.options.batches) return [];
    const now = this.now();
    const merged = new Map<string, { labels: SeriesLabels; h: Histogram }>();
    for (const source of this.options.batches()) {
      if (source.batchSizes.size === 0) continue;
      const labels = this.series.labelsFor(source.name, source.version, now);
      const key = `${labels.function}\u0000${labels.version}`;
      let entry = merged.get(key);
      if (!entry) merged.set(key, (entry = { labels, h: new Histogram(BATCH_BUCKETS) }));
      for (const [size, count] of source.batchSizes) entry.h.observeMany(size, count);
    }
    return [...merged.values()].flatMap(({ labels, h }) => histogramSamples('modelfn_batch_size', labels, h));
  }
}

function histogramSamples(name: string, labels: object, h: Histogram): Sample[] {
  const cumulative = h.cumulative();
  const out: Sample[] = h.bounds.map((le, i) => ({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative[i]! }));
  out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.count });
  out.push({ metricName: `${name}_sum`, labels: { ...labels }, value: h.sum });
  out.push({ metricName: `${name}_count`, labels: { ...labels }, value: h.count });
  return out;
}

export { ERROR_KINDS, PHASES };
