import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeLauncher, MIN, invocation, makeScheduler, target } from './fake-scheduler.js';
import { ManualClock } from '../../../src/shared/clock.js';
import type { InvocationTarget } from '../../../src/scheduler/invocation.js';
import type { Scheduler } from '../../../src/scheduler/scheduler.js';
import { loadConfig } from '../../../src/server/config.js';

/** Advance the clock by `ms` in reaper ticks of one minute (the scheduler's reaper, in virtual time). */
function idleFor(scheduler: Scheduler, clock: ManualClock, ms: number): void {
  for (let left = ms; left > 0; left -= MIN) {
    clock.advance(Math.min(MIN, left));
    scheduler.reapIdle();
  }
}

/** Bursts of three calls 10 s apart every 25 minutes: idle times all in minute 25, the head in the first bin (the burst's calls). */
async function learnLongTail(scheduler: Scheduler, clock: ManualClock, t: InvocationTarget, bursts: number): Promise<void> {
  for (let b = 0; b < bursts; b++) {
    for (let c = 0; c < 3; c++) {
      await scheduler.invoke(t, invocation());
      idleFor(scheduler, clock, 10_000);
    }
    idleFor(scheduler, clock, 25 * MIN - 30_000);
  }
  await scheduler.invoke(t, invocation());
  scheduler.reapIdle();
}

test('the warm-memory budget: an adaptive tail longer than the fixed keep-alive is unloaded once the shadow has stopped, with the reason', async () => {
  const run = async (budgetOn: boolean) => {
    const clock = new ManualClock(3_000_000_000);
    const launcher = new FakeLauncher();
    const { scheduler } = makeScheduler(launcher, clock, { reapIntervalMs: MIN, ...(budgetOn ? {} : { warmMemoryBudget: false }) });
    const t = target('tail', { keepAlivePolicy: 'adaptive', keepAliveSec: 600 });
    await learnLongTail(scheduler, clock, t, 8);
    const [learnt] = scheduler.keepAliveStatus('tail', t.scaling);
    assert.equal(learnt!.mode, 'histogram');
    assert.equal(learnt!.prewarmSec, 0);
    assert.equal(learnt!.keepAliveSec, 1650, 'the tail: minute 24 plus 10 %');
    idleFor(scheduler, clock, 12 * MIN);
    const live = launcher.live.length;
    const status = scheduler.keepAliveStatus('tail', t.scaling)[0]!;
    const stats = scheduler.warmBudgetStats();
    await scheduler.shutdown(100);
    return { live, status, stats };
  };
  const off = await run(false);
  assert.equal(off.live, 1, 'without the budget the histogram keeps it for 27.5 minutes');
  assert.equal(off.stats, undefined);
  const on = await run(true);
  assert.equal(on.live, 0, 'the fixed keep-alive would have stopped it at 10 minutes and there is no credit left');
  assert.match(on.status.reason, /keep alive 27\.5 min; warm-memory budget: unloaded early/);
  assert.ok(on.stats!.releasedIdle >= 1);
  // What was held idle stays within what the fixed keep-alive would have held (one reaper tick of slack).
  assert.ok(on.stats!.spentGbS <= on.stats!.allowanceGbS + (128 / 1024) * 60, `${on.stats!.spentGbS} GB-s spent, ${on.stats!.allowanceGbS} allowed`);
});

test('the warm-memory budget under an absolute cap: the idle instance least likely to be called goes first; fixed functions are not touched', async () => {
  const clock = new ManualClock(4_000_000_000);
  const launcher = new FakeLauncher();
  const { scheduler } = makeScheduler(launcher, clock, { reapIntervalMs: MIN, warmMemoryBudget: { capMb: 128 } });
  const often = target('often', { keepAlivePolicy: 'adaptive', keepAliveSec: 600 });
  const once = target('once', { keepAlivePolicy: 'adaptive', keepAliveSec: 600 });
  const fixed = target('fixed', { keepAlivePolicy: 'fixed', keepAliveSec: 600 });
  // 'often' is called every 20 s (its histogram keeps it 1.1 minutes and says a call is near); 'once' has no history.
  for (let i = 0; i < 60; i++) {
    await scheduler.invoke(often, invocation());
    clock.advance(20_000);
    scheduler.reapIdle();
  }
  await scheduler.invoke(once, invocation());
  await scheduler.invoke(fixed, invocation());
  await scheduler.invoke(often, invocation());
  assert.match(scheduler.keepAliveStatus('often', often.scaling)[0]!.reason, /keep alive 1\.1 min$/);
  clock.advance(1000);
  scheduler.reapIdle();
  const liveNames = () => launcher.live.map((i) => i.id);
  assert.equal(launcher.live.length, 2, `${liveNames().join(', ')}: 256 MB of adaptive idle memory under a 128 MB cap`);
  assert.match(scheduler.keepAliveStatus('once', once.scaling)[0]!.reason, /warm-memory budget: unloaded early .*over the 128 MB cap/);
  assert.doesNotMatch(scheduler.keepAliveStatus('often', often.scaling)[0]!.reason, /warm-memory budget/);
  assert.equal(scheduler.warmBudgetStats()!.releasedIdle, 1);
  await scheduler.shutdown(100);
});

test('platform settings: the budget is on by default, MODELFN_WARM_MEMORY_BUDGET=off turns it off, MODELFN_WARM_MEMORY_CAP_MB sets a cap', () => {
  assert.deepEqual([loadConfig({}, {}).warmMemoryBudget, loadConfig({}, {}).warmMemoryCapMb], [true, 0]);
  const c = loadConfig({ MODELFN_WARM_MEMORY_BUDGET: 'off', MODELFN_WARM_MEMORY_CAP_MB: '2048' }, {});
  assert.deepEqual([c.warmMemoryBudget, c.warmMemoryCapMb], [false, 2048]);
  assert.throws(() => loadConfig({ MODELFN_WARM_MEMORY_CAP_MB: '-1' }, {}));
});
