import { HYBRID_DEFAULTS, KeepAliveState, instanceStopAt, prewarmWindow } from '../scheduler/keepalive/index.js';
import type { HybridParams, KeepAliveDecision, KeepAlivePolicyName } from '../scheduler/keepalive/index.js';
import type { Trace, TraceFunction } from './trace.js';

/** A keep-alive policy to replay a trace against. */
export interface PolicyUnderTest {
  readonly label: string;
  readonly policy: KeepAlivePolicyName;
  /** The fixed keep-alive (the adaptive policy's fallback). */
  readonly keepAliveMs: number;
  readonly params?: HybridParams;
}

export interface PolicyResult {
  readonly label: string;
  readonly functions: number;
  readonly invocations: number;
  readonly coldStarts: number;
  /** Of those, calls that found the function idle (no call running): what keep-alive and pre-warm address. */
  readonly coldStartsAfterIdle: number;
  /** Cold starts / invocations. */
  readonly coldStartRate: number;
  /** The 75th percentile over functions of each function's cold-start rate (the paper's headline metric). */
  readonly p75FunctionColdStartRate: number;
  /** Instances started ahead of a predicted call. */
  readonly prewarms: number;
  /** Memory held by loaded but idle instances (GB x seconds). */
  readonly wastedGbSeconds: number;
  /** The same figures per kind of function (timer, poisson, bursty, csv, ...). */
  readonly byKind: Readonly<Record<string, KindResult>>;
}

export interface KindResult {
  functions: number;
  invocations: number;
  coldStarts: number;
  wastedGbSeconds: number;
}

/** A min-heap of numbers (the end times of running calls). */
class MinHeap {
  private a = new Float64Array(16);
  size = 0;

  push(x: number): void {
    if (this.size === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.a[parent]! <= x) break;
      this.a[i] = this.a[parent]!;
      i = parent;
    }
    this.a[i] = x;
  }

  peek(): number {
    return this.a[0]!;
  }

  pop(): number {
    const top = this.a[0]!;
    const last = this.a[--this.size]!;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.size) break;
      const r = l + 1;
      const c = r < this.size && this.a[r]! < this.a[l]! ? r : l;
      if (this.a[c]! >= last) break;
      this.a[i] = this.a[c]!;
      i = c;
    }
    this.a[i] = last;
    return top;
  }
}

/** A double-ended queue of numbers (idle instances by the time they went idle, oldest first). */
class Deque {
  private a = new Float64Array(16);
  private head = 0;
  length = 0;

  pushBack(x: number): void {
    if (this.length === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      for (let i = 0; i < this.length; i++) b[i] = this.a[(this.head + i) % this.a.length]!;
      this.a = b;
      this.head = 0;
    }
    this.a[(this.head + this.length++) % this.a.length] = x;
  }

  popBack(): number {
    return this.a[(this.head + --this.length) % this.a.length]!;
  }

  front(): number {
    return this.a[this.head]!;
  }

  shiftFront(): number {
    const x = this.a[this.head]!;
    this.head = (this.head + 1) % this.a.length;
    this.length--;
    return x;
  }

  at(i: number): number {
    return this.a[(this.head + i) % this.a.length]!;
  }
}

export interface FunctionOutcome {
  invocations: number;
  coldStarts: number;
  /** Cold starts of calls that found no call of the function running. */
  coldStartsAfterIdle: number;
  prewarms: number;
  /** Idle instance time in ms. */
  idleMs: number;
}

/**
 * How instances serve calls in the replay.
 * - 'pool': modelfn's pools: an instance serves one call at a time; a call that finds no idle (or
 *   pre-warmed) instance cold-starts a new one, also while other calls run (a scale-out).
 * - 'app': the paper's model: a function is loaded or not; a loaded function serves overlapping
 *   calls, and a call is a cold start only when the function is not loaded.
 */
export type PoolModel = 'pool' | 'app';

/**
 * Replay one function against a policy in virtual time. A cold start takes no time here; the most
 * recently idle instance is reused first (as the scheduler's pool does). Which instances stop when,
 * and when one is pre-warmed, is decided by the scheduler's own keep-alive code
 * (src/scheduler/keepalive): KeepAliveState, instanceStopAt, prewarmWindow.
 */
