import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FixedKeepAliveShadow, IdleTimeHistogram, WarmMemoryBudget, callProbability, holdingValue } from '../../../src/scheduler/keepalive/index.js';
import type { WarmHolding } from '../../../src/scheduler/keepalive/index.js';

const MIN = 60_000;

/** A histogram of `n` idle times of `idleMs` each (recorded as samples, whatever came before). */
function histogramOf(...groups: Array<[idleMs: number, n: number]>): IdleTimeHistogram {
  const h = new IdleTimeHistogram(MIN, 240);
  for (const [idleMs, n] of groups) for (let i = 0; i < n; i++) h.record(idleMs);
  return h;
}

function idle(id: string, memoryMb: number, histogram: IdleTimeHistogram, idleSince: number, stopAt: number): WarmHolding {
  return { id, kind: 'idle', memoryMb, idleSince, startAt: idleSince, stopAt, histogram };
}

test('survival counts: samples spread evenly within a bin, out-of-range ones always count', () => {
  const h = histogramOf([5.5 * MIN, 10], [300 * MIN, 2]);
  assert.equal(h.atLeast(0), 12);
  assert.equal(h.atLeast(5 * MIN), 12);
  assert.equal(h.atLeast(5.5 * MIN), 7);
  assert.equal(h.atLeast(6 * MIN), 2);
  assert.equal(h.atLeast(500 * MIN), 2);
  h.record(MIN * 0.5);
  assert.equal(h.atLeast(0), 13, 'a new sample is counted (the cached sums are rebuilt)');
});

test('call probability: given idle so far, the share of idle times that end within the window (one pseudo-observation of never)', () => {
  const h = histogramOf([2.5 * MIN, 9], [30.5 * MIN, 10]);
  // Idle for 1 min: 19 idle times are at least that long; 9 end before 5 min.
  assert.equal(callProbability(h, MIN, 5 * MIN), 9 / 20);
  // Idle for 10 min: only the 30-minute ones are left; none end before 20 min, all before 40.
  assert.equal(callProbability(h, 10 * MIN, 20 * MIN), 0);
  assert.equal(callProbability(h, 10 * MIN, 40 * MIN), 10 / 11);
  assert.equal(callProbability(h, 40 * MIN, 40 * MIN), 0);
  assert.equal(callProbability(new IdleTimeHistogram(MIN, 240), 0, 10 * MIN), 0, 'no history: no expected call');
});

test('value: the most expected calls per GB-s over the moments it could be kept until; a larger instance is worth less', () => {
  const h = histogramOf([2.5 * MIN, 19]);
  const now = 60 * 60_000;
  const base = holdingValue(idle('a', 1024, h, now, now + 10 * MIN), now);
  // Best kept until 3 min: the call comes in minute 2 with probability 19 / 20 (one pseudo-observation
  // of "never"); the expected idle time until then is 2 min + the mean survival over minute 2 (1 to 1/20).
  const expected = 19 / 20 / ((2 * MIN + ((1 + 1 / 20) / 2) * MIN) / 1000);
  assert.ok(Math.abs(base - expected) < 1e-12, `${base} vs ${expected}`);
  assert.ok(Math.abs(holdingValue(idle('b', 2048, h, now, now + 10 * MIN), now) - base / 2) < 1e-12);
  // A longer keep-alive does not dilute it (the best moment to stop is the same)...
  assert.ok(Math.abs(holdingValue(idle('c', 1024, h, now, now + 200 * MIN), now) - base) < 1e-12);
  // ...one that ends before the calls come is worth nothing, and so is one past its calls.
  assert.equal(holdingValue(idle('d', 1024, h, now, now + MIN), now), 0);
  assert.equal(holdingValue(idle('e', 1024, h, now - 5 * MIN, now + 5 * MIN), now), 0);
  // A long thin tail does not hide calls that come soon.
  const tail = histogramOf([2.5 * MIN, 19], [150 * MIN, 1]);
  assert.ok(holdingValue(idle('f', 1024, tail, now, now + 170 * MIN), now) > 0.9 * base);
});

