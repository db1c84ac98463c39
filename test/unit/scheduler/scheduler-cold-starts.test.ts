import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeLauncher, MIN, invocation, makeScheduler, target } from './fake-scheduler.js';
import { ManualClock } from '../../../src/shared/clock.js';
import { ModelfnError } from '../../../src/shared/errors.js';
import type { ColdStartRecord } from '../../../src/scheduler/scheduler.js';

const settle = () => new Promise((r) => setTimeout(r, 20));

test('adaptive keep-alive: a 30-minute job is learnt, unloaded when idle and pre-warmed before its next call', async () => {
  const clock = new ManualClock(1_000_000_000);
  const launcher = new FakeLauncher();
  const { scheduler } = makeScheduler(launcher, clock);
  const t = target('fn', { keepAlivePolicy: 'adaptive', keepAliveSec: 600 });
  // Six calls 30 minutes apart (virtual time; a call takes no virtual time): five idle times in minute 30.
  for (let i = 0; i < 6; i++) {
    if (i > 0) {
      clock.advance(30 * MIN - 1000);
      scheduler.reapIdle();
    }
    await scheduler.invoke(t, invocation());
    clock.advance(1000);
    scheduler.reapIdle();
  }
  const [status] = scheduler.keepAliveStatus('fn', t.scaling);
  assert.equal(status!.policy, 'adaptive');
  assert.equal(status!.mode, 'histogram');
  assert.equal(status!.prewarmSec, 30 * 60 * 0.9);
  assert.equal(status!.keepAliveSec, Math.round(31 * 60 * 1.1 * 1000) / 1000);
  assert.equal(status!.idleTimes.samples, 5);
  assert.ok(status!.nextPrewarmAt !== null);
  assert.equal(launcher.live.length, 0, 'unloaded as soon as the function went idle');
  // Just before the pre-warm point nothing runs; just after, one instance starts.
  clock.advance(27 * MIN - 2000);
  scheduler.reapIdle();
  await settle();
  assert.equal(launcher.live.length, 0);
  clock.advance(2000);
  scheduler.reapIdle();
  await settle();
  assert.equal(launcher.live.length, 1, 'pre-warmed');
  assert.equal(scheduler.keepAliveStatus('fn', t.scaling)[0]!.nextPrewarmAt, null);
  // The keep-alive does not stop a pre-warmed instance before its window ends...
  clock.advance(60_000);
  scheduler.reapIdle();
  assert.equal(launcher.live.length, 1);
  // ...and the call finds it warm.
  clock.advance(30 * MIN - 27 * MIN - 61_000);
  const warm = await scheduler.invoke(t, invocation());
  assert.equal(warm.initDurationMs, undefined, 'no cold start');
  assert.equal(launcher.launched.length, 7, 'six cold starts while learning, one pre-warm');
  const prewarmed = scheduler.recentColdStarts('fn')[0]!;
  assert.equal(prewarmed.trigger, 'prewarm');
  assert.equal(prewarmed.phases?.firstInvokeMs, undefined, 'a pre-warmed start has no first invocation of its own');
  await scheduler.shutdown(100);
});

test('a pre-warmed instance that nobody uses goes when its window ends; the fixed policy never pre-warms', async () => {
  const clock = new ManualClock(2_000_000_000);
  const launcher = new FakeLauncher();
  // No reaper runs while it learns, so the warm-memory budget would have seen no savings to pay
  // for the pre-warm with (scheduler-warm-budget.test.ts tests the budget): off here.
  const { scheduler } = makeScheduler(launcher, clock, { defaultKeepAlivePolicy: 'adaptive', warmMemoryBudget: false });
  const t = target('fn', { keepAliveSec: 600 });
  for (let i = 0; i < 6; i++) {
    if (i > 0) clock.advance(30 * MIN);
    await scheduler.invoke(t, invocation());
  }
  clock.advance(27 * MIN);
  scheduler.reapIdle();
  scheduler.reapIdle();
  await settle();
  assert.equal(launcher.live.length, 1, 'the platform default policy is adaptive here');
  clock.advance(7 * MIN + 7000);
  scheduler.reapIdle();
  assert.equal(launcher.live.length, 0, 'stopped after 34.1 minutes of idleness');

  const fixed = target('fn', { keepAlivePolicy: 'fixed', keepAliveSec: 600 }, '1');
  for (let i = 0; i < 6; i++) {
    if (i > 0) clock.advance(30 * MIN);
    await scheduler.invoke(fixed, invocation());
    scheduler.reapIdle();
  }
  const status = scheduler.keepAliveStatus('fn', fixed.scaling).find((s) => s.version === '1')!;
  assert.deepEqual([status.policy, status.mode, status.keepAliveSec, status.prewarmSec], ['fixed', 'fixed', 600, 0]);
  clock.advance(27 * MIN);
  scheduler.reapIdle();
  await settle();
  assert.equal(launcher.live.length, 0);
  await scheduler.shutdown(100);
});

