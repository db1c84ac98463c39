import { WarmMemoryBudget, instanceStopAt } from './keepalive/index.js';
import type { KeepAliveTick, PoolKeepAlive, WarmBudgetOptions, WarmHolding } from './keepalive/index.js';
import type { Pool } from './pool.js';

/** A function version under the budget at one reaper tick. */
export interface BudgetedVersion {
  readonly key: string;
  readonly keepAlive: PoolKeepAlive;
  /** Its pool, when it has one (a version scaled to zero has none, but its shadow may still hold memory). */
  readonly pool: Pool | undefined;
  readonly memoryMb: number;
  /** This tick's keep-alive (undefined without a pool: nothing to take back). */
  readonly tick: KeepAliveTick | undefined;
}

/**
 * Applies the warm-memory budget (keepalive/warm-memory-budget.ts) to the scheduler's pools at each
 * reaper tick: accounts what each version's fixed keep-alive would have held idle (its shadow)
 * against what its pool held since the last tick, then unloads the idle instances or skips the
 * pre-warms the budget gives up. Only versions under the adaptive policy take part; a fixed
 * keep-alive is its own shadow.
 */
export class WarmBudgetReaper {
  readonly budget: WarmMemoryBudget;
  /** Per version: the cumulative idle and shadow MB x ms at the last tick. */
  private readonly marks = new Map<string, { spent: number; shadow: number }>();
  private lastTick: number | undefined;

  constructor(options: WarmBudgetOptions = {}) {
    this.budget = new WarmMemoryBudget(options);
  }

  /** One reaper tick at `now`; the next comes horizonMs later. */
  apply(now: number, versions: readonly BudgetedVersion[], horizonMs: number): void {
    let spent = 0;
    let shadow = 0;
    let projected = 0;
    let committed = 0;
    const holdings: WarmHolding[] = [];
    const byId = new Map<string, BudgetedVersion>();
    const seen = new Set<string>();
    for (const v of versions) {
      seen.add(v.key);
      const spentNow = v.pool ? v.pool.idleMbMsUntil(now) : v.keepAlive.idleMbMsClosed;
      const shadowNow = v.memoryMb * v.keepAlive.shadow.idleMsUntil(now);
      const mark = this.marks.get(v.key);
      // A version new to the budget starts its account now.
      if (mark) {
        spent += spentNow - mark.spent;
        shadow += shadowNow - mark.shadow;
      }
      this.marks.set(v.key, { spent: spentNow, shadow: shadowNow });
      projected += v.memoryMb * v.keepAlive.shadow.projectedIdleMs(now, horizonMs);
      if (!v.pool || !v.tick) continue;
      byId.set(v.key, v);
      const histogram = v.keepAlive.state.histogram;
      const idleSince = v.tick.functionIdleSince;
      // While calls run, or while it has other idle instances (scale-down capacity), a function's idle
      // instances follow the fixed keep-alive, as in the shadow: the budget takes only the last one.
      const pi = idleSince === undefined || v.pool.idleCount !== 1 ? undefined : v.pool.newestIdle();
      if (pi && idleSince !== undefined && v.pool.instances.size > v.pool.minimum) {
        const stopAt = pi.holdUntil ?? instanceStopAt(v.tick.decision, pi.idleSince, idleSince, true);
        if (stopAt > now) holdings.push({ id: `${v.key}\n${pi.id}`, kind: 'idle', memoryMb: v.memoryMb, idleSince, startAt: pi.idleSince, stopAt, histogram });
      } else {
        // The idle instances the budget cannot take still spend from it.
        const idle = v.pool.idleViews();
        idle.forEach((view, i) => {
          const stopAt = view.holdUntil ?? instanceStopAt(v.tick!.decision, view.idleSince, idleSince, i === idle.length - 1);
          committed += v.memoryMb * Math.max(0, Math.min(now + horizonMs, stopAt) - now);
        });
      }
      const plan = v.keepAlive.plannedPrewarm(now);
      if (plan && idleSince !== undefined && plan.startAt < now + horizonMs) {
        holdings.push({ id: `${v.key}\nprewarm`, kind: 'prewarm', memoryMb: v.memoryMb, idleSince, startAt: plan.startAt, stopAt: plan.stopAt, histogram });
      }
    }
    for (const key of this.marks.keys()) if (!seen.has(key)) this.marks.delete(key);
    if (this.lastTick !== undefined) this.budget.accrue(now - this.lastTick, shadow, spent);
    this.lastTick = now;
    for (const release of this.budget.select(now, holdings, horizonMs, projected, committed)) {
      const [key, what] = release.id.split('\n') as [string, string];
      const v = byId.get(key)!;
      if (release.kind === 'prewarm') v.keepAlive.prewarmDone();
      else {
        const pi = v.pool!.newestIdle();
        if (pi?.id === what) v.pool!.evict(pi);
      }
      v.keepAlive.noteBudget(release.reason);
    }
  }
}
