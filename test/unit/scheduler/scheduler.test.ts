import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/shared/clock.js';
import { ModelfnError } from '../../../src/shared/errors.js';
import type { FunctionConfig, ScalingSettings } from '../../../src/registry/types.js';
import type { Instance, InstanceExit, InvokeRequest, InvokeResponse } from '../../../src/runtimes/runtime.js';
import { InitFailure } from '../../../src/runtimes/runtime.js';
import type { Launcher, LaunchRequest } from '../../../src/scheduler/instance-launcher.js';
import type { InvocationTarget } from '../../../src/scheduler/invocation.js';
import { Scheduler } from '../../../src/scheduler/scheduler.js';
import type { LogRecord } from '../../../src/telemetry/logs/log-record.js';
import { LogRenderer } from '../../../src/telemetry/logs/log-record.js';

/** An instance that answers after `delayMs` (or never, with delayMs < 0), in memory. */
class FakeInstance implements Instance {
  readonly pid = undefined;
  alive = true;
  served: string[] = [];
  readonly exited: Promise<InstanceExit>;
  private exit!: (e: InstanceExit) => void;
  protected pending: ((e: Error) => void) | undefined;

  constructor(readonly id: string, readonly revision: string, private readonly delayMs: number) {
    this.exited = new Promise((resolve) => (this.exit = resolve));
  }

  invoke(request: InvokeRequest): Promise<InvokeResponse> {
    this.served.push(request.requestId);
    return new Promise((resolve, reject) => {
      this.pending = reject;
      if (this.delayMs >= 0) {
        setTimeout(() => resolve({ ok: true, payload: Buffer.from(JSON.stringify({ by: this.id, revision: this.revision })) }), this.delayMs);
      }
    });
  }

  kill(): void {
    if (!this.alive) return;
    this.alive = false;
    this.pending?.(new Error('killed'));
    this.exit({ code: null, signal: 'SIGKILL' });
  }
}

class FakeLauncher implements Launcher {
  launched: FakeInstance[] = [];
  constructor(private readonly opts: { startMs?: number; invokeMs?: number; failInit?: boolean } = {}) {}
  async launch(request: LaunchRequest): Promise<Instance> {
    await new Promise((r) => setTimeout(r, this.opts.startMs ?? 5));
    if (this.opts.failInit) throw new InitFailure({ errorType: 'Runtime.ImportModuleError', errorMessage: 'no module' });
    const instance = new FakeInstance(request.id, request.config.revisionId, this.opts.invokeMs ?? 10);
    this.launched.push(instance);
    return instance;
  }
  async cleanup(): Promise<void> {}
  get live(): number {
    return this.launched.filter((i) => i.alive).length;
  }
}