test('the budget keeps everything while it fits, then releases the least valuable first', () => {
  const budget = new WarmMemoryBudget();
  const now = 100 * MIN;
  const likely = histogramOf([2.5 * MIN, 50]); // called again within 3 minutes, always
  const unlikely = histogramOf([2.5 * MIN, 5], [200 * MIN, 45]); // mostly idle for hours
  const holdings = [idle('likely', 512, likely, now - MIN, now + 9 * MIN), idle('unlikely', 512, unlikely, now - MIN, now + 60 * MIN)];
  // The shadow holds 1 GB for the next minute: both 512 MB fit.
  assert.deepEqual(budget.select(now, holdings, MIN, 1024 * MIN), []);
  // It holds 512 MB: one must go, the one unlikely to be called.
  const released = budget.select(now, holdings, MIN, 512 * MIN);
  assert.deepEqual(released.map((r) => r.id), ['unlikely']);
  assert.match(released[0]!.reason, /^warm-memory budget: unloaded early \(.* expected calls per GB-s, the least of 2 idle holdings; idle memory is over what the fixed keep-alive would hold\)$/);
  assert.equal(budget.stats.releasedIdle, 1);
});

test('idle memory the budget cannot take (scale-down instances) spends from the room too', () => {
  const now = 100 * MIN;
  const h = histogramOf([2.5 * MIN, 50]);
  const holdings = [idle('last', 512, h, now - MIN, now + 9 * MIN)];
  assert.deepEqual(new WarmMemoryBudget().select(now, holdings, MIN, 1024 * MIN, 512 * MIN), []);
  assert.deepEqual(new WarmMemoryBudget().select(now, holdings, MIN, 1024 * MIN, 1024 * MIN).map((r) => r.id), ['last']);
});

test('the credit: savings accrued earlier pay for holding more than the shadow later, and only that much', () => {
  const budget = new WarmMemoryBudget();
  const now = 100 * MIN;
  const h = histogramOf([2.5 * MIN, 50]);
  const holdings = [idle('a', 1024, h, now, now + 10 * MIN)];
  // The shadow holds nothing in the next minute: without credit the instance goes.
  assert.equal(budget.select(now, holdings, MIN, 0).length, 1);
  // A timer saved 1 GB x 2 min earlier (shadow 2 GB-min, spent nothing): the next minute is paid for.
  budget.accrue(2 * MIN, 1024 * 2 * MIN, 0);
  assert.equal(budget.creditMbMs, 1024 * 2 * MIN);
  assert.deepEqual(budget.select(now, holdings, MIN, 0), []);
  // Spending it brings the budget back to the shadow.
  budget.accrue(2 * MIN, 0, 1024 * 2 * MIN);
  assert.equal(budget.creditMbMs, 0);
  assert.equal(budget.select(now, holdings, MIN, 0).length, 1);
  assert.deepEqual(budget.stats, { allowanceGbS: 120, spentGbS: 120, releasedIdle: 2, skippedPrewarms: 0 });
});