test('every cold start is recorded with its phases, its first invocation and an INIT_PHASES log line', async () => {
  const clock = new ManualClock(3_000_000_000);
  const launcher = new FakeLauncher();
  const { scheduler, logs } = makeScheduler(launcher, clock);
  const events: ColdStartRecord[] = [];
  scheduler.on('coldstart', (r: ColdStartRecord) => events.push(r));
  const inv = invocation(true);
  const outcome = await scheduler.invoke(target('fn'), inv);
  assert.ok(outcome.initDurationMs !== undefined);
  assert.match(outcome.logs!, /REPORT RequestId: \S+.*Init Duration: [\d.]+ ms\nINIT_PHASES RequestId: \S+\tInit Duration: [\d.]+ ms\tFetch: 0\.50 ms\tProcess Start: 3\.00 ms\tRuntime Init: 1\.00 ms\tUser Init: 2\.00 ms\tFirst Invoke: [\d.]+ ms\tStem Cell: yes$/);
  assert.ok(logs.some((l) => l.kind === 'platform' && l.requestId === inv.requestId && l.message.startsWith('INIT_PHASES')));
  await scheduler.invoke(target('fn'), invocation());
  assert.equal(events.length, 1, 'the warm call is no cold start');
  const [record] = scheduler.recentColdStarts('fn');
  assert.deepEqual(record, events[0]);
  assert.equal(record!.requestId, inv.requestId);
  assert.equal(record!.trigger, 'request');
  assert.equal(record!.stemCell, true);
  assert.equal(record!.phases!.firstInvokeMs, outcome.durationMs);
  assert.deepEqual([record!.phases!.fetchMs, record!.phases!.processStartMs, record!.phases!.runtimeInitMs, record!.phases!.userInitMs], [0.5, 3, 1, 2]);
  await scheduler.shutdown(100);
});

test('provisioned concurrency counts against reserved concurrency and a dead provisioned instance is replaced at once', async () => {
  const clock = new ManualClock(4_000_000_000);
  const launcher = new FakeLauncher();
  const { scheduler } = makeScheduler(launcher, clock, { maxQueueLength: 0 });
  const t = target('fn', { reservedConcurrency: 2 }, '1');
  scheduler.applyProvisioned([{ target: t, count: 2 }]);
  await settle();
  assert.deepEqual(scheduler.provisionedStatus('fn', '1'), { allocated: 2, available: 2 });
  assert.ok(scheduler.recentColdStarts('fn').every((r) => r.trigger === 'provisioned'));
  // Both provisioned instances busy: a third call has no room under the reservation of 2.
  const running = [scheduler.invoke(t, invocation()), scheduler.invoke(t, invocation())];
  await assert.rejects(scheduler.invoke(t, invocation()), (err: unknown) => err instanceof ModelfnError && err.code === 'TOO_MANY_REQUESTS');
  const outcomes = await Promise.all(running);
  assert.ok(outcomes.every((o) => o.initDurationMs === undefined), 'provisioned instances serve warm');
  assert.equal(launcher.launched.length, 2);
  // One dies (crash or kill): it is replaced without waiting for the reaper.
  launcher.live[0]!.kill();
  await settle();
  assert.equal(launcher.launched.length, 3);
  assert.deepEqual(scheduler.provisionedStatus('fn', '1'), { allocated: 2, available: 2 });
  // Idle provisioned instances never reach their keep-alive.
  clock.advance(3600_000);
  scheduler.reapIdle();
  assert.equal(launcher.live.length, 2);
  await scheduler.shutdown(100);
});
