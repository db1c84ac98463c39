import type { KeyStore } from '../auth/access-keys.js';
import type { Registry } from '../registry/registry.js';
import type { RegistryChange } from '../registry/store.js';
import type { ColdStartRecord, InvocationRecord, Scheduler } from '../scheduler/scheduler.js';
import type { LogStore } from '../telemetry/logs/log-record.js';
import type { MeteringService } from '../telemetry/metering/metering-service.js';
import { DashboardSurface } from './dashboard-surface.js';
import { LiveSeries } from './live-series.js';

export interface DashboardWiring {
  readonly registry: Registry;
  readonly scheduler: Scheduler;
  readonly logs: LogStore;
  readonly metering: () => MeteringService | undefined;
  readonly keys: KeyStore | undefined;
  readonly version: string;
  /** Feed the live charts from the scheduler's events (off with telemetry). */
  readonly observe: boolean;
}

/** The dashboard surface and its live series, subscribed to the scheduler; close() unsubscribes. */
export function createDashboard(w: DashboardWiring): { surface: DashboardSurface; close(): void } {
  const live = new LiveSeries({
    instances: () => {
      const counts = new Map<string, number>();
      for (const p of w.scheduler.snapshot()) counts.set(p.functionName, (counts.get(p.functionName) ?? 0) + p.instances);
      return counts;
    },
  });
  const onInvocation = (r: InvocationRecord) => live.onInvocation(r);
  const onThrottle = (name: string) => live.onThrottle(name);
  const onColdStart = (r: ColdStartRecord) => live.onColdStart(r);
  const onChange = (change: RegistryChange) => {
    if (!w.registry.get(change.name)) live.forget(change.name);
  };
  if (w.observe) {
    w.scheduler.on('invocation', onInvocation);
    w.scheduler.on('throttle', onThrottle);
    w.scheduler.on('coldstart', onColdStart);
  }
  w.registry.on('change', onChange);
  const surface = new DashboardSurface({ keys: w.keys, registry: w.registry, scheduler: w.scheduler, logs: w.logs, live, metering: w.metering, version: w.version });
  return {
    surface,
    close: () => {
      w.scheduler.off('invocation', onInvocation);
      w.scheduler.off('throttle', onThrottle);
      w.scheduler.off('coldstart', onColdStart);
      w.registry.off('change', onChange);
      live.close();
    },
  };
}