test('the clearing price: once the budget had to give up a holding, ones worth less go even while the credit pays; the price halves each hour it does not bind', () => {
  const budget = new WarmMemoryBudget();
  const now = 100 * MIN;
  const likely = histogramOf([2.5 * MIN, 50]);
  const unlikely = histogramOf([2.5 * MIN, 5], [200 * MIN, 45]);
  const worse = histogramOf([2.5 * MIN, 2], [200 * MIN, 48]);
  const a = idle('likely', 512, likely, now - MIN, now + 9 * MIN);
  const b = idle('unlikely', 512, unlikely, now - MIN, now + 60 * MIN);
  const released = budget.select(now, [a, b], MIN, 512 * MIN);
  assert.deepEqual(released.map((r) => r.id), ['unlikely']);
  budget.accrue(MIN, 10 * 1024 * MIN, 0);
  // Plenty of credit now, but a holding worth less than 'unlikely' was is not worth it.
  const c = idle('worse', 512, worse, now - MIN, now + 60 * MIN);
  const priced = budget.select(now, [a, c], MIN, 0);
  assert.deepEqual(priced.map((r) => r.id), ['worse']);
  assert.match(priced[0]!.reason, /less than the .* the budget last had to give up/);
  assert.deepEqual(budget.select(now, [a, b], MIN, 0), [], 'worth as much as the price: kept');
  // Two hours later the price is a quarter: 'worse' is kept too.
  assert.ok(holdingValue(c, now) > released[0]!.value / 4);
  assert.deepEqual(budget.select(now + 120 * MIN, [idle('worse', 512, worse, now + 119 * MIN, now + 180 * MIN)], MIN, 0), []);
});

test('a pre-warm is skipped when it is the least valuable; a cap limits idle memory at any moment and carries no credit', () => {
  const budget = new WarmMemoryBudget({ capMb: 1024 });
  const now = 100 * MIN;
  const timer = histogramOf([30.5 * MIN, 50]);
  const random = histogramOf([5 * MIN, 10], [100 * MIN, 10], [300 * MIN, 30]);
  const prewarm: WarmHolding = { id: 'timer', kind: 'prewarm', memoryMb: 1024, idleSince: now - 28 * MIN, startAt: now + 30_000, stopAt: now + 4 * MIN, histogram: timer };
  const tail = idle('random', 1024, random, now - 20 * MIN, now + 200 * MIN);
  // The pre-warm (almost sure to serve a call in 3.5 min) stays; the long tail goes.
  assert.deepEqual(budget.select(now, [prewarm, tail], MIN, 0).map((r) => r.id), ['random']);
  budget.accrue(10 * MIN, 0, 0);
  assert.equal(budget.creditMbMs, 0, 'a cap carries no credit');
  // Under a 256 MB cap even the pre-warm goes.
  const small = new WarmMemoryBudget({ capMb: 256 });
  const released = small.select(now, [prewarm], MIN, 0);
  assert.equal(released.length, 1);
  assert.match(released[0]!.reason, /pre-warm skipped .*over the 256 MB cap/);
  assert.equal(small.stats.skippedPrewarms, 1);
});

test('the fixed keep-alive shadow: per call (pools) and per function (the paper), exact idle ms and the projection', () => {
  const pool = new FixedKeepAliveShadow(10 * MIN, true);
  // Two overlapping calls: two instances go idle at 1 and 2 min; a call at 5 min takes the newest.
  pool.arrive(0);
  pool.arrive(0);
  pool.finish(MIN);
  pool.finish(2 * MIN);
  assert.equal(pool.idleCount, 2);
  pool.arrive(5 * MIN);
  assert.equal(pool.idleMsUntil(5 * MIN), 4 * MIN + 3 * MIN);
  pool.finish(6 * MIN);
  // At 11 min the one idle since 1 min has expired (10 min kept); the other is still idle since 6 min.
  assert.equal(pool.idleMsUntil(11 * MIN), 3 * MIN + 10 * MIN + 5 * MIN);
  assert.equal(pool.projectedIdleMs(11 * MIN, MIN), MIN);
  assert.equal(pool.projectedIdleMs(15 * MIN, 5 * MIN), MIN);
  assert.equal(pool.idleMsUntil(60 * MIN), 3 * MIN + 10 * MIN + 10 * MIN);

  const app = new FixedKeepAliveShadow(10 * MIN, false);
  app.arrive(0);
  app.arrive(0);
  app.finish(MIN);
  assert.equal(app.idleCount, 0, 'a loaded function is idle only when no call runs');
  app.finish(2 * MIN);
  app.arrive(5 * MIN);
  app.finish(6 * MIN);
  assert.equal(app.idleMsUntil(60 * MIN), 3 * MIN + 10 * MIN);
});
