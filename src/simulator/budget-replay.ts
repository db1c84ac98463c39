import { WarmMemoryBudget } from '../scheduler/keepalive/index.js';
import type { WarmHolding } from '../scheduler/keepalive/index.js';
import { FunctionReplay } from './function-replay.js';
import type { FunctionOutcome, PoolModel } from './function-replay.js';
import type { BudgetResult, BudgetUnderTest, PolicyUnderTest } from './replay.js';
import type { Trace, TraceCursor } from './trace.js';

/** A min-heap of functions by their next arrival (ties: the lower index first, for a stable order). */
class ArrivalHeap {
  private readonly at: Float64Array;
  private readonly fn: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.at = new Float64Array(capacity);
    this.fn = new Int32Array(capacity);
  }

  private less(i: number, j: number): boolean {
    return this.at[i]! < this.at[j]! || (this.at[i] === this.at[j] && this.fn[i]! < this.fn[j]!);
  }

  private swap(i: number, j: number): void {
    const a = this.at[i]!;
    const f = this.fn[i]!;
    this.at[i] = this.at[j]!;
    this.fn[i] = this.fn[j]!;
    this.at[j] = a;
    this.fn[j] = f;
  }

  push(at: number, fn: number): void {
    let i = this.size++;
    this.at[i] = at;
    this.fn[i] = fn;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  get topAt(): number {
    return this.at[0]!;
  }

  get topFn(): number {
    return this.fn[0]!;
  }

  /** Replace the top's arrival (the function's next call) or remove it (Infinity), and restore the heap. */
  replaceTop(at: number): void {
    if (at === Infinity) {
      this.size--;
      if (this.size === 0) return;
      this.at[0] = this.at[this.size]!;
      this.fn[0] = this.fn[this.size]!;
    } else {
      this.at[0] = at;
    }
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.size) return;
      const r = l + 1;
      const c = r < this.size && this.less(r, l) ? r : l;
      if (!this.less(c, i)) return;
      this.swap(c, i);
      i = c;
    }
  }
}

/**
 * Replay every function of a trace in one virtual timeline under a platform-level warm-memory
 * budget (src/scheduler/keepalive/warm-memory-budget.ts), applied every tickMs as the scheduler's
 * reaper applies it: account what the functions' fixed keep-alive would have held idle (each
 * function's shadow) against what they held, then let the budget take back the least valuable idle
 * memory if what is held would outrun the credit. Without releases, each function's outcome is the
 * one replayFunction gives.
 */
export function replayWithBudget(trace: Trace, p: PolicyUnderTest, model: PoolModel, options: BudgetUnderTest): { outcomes: FunctionOutcome[]; budget: BudgetResult } {
  const tickMs = options.tickMs ?? 60_000;
  const budget = new WarmMemoryBudget(options);
  const fns = trace.functions;
  const replays = fns.map(() => new FunctionReplay(p, model));
  const cursors: TraceCursor[] = fns.map((fn) => fn.cursor());
  const heap = new ArrivalHeap(fns.length);
  cursors.forEach((c, i) => {
    if (c.next() && c.atMs <= trace.endMs) heap.push(c.atMs, i);
  });
  // Functions that have had a call: the others hold nothing.
  const started: number[] = [];
  const seen = new Uint8Array(fns.length);
  let lastTick = trace.startMs;
  let lastSpent = 0;
  let lastShadow = 0;
  const holdings: WarmHolding[] = [];

  // Account what was held and what the shadow held since the last tick; collect what may be taken back.
  const account = (now: number): { projected: number; committed: number } => {
    let spent = 0;
    let shadow = 0;
    let projected = 0;
    let committed = 0;
    holdings.length = 0;
    for (const i of started) {
      const r = replays[i]!;
      const mb = fns[i]!.memoryMb;
      r.advance(now);
      spent += mb * r.idleMsUntil(now);
      shadow += mb * r.shadow.idleMsUntil(now);
      projected += mb * r.shadow.projectedIdleMs(now, tickMs);
      committed += r.holdings(now, now + tickMs, String(i), mb, holdings);
    }
    budget.accrue(now - lastTick, shadow - lastShadow, spent - lastSpent);
    lastTick = now;
    lastShadow = shadow;
    lastSpent = spent;
    return { projected, committed };
  };

  const tick = (now: number): void => {
    const { projected, committed } = account(now);
    let spent = lastSpent;
    for (const release of budget.select(now, holdings, tickMs, projected, committed)) {
      const fn = Number(release.id.slice(0, release.id.indexOf(':')));
      const r = replays[fn]!;
      const before = r.idleMsUntil(now);
      if (release.kind === 'prewarm') r.releasePrewarm(now);
      else r.releaseIdle(now);
      // Releasing closes what was open: the idle time spent so far does not change.
      spent += fns[fn]!.memoryMb * (r.idleMsUntil(now) - before);
    }
    lastSpent = spent;
  };

  let nextTick = trace.startMs + tickMs;
  while (heap.size > 0) {
    const at = heap.topAt;
    const i = heap.topFn;
    for (; nextTick <= at; nextTick += tickMs) tick(nextTick);
    if (!seen[i]) {
      seen[i] = 1;
      started.push(i);
    }
    const c = cursors[i]!;
    replays[i]!.arrive(at, c.durationMs);
    heap.replaceTop(c.next() && c.atMs <= trace.endMs ? c.atMs : Infinity);
  }
  for (; nextTick < trace.endMs; nextTick += tickMs) tick(nextTick);
  // The rest of the trace is accounted too, so the totals are those of the whole trace.
  account(trace.endMs);
  return { outcomes: replays.map((r) => r.close(trace.endMs)), budget: budget.stats };
}
