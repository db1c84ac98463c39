import type { HybridParams, KeepAlivePolicyName, WarmBudgetOptions } from '../scheduler/keepalive/index.js';
import type { Trace } from './trace.js';
import { replayWithBudget } from './budget-replay.js';
import { replayFunction } from './function-replay.js';
import type { FunctionOutcome, PoolModel } from './function-replay.js';

export { FunctionReplay, replayFunction } from './function-replay.js';
export type { FunctionOutcome, PoolModel } from './function-replay.js';

/** A keep-alive policy to replay a trace against. */
export interface PolicyUnderTest {
  readonly label: string;
  readonly policy: KeepAlivePolicyName;
  /** The fixed keep-alive (the adaptive policy's fallback). */
  readonly keepAliveMs: number;
  readonly params?: HybridParams;
  /** Hold idle memory within a platform-level warm-memory budget (replays every function in one timeline). */
  readonly budget?: BudgetUnderTest;
}

export interface BudgetUnderTest extends WarmBudgetOptions {
  /** How often the budget is applied (the scheduler's reaper interval; default 1 minute). */
  readonly tickMs?: number;
}

/** What the warm-memory budget did in a replay. */
export interface BudgetResult {
  /** Idle instances unloaded before their keep-alive ran out. */
  readonly releasedIdle: number;
  /** Pre-warms skipped or cut short. */
  readonly skippedPrewarms: number;
  /** The allowance (what the fixed keep-alive would have held idle, or the cap) and what was spent, GB-s. */
  readonly allowanceGbS: number;
  readonly spentGbS: number;
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
  /** With a warm-memory budget: what it did. */
  readonly budget?: BudgetResult;
}

export interface KindResult {
  functions: number;
  invocations: number;
  coldStarts: number;
  wastedGbSeconds: number;
}

/** Replay every function of a trace against one policy. */
export function replay(trace: Trace, p: PolicyUnderTest, model: PoolModel = 'pool'): PolicyResult {
  if (p.budget) {
    const { outcomes, budget } = replayWithBudget(trace, p, model, p.budget);
    return summarise(trace, p, outcomes, budget);
  }
  return summarise(
    trace,
    p,
    trace.functions.map((fn) => replayFunction(fn, p, trace.endMs, model)),
  );
}

function summarise(trace: Trace, p: PolicyUnderTest, outcomes: readonly FunctionOutcome[], budget?: BudgetResult): PolicyResult {
  let invocations = 0;
  let coldStarts = 0;
  let afterIdle = 0;
  let prewarms = 0;
  let wastedGbSeconds = 0;
  const rates: number[] = [];
  const byKind: Record<string, KindResult> = {};
  trace.functions.forEach((fn, i) => {
    const o = outcomes[i]!;
    if (o.invocations === 0) return;
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
  });
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
    ...(budget ? { budget } : {}),
  };
}

/**
 * The policies the issue compares: fixed 10 min (AWS), fixed 20 min (Azure), adaptive (falling back
 * to 10 min) on its own, and adaptive within the warm-memory budget (the scheduler's default for
 * adaptive functions).
 */
export function standardPolicies(): PolicyUnderTest[] {
  return [
    { label: 'fixed 10 min', policy: 'fixed', keepAliveMs: 600_000 },
    { label: 'fixed 20 min', policy: 'fixed', keepAliveMs: 1_200_000 },
    { label: 'adaptive (hybrid histogram)', policy: 'adaptive', keepAliveMs: 600_000 },
    { label: 'adaptive + warm-memory budget', policy: 'adaptive', keepAliveMs: 600_000, budget: {} },
  ];
}
