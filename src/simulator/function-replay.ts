import { FixedKeepAliveShadow, HYBRID_DEFAULTS, KeepAliveState, instanceStopAt, prewarmWindow } from '../scheduler/keepalive/index.js';
import type { KeepAliveDecision, WarmHolding } from '../scheduler/keepalive/index.js';
import type { PolicyUnderTest } from './replay.js';
import type { TraceFunction } from './trace.js';

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

  clear(): void {
    this.head = 0;
    this.length = 0;
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
 * One function's virtual pool under a policy. A cold start takes no time here; the most recently
 * idle instance is reused first (as the scheduler's pool does). Which instances stop when, and when
 * one is pre-warmed, is decided by the scheduler's own keep-alive code (src/scheduler/keepalive):
 * KeepAliveState, instanceStopAt, prewarmWindow. Calls must be given in time order; the warm-memory
 * budget may advance it to a moment between calls and take idle memory back (release*).
 */
export class FunctionReplay {
  readonly state: KeepAliveState;
  /** What the fixed keep-alive would hold idle given the same calls (for the warm-memory budget). */
  readonly shadow: FixedKeepAliveShadow;
  readonly out: FunctionOutcome = { invocations: 0, coldStarts: 0, coldStartsAfterIdle: 0, prewarms: 0, idleMs: 0 };
  private readonly running = new MinHeap();
  private readonly idle = new Deque();
  private idleDecision: KeepAliveDecision | undefined;
  private plan: { startAt: number; stopAt: number } | undefined;

  constructor(
    private readonly p: PolicyUnderTest,
    private readonly model: PoolModel,
  ) {
    this.state = new KeepAliveState(p.params ?? HYBRID_DEFAULTS);
    this.shadow = new FixedKeepAliveShadow(p.keepAliveMs, model === 'pool');
  }

  /** Bring the pool to time t (no call arrives before t): calls end, keep-alives run out. */
  advance(t: number): void {
    this.settle(t);
    this.expire(t);
  }

  /** A call arrives at `at` (not before the last one) and runs durationMs. */
  arrive(at: number, durationMs: number): void {
    this.advance(at);
    const { out, state } = this;
    out.invocations++;
    let warm = false;
    const afterIdle = state.inFlight === 0;
    if (this.plan !== undefined && state.functionIdleSince !== undefined) {
      if (at >= this.plan.startAt) {
        out.prewarms++;
        out.idleMs += Math.min(at, this.plan.stopAt) - this.plan.startAt;
        warm = at < this.plan.stopAt;
      }
      this.plan = undefined;
    }
    state.arrive(at);
    this.shadow.arrive(at);
    // The app model: a loaded function serves overlapping calls.
    if (this.model === 'app' && !afterIdle) warm = true;
    if (!warm && this.idle.length > 0) {
      out.idleMs += at - this.idle.popBack();
      warm = true;
    }
    if (!warm) {
      out.coldStarts++;
      if (afterIdle) out.coldStartsAfterIdle++;
    }
    this.running.push(at + durationMs);
  }

  /** The end of the trace: what is still loaded and idle counts up to it. */
  close(endMs: number): FunctionOutcome {
    this.advance(endMs);
    const { out } = this;
    for (let i = 0; i < this.idle.length; i++) out.idleMs += endMs - this.idle.at(i);
    this.idle.clear();
    if (this.plan !== undefined && this.state.functionIdleSince !== undefined && this.plan.startAt < endMs) {
      out.prewarms++;
      out.idleMs += Math.min(endMs, this.plan.stopAt) - this.plan.startAt;
    }
    this.plan = undefined;
    return out;
  }

  /** Idle instance-ms spent from the start until `now` (after advance(now)), pre-warms included. */
  idleMsUntil(now: number): number {
    let open = 0;
    for (let i = 0; i < this.idle.length; i++) open += now - this.idle.at(i);
    if (this.plan !== undefined && this.state.functionIdleSince !== undefined && now > this.plan.startAt) open += Math.min(now, this.plan.stopAt) - this.plan.startAt;
    return this.out.idleMs + open;
  }

  /**
   * The idle memory the warm-memory budget may take back at `now` (after advance(now)), while the
   * function is idle: its last idle instance (the histogram's "loaded" or not) and the pre-warm of
   * this idle period if it starts before `until`. Their ids are `${id}:idle` and `${id}:prewarm`.
   * Returns what its other idle instances will cost until `until` (MB x ms): the budget cannot take
   * them, but they spend from it.
   */
  holdings(now: number, until: number, id: string, memoryMb: number, into: WarmHolding[]): number {
    const functionIdle = this.state.functionIdleSince;
    const histogram = this.state.histogram;
    const idle = this.idle;
    const plan = this.plan;
    if (plan !== undefined && functionIdle !== undefined && plan.startAt < until && plan.stopAt > now) {
      into.push({ id: `${id}:prewarm`, kind: 'prewarm', memoryMb, idleSince: functionIdle, startAt: plan.startAt, stopAt: plan.stopAt, histogram });
    }
    if (idle.length === 0) return 0;
    const decision = functionIdle !== undefined && this.idleDecision !== undefined ? this.idleDecision : this.state.decide(now, this.p.policy, this.p.keepAliveMs);
    // While calls run, or while it has other idle instances (scale-down capacity), a function's idle
    // instances follow the fixed keep-alive, as in the shadow: the budget takes only the last one.
    if (idle.length === 1 && functionIdle !== undefined) {
      const stopAt = instanceStopAt(decision, idle.at(0), functionIdle, true);
      if (stopAt > now) into.push({ id: `${id}:idle`, kind: 'idle', memoryMb, idleSince: functionIdle, startAt: idle.at(0), stopAt, histogram });
      return 0;
    }
    let committed = 0;
    for (let i = 0; i < idle.length; i++) {
      const stopAt = instanceStopAt(decision, idle.at(i), functionIdle, i === idle.length - 1);
      committed += memoryMb * Math.max(0, Math.min(until, stopAt) - now);
    }
    return committed;
  }

  /** Unload the newest idle instance at `now`. */
  releaseIdle(now: number): void {
    if (this.idle.length > 0) this.out.idleMs += now - this.idle.popBack();
  }

  /** Skip the planned pre-warm, or unload the pre-warmed instance at `now`. */
  releasePrewarm(now: number): void {
    if (this.plan === undefined) return;
    if (now <= this.plan.startAt) this.plan = undefined;
    else this.plan = { startAt: this.plan.startAt, stopAt: Math.min(this.plan.stopAt, now) };
  }

  // Stop the idle instances whose keep-alive ran out by time t.
  private expire(t: number): void {
    const { idle, state } = this;
    if (idle.length === 0) return;
    const functionIdle = state.functionIdleSince;
    const decision = functionIdle !== undefined && this.idleDecision !== undefined ? this.idleDecision : state.decide(t, this.p.policy, this.p.keepAliveMs);
    while (idle.length > 0) {
      const since = idle.front();
      const stopAt = instanceStopAt(decision, since, functionIdle, idle.length === 1);
      if (stopAt > t) return;
      this.out.idleMs += stopAt - since;
      idle.shiftFront();
    }
  }

  // Calls that ended by time t free their instances; the last one makes the function idle.
  private settle(t: number): void {
    const { running, state } = this;
    while (running.size > 0 && running.peek() <= t) {
      const end = running.pop();
      this.expire(end);
      state.finish(end);
      this.shadow.finish(end);
      if (this.model === 'pool' || state.inFlight === 0) this.idle.pushBack(end);
      if (state.inFlight === 0) {
        this.idleDecision = state.decide(end, this.p.policy, this.p.keepAliveMs);
        this.plan = prewarmWindow(this.idleDecision, end);
      }
    }
  }
}

/** Replay one function against a policy in virtual time, on its own (no warm-memory budget). */
export function replayFunction(fn: TraceFunction, p: PolicyUnderTest, endMs: number, model: PoolModel = 'pool'): FunctionOutcome {
  const r = new FunctionReplay(p, model);
  fn.forEach((at, durationMs) => {
    if (at <= endMs) r.arrive(at, durationMs);
  });
  return r.close(endMs);
}

