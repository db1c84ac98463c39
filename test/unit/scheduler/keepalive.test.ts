import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/shared/clock.js';
import { HYBRID_DEFAULTS, IdleTimeHistogram, KeepAliveState, decideKeepAlive, instanceStopAt, prewarmWindow } from '../../../src/scheduler/keepalive/index.js';

const MIN = 60_000;
const TEN_MIN = 10 * MIN;

/** Drive a state with calls of `durationMs` arriving every `periodMs` on a manual clock. */
function periodic(state: KeepAliveState, clock: ManualClock, periodMs: number, calls: number, durationMs = 1000): void {
  for (let i = 0; i < calls; i++) {
    state.arrive(clock.now());
    clock.advance(durationMs);
    state.finish(clock.now());
    clock.advance(periodMs - durationMs);
  }
}

test('a 30-minute timer: unload when idle, pre-warm at the head bin minus 10 %, keep until the tail bin plus 10 %', () => {
  const clock = new ManualClock(0);
  const state = new KeepAliveState();
  periodic(state, clock, 30 * MIN, 12);
  // Idle times are 29 min 59 s: all in bin 29.
  const d = state.decide(clock.now(), 'adaptive', TEN_MIN);
  assert.equal(d.mode, 'histogram');
  assert.equal(d.samples, 11);
  assert.equal(d.prewarmMs, 29 * MIN * 0.9);
  assert.equal(d.keepAliveMs, 30 * MIN * 1.1);
  assert.match(d.reason, /pre-warm after 26\.1 min, keep until 33 min/);
  // Applied: the instance goes at once, one comes back 26.1 min after the last call ended.
  const idleSince = state.functionIdleSince!;
  assert.equal(idleSince, clock.now() - 30 * MIN + 1000);
  assert.equal(instanceStopAt(d, idleSince, idleSince, true), idleSince);
  assert.deepEqual(prewarmWindow(d, idleSince), { startAt: idleSince + 29 * MIN * 0.9, stopAt: idleSince + 33 * MIN });
});

test('a function called every 20 s keeps its instances warm for the tail (1.1 min), with no pre-warm', () => {
  const clock = new ManualClock(1_000_000);
  const state = new KeepAliveState();
  periodic(state, clock, 20_000, 50, 200);
  const d = state.decide(clock.now(), 'adaptive', TEN_MIN);
  assert.equal(d.mode, 'histogram');
  assert.equal(d.prewarmMs, 0);
  assert.equal(d.keepAliveMs, MIN * 1.1);
  assert.equal(prewarmWindow(d, clock.now()), undefined);
  assert.equal(instanceStopAt(d, 6000, 6000, true), 6000 + MIN * 1.1, 'the newest instance: the tail after the function went idle');
  assert.equal(instanceStopAt(d, 5000, 6000, false), 6000 + MIN * 1.1, 'an older one: that, or its fixed keep-alive if sooner');
  assert.equal(instanceStopAt(d, 5000, undefined, false), 5000 + TEN_MIN, 'while calls run: the fixed keep-alive');
});

test('head and tail percentiles of a known distribution: 5 idle times in minute 2, 95 in minute 10', () => {
  const h = new IdleTimeHistogram(MIN, 240);
  for (let i = 0; i < 5; i++) h.record(2 * MIN + 30_000);
  for (let i = 0; i < 95; i++) h.record(10 * MIN + 1);
  assert.equal(h.percentileBin(0.05), 2);
  assert.equal(h.percentileBin(0.99), 10);
  const d = decideKeepAlive(h, TEN_MIN);
  assert.equal(d.mode, 'histogram');
  assert.ok(Math.abs(d.prewarmMs - 2 * MIN * 0.9) < 1e-6);
  assert.ok(Math.abs(d.keepAliveMs - 11 * MIN * 1.1) < 1e-6);
  // One more early idle time moves the head to minute 0: no pre-warm, keep alive from the end of the call.
  for (let i = 0; i < 6; i++) h.record(10_000);
  const again = decideKeepAlive(h, TEN_MIN);
  assert.equal(again.prewarmMs, 0);
  assert.ok(Math.abs(again.keepAliveMs - 11 * MIN * 1.1) < 1e-6);
});

test('idle times spread evenly over the range are not representative: the fixed keep-alive, with the reason', () => {
  const h = new IdleTimeHistogram(MIN, 240);
  for (let bin = 0; bin < 240; bin++) h.record(bin * MIN + 1000);
  assert.ok(h.cv() < 0.01, `cv ${h.cv()}`);
  const d = decideKeepAlive(h, TEN_MIN);
  assert.equal(d.mode, 'fixed');
  assert.equal(d.policy, 'adaptive');
  assert.equal(d.prewarmMs, 0);
  assert.equal(d.keepAliveMs, TEN_MIN);
  assert.match(d.reason, /no pattern \(coefficient of variation 0 < 2\)/);
});

