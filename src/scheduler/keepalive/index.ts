/**
 * Keep-alive and pre-warm policies: pure functions and state driven by the times they are given.
 * The scheduler applies them to real instances; the simulator (src/simulator) to a virtual pool.
 */
export { IdleTimeHistogram } from './idle-histogram.js';
export { HYBRID_DEFAULTS, KEEP_ALIVE_POLICIES, decideKeepAlive, fixedDecision, idleInstancesToStopAt, instanceStopAt, prewarmWindow } from './hybrid-policy.js';
export type { HybridParams, IdleInstanceView, KeepAliveDecision, KeepAlivePolicyName } from './hybrid-policy.js';
export { KeepAliveState } from './keep-alive-state.js';
export { PoolKeepAlive } from './pool-keep-alive.js';
export type { KeepAliveStatus, KeepAliveTick } from './pool-keep-alive.js';
export { FixedKeepAliveShadow } from './fixed-keep-alive-shadow.js';
export { WarmMemoryBudget, callProbability, holdingValue } from './warm-memory-budget.js';
export type { BudgetRelease, WarmBudgetOptions, WarmHolding } from './warm-memory-budget.js';
