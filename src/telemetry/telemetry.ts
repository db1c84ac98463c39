import type { Registry as FunctionRegistry } from '../registry/registry.js';
import type { RegistryChange } from '../registry/store.js';
import type { ColdStartRecord, InvocationRecord, Scheduler } from '../scheduler/scheduler.js';
import type { Clock } from '../shared/clock.js';
import { MeteringService } from './metering/metering-service.js';
import type { MeteringOptions } from './metering/metering-service.js';
import type { PriceTable } from './metering/pricing.js';
import { PlatformMetrics } from './metrics/platform-metrics.js';
import type { BatchSizeSource } from './metrics/platform-metrics.js';

export interface TelemetryOptions {
  /** false: no metrics and no metering (logs and tracing stay on). */
  readonly enabled: boolean;
  readonly scheduler: Scheduler;
  readonly registry: FunctionRegistry;
  readonly clock: Clock;
  readonly meteringDb: string;
  readonly prices: PriceTable;
  readonly meteringRetentionDays: number;
  /** Cluster mode: where flushed usage rows go instead of this node's store (MeteringOptions.sink). */
  readonly meteringSink?: MeteringOptions['sink'];
  readonly maxSeries: number;
  /** Batch sizes of model functions (the model dispatcher's statistics), when there are any. */
  readonly batches?: () => Iterable<BatchSizeSource>;
}

/**
 * Metrics and metering, wired to the scheduler's events. Each listener only adds to memory;
 * Prometheus text is built when scraped and metering is written to SQLite by a timer.
 */
export class Telemetry {
  readonly metrics: PlatformMetrics | undefined;
  readonly metering: MeteringService | undefined;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(options: TelemetryOptions) {
    if (!options.enabled) {
      this.metrics = undefined;
      this.metering = undefined;
      return;
    }
    const { scheduler, registry } = options;
    const metrics = new PlatformMetrics({
      maxSeries: options.maxSeries,
      pools: () => scheduler.snapshot(),
      batches: options.batches,
      now: () => options.clock.now(),
    });
    this.metrics = metrics;
    this.listen(scheduler, 'invocation', (r: InvocationRecord) => metrics.onInvocation(r));
    this.listen(scheduler, 'throttle', (name: string, version: string) => metrics.onThrottle(name, version));
    this.listen(scheduler, 'coldstart', (r: ColdStartRecord) => metrics.onColdStart(r));
    this.listen(scheduler, 'redispatch', (name: string, version: string, why: 'gone' | 'withdrawn') => metrics.onRedispatch(name, version, why));
    this.listen(registry, 'change', (change: RegistryChange) => {
      if (!registry.get(change.name)) metrics.forget(change.name);
    });
    this.metering = new MeteringService({
      dbPath: options.meteringDb,
      scheduler,
      clock: options.clock,
      prices: options.prices,
      retentionDays: options.meteringRetentionDays,
      ...(options.meteringSink ? { sink: options.meteringSink } : {}),
    });
  }

  close(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    this.metrics?.close();
    this.metering?.close();
  }

  private listen<A extends unknown[]>(emitter: { on(e: string, l: (...a: A) => void): unknown; off(e: string, l: (...a: A) => void): unknown }, event: string, listener: (...a: A) => void): void {
    emitter.on(event, listener);
    this.unsubscribe.push(() => emitter.off(event, listener));
  }
}