export function replayFunction(fn: TraceFunction, p: PolicyUnderTest, endMs: number, model: PoolModel = 'pool'): FunctionOutcome {
  const state = new KeepAliveState(p.params ?? HYBRID_DEFAULTS);
  const running = new MinHeap();
  const idle = new Deque();
  const out: FunctionOutcome = { invocations: 0, coldStarts: 0, coldStartsAfterIdle: 0, prewarms: 0, idleMs: 0 };
  let idleDecision: KeepAliveDecision | undefined;
  let plan: { startAt: number; stopAt: number } | undefined;

  // Stop the idle instances whose keep-alive ran out by time t.
  const expire = (t: number): void => {
    if (idle.length === 0) return;
    const functionIdle = state.functionIdleSince;
    const decision = functionIdle !== undefined && idleDecision !== undefined ? idleDecision : state.decide(t, p.policy, p.keepAliveMs);
    while (idle.length > 0) {
      const since = idle.front();
      const stopAt = instanceStopAt(decision, since, functionIdle, idle.length === 1);
      if (stopAt > t) return;
      out.idleMs += stopAt - since;
      idle.shiftFront();
    }
  };
  // Calls that ended by time t free their instances; the last one makes the function idle.
  const settle = (t: number): void => {
    while (running.size > 0 && running.peek() <= t) {
      const end = running.pop();
      expire(end);
      state.finish(end);
      if (model === 'pool' || state.inFlight === 0) idle.pushBack(end);
      if (state.inFlight === 0) {
        idleDecision = state.decide(end, p.policy, p.keepAliveMs);
        plan = prewarmWindow(idleDecision, end);
      }
    }
  };

  fn.forEach((at, durationMs) => {
    if (at > endMs) return;
    settle(at);
    expire(at);
    out.invocations++;
    let warm = false;
    const afterIdle = state.inFlight === 0;
    if (plan !== undefined && state.functionIdleSince !== undefined) {
      if (at >= plan.startAt) {
        out.prewarms++;
        out.idleMs += Math.min(at, plan.stopAt) - plan.startAt;
        warm = at < plan.stopAt;
      }
      plan = undefined;
    }
    state.arrive(at);
    // The app model: a loaded function serves overlapping calls.
    if (model === 'app' && !afterIdle) warm = true;
    if (!warm && idle.length > 0) {
      out.idleMs += at - idle.popBack();
      warm = true;
    }
    if (!warm) {
      out.coldStarts++;
      if (afterIdle) out.coldStartsAfterIdle++;
    }
    running.push(at + durationMs);
  });

  // The end of the trace: what is still loaded and idle counts up to it.
  settle(endMs);
  expire(endMs);
  for (let i = 0; i < idle.length; i++) out.idleMs += endMs - idle.at(i);
  if (plan !== undefined && state.functionIdleSince !== undefined && plan.startAt < endMs) {
    out.prewarms++;
    out.idleMs += Math.min(endMs, plan.stopAt) - plan.startAt;
  }
  return out;
}

/** Replay every function of a trace against one policy. */
export function replay(trace: Trace, p: PolicyUnderTest, model: PoolModel = 'pool'): PolicyResult {
  let invocations = 0;
  let coldStarts = 0;
  let afterIdle = 0;
  let prewarms = 0;
  let wastedGbSeconds = 0;
  const rates: number[] = [];
  const byKind: Record<string, KindResult> = {};
  for (const fn of trace.functions) {
    const o = replayFunction(fn, p, trace.endMs, model);
    if (o.invocations === 0) continue;
    const kind = (byKind[fn.kind] ??= { functions: 0, invocations: 0, coldStarts: 0, wastedGbSeconds: 0 });
    kind.functions++;
    kind.invocations += o.invocations;
    kind.coldStarts += o.coldStarts;
    kind.wastedGbSeconds += (o.idleMs / 1000) * (fn.memoryMb / 1024);
    invocations += o.invocations;
    coldStarts += o.coldStarts;
    afterIdle += o.coldStartsAfterIdle;
    prewarms += o.prewarms;
    wastedGbSeconds += (o.idleMs / 1000) * (fn.memoryMb / 1024);
    rates.push(o.coldStarts / o.invocations);
  }
  rates.sort((a, b) => a - b);
  return {
    label: p.label,
    functions: rates.length,
    invocations,
    coldStarts,
    coldStartsAfterIdle: afterIdle,
    coldStartRate: invocations === 0 ? 0 : coldStarts / invocations,
    p75FunctionColdStartRate: rates.length === 0 ? 0 : rates[Math.min(rates.length - 1, Math.ceil(0.75 * rates.length) - 1)]!,
    prewarms,
    wastedGbSeconds,
    byKind,
  };
}

/** The three policies the issue compares: fixed 10 min (AWS), fixed 20 min (Azure), adaptive (falling back to 10 min). */
export function standardPolicies(): PolicyUnderTest[] {
  return [
    { label: 'fixed 10 min', policy: 'fixed', keepAliveMs: 600_000 },
    { label: 'fixed 20 min', policy: 'fixed', keepAliveMs: 1_200_000 },
    { label: 'adaptive (hybrid histogram)', policy: 'adaptive', keepAliveMs: 600_000 },
  ];
}
