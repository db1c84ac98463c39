import { FixedKeepAliveShadow } from './fixed-keep-alive-shadow.js';
import { HYBRID_DEFAULTS, prewarmWindow } from './hybrid-policy.js';
import type { HybridParams, KeepAliveDecision, KeepAlivePolicyName } from './hybrid-policy.js';
import { KeepAliveState } from './keep-alive-state.js';

/** What a pool should do at a moment: reap its idle instances by this decision, and maybe pre-warm one. */
export interface KeepAliveTick {
  readonly decision: KeepAliveDecision;
  /** When the function's last call ended; undefined while calls run. */
  readonly functionIdleSince: number | undefined;
  /** Start one instance now and keep it until then (epoch ms); undefined: no pre-warm now. */
  readonly prewarmUntil: number | undefined;
}

/** The keep-alive of one function version as the API shows it. */
export interface KeepAliveStatus {
  readonly policy: KeepAlivePolicyName;
  readonly mode: 'fixed' | 'histogram';
  readonly reason: string;
  readonly prewarmSec: number;
  readonly keepAliveSec: number;
  readonly idleTimes: { readonly samples: number; readonly outOfRange: number; readonly cv: number };
  /** When the function's last call ended (ISO), null while calls run or before the first. */
  readonly idleSince: string | null;
  /** When an instance will be pre-warmed (ISO), null when none is planned. */
  readonly nextPrewarmAt: string | null;
}

/**
 * The keep-alive of one pool over time: the function's idle-time state plus the plan for its
 * current idle period (the decision taken when it went idle, and the pre-warm window that
 * follows). Driven by the times it is given; the scheduler's reaper calls tick() and applies it.
 */
export class PoolKeepAlive {
  readonly state: KeepAliveState;
  /** What the fixed keep-alive would hold idle given the same calls (one call per instance, as pools serve them). */
  readonly shadow = new FixedKeepAliveShadow(0, true);
  /** Idle MB x ms of the pool's instances that are no longer idle (the pool adds to it): the warm-memory budget's spend. */
  idleMbMsClosed = 0;
  /** What the warm-memory budget did in this idle period, for the status. */
  private budgetNote: string | undefined;
  private period: number | undefined;
  private periodPolicy: KeepAlivePolicyName | undefined;
  private periodFixedMs = -1;
  private periodDecision: KeepAliveDecision | undefined;
  private plan: { readonly startAt: number; readonly stopAt: number } | undefined;
  private prewarmed = false;

  constructor(params: HybridParams = HYBRID_DEFAULTS) {
    this.state = new KeepAliveState(params);
  }

  arrive(now: number): void {
    this.state.arrive(now);
    this.shadow.arrive(now);
  }

  finish(now: number): void {
    this.state.finish(now);
    this.shadow.finish(now);
  }

  /** The warm-memory budget took memory back (its reason is shown with the decision's until the next idle period). */
  noteBudget(reason: string): void {
    this.budgetNote = reason;
  }

  /** The pre-warm planned for this idle period, if it has not happened and its window has not passed. */
  plannedPrewarm(now: number): { readonly startAt: number; readonly stopAt: number } | undefined {
    return this.prewarmPending(now) ? this.plan : undefined;
  }

  tick(now: number, policy: KeepAlivePolicyName, fixedKeepAliveMs: number): KeepAliveTick {
    this.shadow.keepAliveMs = fixedKeepAliveMs;
    const idleSince = this.state.functionIdleSince;
    if (idleSince === undefined) return { decision: this.state.decide(now, policy, fixedKeepAliveMs), functionIdleSince: undefined, prewarmUntil: undefined };
    // A new idle period (or new settings): decide once for the whole period, as the policy does
    // when a function's execution ends.
    if (idleSince !== this.period || policy !== this.periodPolicy || fixedKeepAliveMs !== this.periodFixedMs || !this.periodDecision) {
      this.period = idleSince;
      this.periodPolicy = policy;
      this.periodFixedMs = fixedKeepAliveMs;
      this.periodDecision = this.state.decide(idleSince, policy, fixedKeepAliveMs);
      this.plan = prewarmWindow(this.periodDecision, idleSince);
      this.prewarmed = false;
      this.budgetNote = undefined;
    }
    const due = this.plan !== undefined && !this.prewarmed && now >= this.plan.startAt && now < this.plan.stopAt;
    return { decision: this.periodDecision, functionIdleSince: idleSince, prewarmUntil: due ? this.plan!.stopAt : undefined };
  }

  /** The pre-warm of this idle period happened (or was not needed). */
  prewarmDone(): void {
    this.prewarmed = true;
  }

  /** True while a pre-warm is planned for the current idle period, has not happened, and its window has not passed. */
  prewarmPending(now: number): boolean {
    return this.plan !== undefined && !this.prewarmed && this.state.functionIdleSince === this.period && now < this.plan.stopAt;
  }

  status(now: number, policy: KeepAlivePolicyName, fixedKeepAliveMs: number): KeepAliveStatus {
    const { decision, functionIdleSince } = this.tick(now, policy, fixedKeepAliveMs);
    const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
    return {
      policy: decision.policy,
      mode: decision.mode,
      reason: this.budgetNote !== undefined && functionIdleSince !== undefined ? `${decision.reason}; ${this.budgetNote}` : decision.reason,
      prewarmSec: Math.round(decision.prewarmMs) / 1000,
      keepAliveSec: Math.round(decision.keepAliveMs) / 1000,
      idleTimes: { samples: decision.samples, outOfRange: decision.outOfRange, cv: decision.cv },
      idleSince: iso(functionIdleSince),
      nextPrewarmAt: iso(this.prewarmPending(now) ? this.plan!.startAt : undefined),
    };
  }
}