test('too few samples, or idle times mostly beyond 4 hours, fall back to the fixed keep-alive', () => {
  const clock = new ManualClock(0);
  const state = new KeepAliveState();
  assert.match(state.decide(0, 'adaptive', TEN_MIN).reason, /0 idle times recorded; the histogram needs 5/);
  periodic(state, clock, 30 * MIN, 3);
  const early = state.decide(clock.now(), 'adaptive', TEN_MIN);
  assert.equal(early.mode, 'fixed');
  assert.equal(early.keepAliveMs, TEN_MIN);
  const daily = new KeepAliveState();
  const c2 = new ManualClock(0);
  periodic(daily, c2, 24 * 60 * MIN, 8);
  const d = daily.decide(c2.now(), 'adaptive', 20 * MIN);
  assert.equal(d.mode, 'fixed');
  assert.equal(d.keepAliveMs, 20 * MIN);
  assert.match(d.reason, /100 % of idle times are longer than the histogram's 240 min/);
});

test('overlapping calls record no idle time; the fixed policy ignores the histogram', () => {
  const state = new KeepAliveState();
  state.arrive(0);
  state.arrive(10);
  state.finish(20);
  assert.equal(state.functionIdleSince, undefined, 'a call still runs');
  state.finish(30);
  assert.equal(state.functionIdleSince, 30);
  state.arrive(90_030);
  assert.equal(state.histogram.samples, 1);
  assert.equal(state.histogram.counts[1], 1, 'the 90 s idle time is in minute 1');
  const fixed = state.decide(100_000, 'fixed', 42_000);
  assert.deepEqual([fixed.mode, fixed.policy, fixed.keepAliveMs, fixed.prewarmMs], ['fixed', 'fixed', 42_000, 0]);
});

test('a decision is recomputed at most once per minute of (injected) time while samples come in', () => {
  const clock = new ManualClock(0);
  const state = new KeepAliveState();
  periodic(state, clock, 30 * MIN, 6);
  const first = state.decide(clock.now(), 'adaptive', TEN_MIN);
  assert.equal(first.samples, 5);
  // Many short idle times within the same minute: the cached decision stands...
  for (let i = 0; i < 200; i++) {
    state.arrive(clock.now());
    state.finish(clock.now());
    clock.advance(100);
  }
  assert.equal(state.decide(clock.now(), 'adaptive', TEN_MIN), first);
  // ...until a minute has passed: then the new head (minute 0) drops the pre-warm.
  clock.advance(MIN);
  const later = state.decide(clock.now(), 'adaptive', TEN_MIN);
  // The first of those idle times is a sample (29 min 59 s); the 199 that follow it within a
  // minute are short calls, which count for the head only.
  assert.equal(later.samples, 6);
  assert.equal(state.histogram.shortCalls, 199);
  assert.equal(later.prewarmMs, 0);
  assert.equal(HYBRID_DEFAULTS.binMs, MIN);
});

test('idle times are sampled once per bin: short idle times within a minute of the last sample count as calls, not samples', () => {
  const h = new IdleTimeHistogram(MIN, 240);
  h.record(30 * MIN, 0);
  h.record(2000, 10_000);
  h.record(2000, 59_999);
  assert.deepEqual([h.samples, h.shortCalls], [1, 2]);
  h.record(2000, 60_000);
  assert.deepEqual([h.samples, h.shortCalls, h.counts[0]], [2, 2, 1], 'a minute after the last sample, a short idle time is a sample again');
  h.record(5 * MIN, 61_000);
  assert.deepEqual([h.samples, h.shortCalls], [3, 2], 'an idle time of a bin or more is always a sample');
  h.record(1000);
  assert.deepEqual([h.samples, h.shortCalls], [4, 2], 'without an arrival time: always a sample');
  // Percentiles over samples, or over calls (short calls in the first bin).
  assert.equal(h.percentileBin(0.5), 0);
  assert.equal(h.percentileBin(0.99), 30);
  assert.equal(h.percentileBin(0.6), 5);
  assert.equal(h.percentileBin(0.6, true), 0);
});

test('a bursty caller: the tail is set by the gaps between bursts, not by the calls inside them; the head keeps it loaded for the bursts', () => {
  const clock = new ManualClock(0);
  const state = new KeepAliveState();
  // 12 bursts of 10 calls, 2 s apart (100 ms each), one burst every 30 minutes.
  for (let b = 0; b < 12; b++) {
    for (let i = 0; i < 10; i++) {
      state.arrive(clock.now());
      clock.advance(100);
      state.finish(clock.now());
      clock.advance(1900);
    }
    clock.advance(30 * MIN - 10 * 2000);
  }
  // Per call, 108 of 119 idle times are 1.9 s, and the 99th percentile of calls would be a low
  // percentile of the gaps (here all alike). Sampled once per minute: the 11 gaps (minute 29) and
  // the first short idle time of all; the other 107 are short calls.
  assert.equal(state.histogram.samples, 12);
  assert.equal(state.histogram.shortCalls, 107);
  const d = state.decide(clock.now(), 'adaptive', TEN_MIN);
  assert.equal(d.mode, 'histogram');
  assert.equal(d.prewarmMs, 0, 'calls 2 s apart: never unload at once');
  assert.ok(Math.abs(d.keepAliveMs - 30 * MIN * 1.1) < 1e-6, `${d.keepAliveMs}`);
});

test('bursts at irregular gaps show no pattern: the fixed keep-alive (every call of a burst in the first bin looked like one)', () => {
  const clock = new ManualClock(0);
  const state = new KeepAliveState();
  const gapsMin = [7, 95, 33, 150, 12, 61, 210, 25, 80, 45, 130, 18, 170, 55, 100, 38];
  for (const gap of gapsMin) {
    for (let i = 0; i < 10; i++) {
      state.arrive(clock.now());
      clock.advance(100);
      state.finish(clock.now());
      clock.advance(1900);
    }
    clock.advance(gap * MIN);
  }
  // Counting every call, 144 of the 159 idle times were in minute 0: a coefficient of variation of
  // 14, a histogram 'with a pattern', and a 99th percentile in minute 170 (keep alive 188 min).
  // Sampled per minute: the gaps between bursts, spread over the range.
  assert.equal(state.histogram.samples, 16);
  const d = state.decide(clock.now(), 'adaptive', TEN_MIN);
  assert.equal(d.mode, 'fixed');
  assert.equal(d.keepAliveMs, TEN_MIN);
  assert.match(d.reason, /no pattern|by chance/);
});