function target(overrides: Partial<FunctionConfig> = {}, scaling: Partial<ScalingSettings> = {}): InvocationTarget {
  const config: FunctionConfig = {
    name: 'fn',
    version: '$LATEST',
    runtime: 'nodejs20.x',
    handler: 'index.handler',
    memoryMb: 128,
    timeoutSec: 3,
    environment: {},
    description: '',
    codeSha256: 'a'.repeat(64),
    codeSize: 1,
    revisionId: 'rev-1',
    lastModified: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
  return { config, scaling: { reservedConcurrency: null, keepAliveSec: 60, ...scaling }, invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fn' };
}

function makeScheduler(launcher: Launcher, clock = new ManualClock(1_000_000), options: Partial<ConstructorParameters<typeof Scheduler>[0]> = {}) {
  const logs: LogRecord[] = [];
  const scheduler = new Scheduler({
    clock,
    launcher,
    logs: { append: (r) => logs.push(r) },
    memoryBudgetMb: 100_000,
    accountConcurrency: 1000,
    minUnreservedConcurrency: 100,
    defaultKeepAliveSec: 600,
    maxQueueLength: 1000,
    maxQueueWaitMs: 10_000,
    reapIntervalMs: 3_600_000,
    eagerInstances: 1000,
    maxResponseBytes: 6 * 1024 * 1024,
    ...options,
  });
  return { scheduler, logs, clock };
}

let n = 0;
const invocation = () => ({ requestId: `req-${++n}`, payload: Buffer.from('{}') });

test('a burst of 50 requests to a cold function with reserved concurrency 5 starts 5 instances and serves all 50', async () => {
  const launcher = new FakeLauncher({ startMs: 20, invokeMs: 5 });
  const { scheduler } = makeScheduler(launcher);
  const t = target({}, { reservedConcurrency: 5 });
  const outcomes = await Promise.all(Array.from({ length: 50 }, () => scheduler.invoke(t, invocation())));
  assert.equal(launcher.launched.length, 5);
  assert.equal(outcomes.filter((o) => o.result.ok).length, 50);
  assert.equal(outcomes.filter((o) => o.initDurationMs !== undefined).length, 5, 'exactly the 5 cold starts report an init duration');
  await scheduler.shutdown(100);
});

test('starts are bounded platform-wide: a burst to two cold functions never runs more than maxConcurrentStarts starts at once, and every call is served', async () => {
  let running = 0;
  let peak = 0;
  const inner = new FakeLauncher({ startMs: 15, invokeMs: 5 });
  const launcher: Launcher = {
    async launch(request) {
      running++;
      peak = Math.max(peak, running);
      try {
        return await inner.launch(request);
      } finally {
        running--;
      }
    },
    cleanup: () => inner.cleanup(),
  };
  const { scheduler } = makeScheduler(launcher, new ManualClock(1_000_000), { maxConcurrentStarts: 3 });
  const a = target({}, { reservedConcurrency: 8 });
  const b = target({ name: 'other' }, { reservedConcurrency: 8 });
  const outcomes = await Promise.all(Array.from({ length: 40 }, (_, i) => scheduler.invoke(i % 2 ? a : b, invocation())));
  assert.equal(outcomes.filter((o) => o.result.ok).length, 40);
  assert.equal(peak, 3, 'at most 3 starts at once');
  assert.ok(inner.launched.length > 3, `starts went on as slots freed up (${inner.launched.length})`);
  await scheduler.shutdown(100);
});

test('instances idle past the keep-alive are stopped: the pool scales to zero', async () => {
  const launcher = new FakeLauncher();
  const { scheduler, clock } = makeScheduler(launcher);
  const t = target({}, { keepAliveSec: 30 });
  await Promise.all([scheduler.invoke(t, invocation()), scheduler.invoke(t, invocation())]);
  assert.equal(launcher.live, 2);
  clock.advance(29_000);
  scheduler.reapIdle();
  assert.equal(launcher.live, 2, 'still within keep-alive');
  clock.advance(1_000);
  scheduler.reapIdle();
  assert.equal(launcher.live, 0, 'scaled to zero');
  assert.deepEqual(scheduler.snapshot(), []);
  // and back from zero
  const again = await scheduler.invoke(t, invocation());
  assert.equal(again.result.ok, true);
  assert.ok(again.initDurationMs !== undefined, 'the first call after scale-to-zero is a cold start');
  await scheduler.shutdown(100);
});

test('beyond the limit and a full queue, calls are throttled with the Lambda reason', async () => {
  const launcher = new FakeLauncher({ invokeMs: 200 });
  const { scheduler } = makeScheduler(launcher, new ManualClock(), { maxQueueLength: 0 });
  const t = target({}, { reservedConcurrency: 1 });
  const first = scheduler.invoke(t, invocation());
  await assert.rejects(scheduler.invoke(t, invocation()), (err: unknown) => {
    assert.ok(err instanceof ModelfnError);
    assert.equal(err.code, 'TOO_MANY_REQUESTS');
    assert.equal(err.details.reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
    return true;
  });
  assert.equal((await first).result.ok, true);
  await scheduler.shutdown(100);
});

test('reserved concurrency 0 throttles at once', async () => {
  const { scheduler } = makeScheduler(new FakeLauncher());
  await assert.rejects(scheduler.invoke(target({}, { reservedConcurrency: 0 }), invocation()), /concurrency limit/);
  await scheduler.shutdown(100);
});

test('a redeploy lets the running call finish on the old code; new calls get new instances', async () => {
  const launcher = new FakeLauncher({ invokeMs: 100 });
  const { scheduler } = makeScheduler(launcher);
  const v1 = target({ revisionId: 'rev-1', lastModified: '2026-01-01T00:00:00.000Z' });
  const v2 = target({ revisionId: 'rev-2', lastModified: '2026-01-01T00:00:01.000Z' });
  const running = scheduler.invoke(v1, invocation());
  await new Promise((r) => setTimeout(r, 30));
  const after = await scheduler.invoke(v2, invocation());
  const before = await running;
  assert.equal(JSON.parse((before.result as { payload: Buffer }).payload.toString()).revision, 'rev-1');
  assert.equal(JSON.parse((after.result as { payload: Buffer }).payload.toString()).revision, 'rev-2');
  assert.equal(launcher.launched[0]!.alive, false, 'the old instance stops once its call is done');
  assert.equal(launcher.live, 1);
  await scheduler.shutdown(100);
});

test('a call that runs past the timeout fails with Sandbox.Timedout and its instance is replaced', async () => {
  const launcher = new FakeLauncher({ invokeMs: -1 });
  const { scheduler, logs } = makeScheduler(launcher);
  const outcome = await scheduler.invoke(target({ timeoutSec: 1 }), invocation());
  assert.equal(outcome.result.ok, false);
  if (!outcome.result.ok) {
    assert.equal(outcome.result.error.errorType, 'Sandbox.Timedout');
    assert.match(outcome.result.error.errorMessage, /Task timed out after 1\.00 seconds/);
  }
  assert.equal(launcher.live, 0);
  assert.ok(logs.some((l) => l.kind === 'invocation' && l.report?.errorType === 'Sandbox.Timedout'));
  await scheduler.shutdown(100);
});

test('the deadline runs from each call\'s own start on a reused instance, and a call after an idle spell is not cut short', async () => {
  // Per call: how long the instance takes to answer (ms); -1: never.
  const delays = [700, 700, 100, -1];
  class TimedInstance extends FakeInstance {
    override invoke(request: InvokeRequest): Promise<InvokeResponse> {
      const ms = delays.shift()!;
      this.served.push(request.requestId);
      return new Promise((resolve, reject) => {
        this.pending = reject;
        if (ms >= 0) setTimeout(() => resolve({ ok: true, payload: Buffer.from('{}') }), ms);
      });
    }
  }
  const instances: TimedInstance[] = [];
  const launcher: Launcher = {
    async launch(request) {
      const instance = new TimedInstance(request.id, request.config.revisionId, 0);
      instances.push(instance);
      return instance;
    },
    async cleanup() {},
  };
  const { scheduler } = makeScheduler(launcher);
  const t = target({ timeoutSec: 1 });
  // Two 700 ms calls back to back: 1.4 s on the instance, each within its own 1 s.
  assert.equal((await scheduler.invoke(t, invocation())).result.ok, true);
  assert.equal((await scheduler.invoke(t, invocation())).result.ok, true);
  // Idle past the second call's deadline, then a short call.
  await new Promise((r) => setTimeout(r, 1200));
  assert.equal((await scheduler.invoke(t, invocation())).result.ok, true);
  assert.equal(instances.length, 1, 'one instance served the three calls');
  assert.equal(instances[0]!.alive, true);
  // And a call that never answers still times out on it.
  const started = Date.now();
  const last = await scheduler.invoke(t, invocation());
  assert.equal(last.result.ok, false);
  if (!last.result.ok) assert.equal(last.result.error.errorType, 'Sandbox.Timedout');
  assert.ok(Date.now() - started >= 950, `timed out after ${Date.now() - started} ms`);
  assert.equal(instances[0]!.alive, false);
  await scheduler.shutdown(100);
});

test('an init failure is the calling request\'s function error', async () => {
  const { scheduler, logs } = makeScheduler(new FakeLauncher({ failInit: true }));
  const outcome = await scheduler.invoke(target(), invocation());
  assert.equal(outcome.result.ok, false);
  if (!outcome.result.ok) assert.equal(outcome.result.error.errorType, 'Runtime.ImportModuleError');
  assert.ok(logs.some((l) => /INIT_REPORT/.test(l.message)));
  await scheduler.shutdown(100);
});

test('every invocation logs START, END and REPORT with Lambda\'s fields', async () => {
  const { scheduler, logs } = makeScheduler(new FakeLauncher());
  const inv = invocation();
  await scheduler.invoke(target(), inv);
  const stored = logs.filter((l) => l.requestId === inv.requestId).map((l, seq) => ({ ...l, seq }));
  const mine = new LogRenderer().render(stored).map((l) => l.message);
  assert.match(mine[0]!, new RegExp(`^START RequestId: ${inv.requestId} Version: \\$LATEST$`));
  assert.match(mine[1]!, new RegExp(`^END RequestId: ${inv.requestId}$`));
  assert.match(mine[2]!, /^REPORT RequestId: \S+\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms$/);
  await scheduler.shutdown(100);
});

test('the memory budget evicts the least recently used idle instance of another function', async () => {
  const launcher = new FakeLauncher();
  const { scheduler } = makeScheduler(launcher, new ManualClock(), { memoryBudgetMb: 256 });
  await scheduler.invoke(target({ name: 'a', memoryMb: 128 }), invocation());
  await scheduler.invoke(target({ name: 'b', memoryMb: 128 }), invocation());
  assert.equal(launcher.live, 2);
  await scheduler.invoke(target({ name: 'c', memoryMb: 128 }), invocation());
  assert.equal(launcher.live, 2, 'a third instance fits only after an eviction');
  assert.equal(launcher.launched[0]!.alive, false, 'the least recently used one went');
  await scheduler.shutdown(100);
});

test('shutdown waits for calls in flight, then stops every instance', async () => {
  const launcher = new FakeLauncher({ invokeMs: 150 });
  const { scheduler } = makeScheduler(launcher);
  const running = scheduler.invoke(target(), invocation());
  await new Promise((r) => setTimeout(r, 30));
  await scheduler.shutdown(5_000);
  assert.equal((await running).result.ok, true);
  assert.equal(launcher.live, 0);
  await assert.rejects(scheduler.invoke(target(), invocation()), /shutting down/);
});

test('hasCapacity: an idle instance, or room under the limit and the memory budget; never while shutting down', async () => {
  const launcher = new FakeLauncher({ startMs: 5, invokeMs: 30 });
  const { scheduler } = makeScheduler(launcher, new ManualClock(1_000_000), { memoryBudgetMb: 300 });
  const capped = target({}, { reservedConcurrency: 1 });
  assert.equal(scheduler.hasCapacity(capped), true, 'cold, but it may start one');
  const running = scheduler.invoke(capped, invocation());
  await new Promise((r) => setTimeout(r, 15));
  assert.equal(scheduler.hasCapacity(capped), false, 'its one instance is busy and the limit is reached');
  await running;
  assert.equal(scheduler.hasCapacity(capped), true, 'the instance is idle again');
  const big = target({ name: 'big', memoryMb: 256 });
  assert.equal(scheduler.hasCapacity(big), true, 'the idle 128 MB instance may be evicted to make room');
  assert.equal(scheduler.hasCapacity(target({ name: 'huge', memoryMb: 512 })), false, 'larger than the whole budget');
  await scheduler.shutdown(100);
  assert.equal(scheduler.hasCapacity(capped), false);
});
