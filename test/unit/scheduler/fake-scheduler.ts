// A scheduler on a manual clock with fake instances (no processes): for tests of what the scheduler
// decides over virtual time (keep-alive, pre-warm, the warm-memory budget, cold-start records).
import type { ManualClock } from '../../../src/shared/clock.js';
import type { FunctionConfig, ScalingSettings } from '../../../src/registry/types.js';
import type { Instance, InstanceExit, InvokeRequest, InvokeResponse } from '../../../src/runtimes/runtime.js';
import type { Launcher, LaunchRequest } from '../../../src/scheduler/instance-launcher.js';
import type { InvocationTarget } from '../../../src/scheduler/invocation.js';
import { Scheduler } from '../../../src/scheduler/scheduler.js';
import type { LogRecord } from '../../../src/telemetry/logs/log-record.js';

export const MIN = 60_000;

/** An instance that answers every call with its request id after 2 ms of real time. */
export class FakeInstance implements Instance {
  readonly pid = undefined;
  alive = true;
  readonly exited: Promise<InstanceExit>;
  readonly initPhases = { processStartMs: 3, runtimeInitMs: 1, userInitMs: 2, stemCell: true };
  private exit!: (e: InstanceExit) => void;

  constructor(readonly id: string) {
    this.exited = new Promise((resolve) => (this.exit = resolve));
  }

  async invoke(request: InvokeRequest): Promise<InvokeResponse> {
    await new Promise((r) => setTimeout(r, 2));
    return { ok: true, payload: Buffer.from(JSON.stringify({ id: request.requestId })) };
  }

  kill(): void {
    if (!this.alive) return;
    this.alive = false;
    this.exit({ code: null, signal: 'SIGKILL' });
  }
}

/** Starts fake instances (reporting stem-cell phases) and remembers them. */
export class FakeLauncher implements Launcher {
  readonly launched: FakeInstance[] = [];
  async launch(request: LaunchRequest): Promise<Instance> {
    await new Promise((r) => setTimeout(r, 2));
    const instance = new FakeInstance(request.id);
    this.launched.push(instance);
    request.onPhases?.({ fetchMs: 0.5, processStartMs: 3, runtimeInitMs: 1, userInitMs: 2 }, true);
    return instance;
  }
  async cleanup(): Promise<void> {}
  get live(): FakeInstance[] {
    return this.launched.filter((i) => i.alive);
  }
}

export function target(name: string, scaling: Partial<ScalingSettings> = {}, version = '$LATEST'): InvocationTarget {
  const config: FunctionConfig = {
    name, version, runtime: 'nodejs20.x', handler: 'index.handler', memoryMb: 128, timeoutSec: 3, environment: {}, description: '',
    codeSha256: 'a'.repeat(64), codeSize: 1, revisionId: 'rev-1', lastModified: '2026-01-01T00:00:00.000Z',
  };
  return { config, scaling: { reservedConcurrency: null, keepAliveSec: 600, ...scaling }, invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}` };
}

/** A scheduler with room for everything (the reaper's timer an hour apart: tests call reapIdle()). */
export function makeScheduler(launcher: Launcher, clock: ManualClock, options: Partial<ConstructorParameters<typeof Scheduler>[0]> = {}): { scheduler: Scheduler; logs: LogRecord[] } {
  const logs: LogRecord[] = [];
  const scheduler = new Scheduler({
    clock, launcher, logs: { append: (r) => logs.push(r) }, memoryBudgetMb: 100_000, accountConcurrency: 1000, minUnreservedConcurrency: 100,
    defaultKeepAliveSec: 600, maxQueueLength: 1000, maxQueueWaitMs: 10_000, reapIntervalMs: 3_600_000, eagerInstances: 1000, maxResponseBytes: 6 * 1024 * 1024,
    ...options,
  });
  return { scheduler, logs };
}

let n = 0;
export const invocation = (wantLogs = false) => ({ requestId: `req-${++n}`, payload: Buffer.from('{}'), wantLogs });
