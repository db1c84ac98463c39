/**
 * Scheduling decisions as pure functions of state and `now`: the pool applies them, tests call
 * them with any clock they like.
 */

export interface StartDecisionInput {
  /** Requests waiting for an instance. */
  readonly waiting: number;
  /** Of those, the ones already waiting longer than a cold start takes: never left to busy instances. */
  readonly waitingLong?: number;
  /** Instances already starting: each will serve one waiter. */
  readonly starting: number;
  /** Instances of this function that exist now (starting, idle or busy), across its versions. */
  readonly functionInstances: number;
  /** The function's cap: reserved concurrency, or its share of the unreserved pool. */
  readonly functionLimit: number;
  /** Instances of this pool serving an invocation right now. */
  readonly busy?: number;
  /** Recent mean invocation time and cold start time of this pool (undefined until measured). */
  readonly meanServiceMs?: number;
  readonly meanColdStartMs?: number;
  /** Up to this many instances the pool starts one per waiting request, as Lambda does. */
  readonly eagerInstances?: number;
}

/**
 * How many instances to start now: one per waiting request not already covered, never past the
 * function's limit (a burst of 50 requests to a cold function capped at 5 starts 5).
 *
 * A waiter is covered by an instance already starting, and, once the pool has more than
 * `eagerInstances` instances, by a busy instance that will be free before a new one could finish
 * its cold start: starting a process to serve a request 60 ms from now that a warm instance serves
 * in 2 ms only burns memory and CPU. Below `eagerInstances` (or without measurements) every
 * uncovered waiter gets its own start, as on Lambda.
 */
export function instancesToStart(input: StartDecisionInput): number {
  const pooled = input.busy ?? 0;
  const long = input.waitingLong ?? 0;
  let byBusy = 0;
  if (
    pooled >= (input.eagerInstances ?? Number.POSITIVE_INFINITY) &&
    input.meanServiceMs !== undefined &&
    input.meanColdStartMs !== undefined
  ) {
    byBusy = Math.floor((pooled * input.meanColdStartMs) / Math.max(input.meanServiceMs, 0.05));
  }
  const missing = long + Math.max(0, input.waiting - long - byBusy) - input.starting;
  const headroom = input.functionLimit - input.functionInstances;
  return Math.max(0, Math.min(missing, headroom));
}

export interface PipelineDecisionInput {
  /** Invocations the instance holds now: the running one and those handed over behind it. */
  readonly assigned: number;
  /** The most an instance may hold at once (1: no pipelining). */
  readonly maxDepth: number;
  /** Recent mean run time of a call inside the instance (undefined until measured). */
  readonly meanRunMs: number | undefined;
  /** The longest expected wait behind the calls ahead that is worth it. */
  readonly maxWaitMs: number;
}

/**
 * May a busy instance be handed one more invocation, to run when those it holds are done
 * (pipelining)? Only a fast function's instance, and only while the expected wait behind the
 * calls ahead stays short: for a 50 µs handler, waiting behind three calls beats waking a fourth
 * process by far (on a small machine, waking 32 processes for 32 concurrent 50 µs calls cost
 * more CPU than the calls); for a 100 ms handler the next call gets its own instance, as on Lambda.
 */
export function mayPipeline(input: PipelineDecisionInput): boolean {
  return input.meanRunMs !== undefined && input.assigned < input.maxDepth && input.assigned * input.meanRunMs <= input.maxWaitMs;
}

/** Exponentially weighted moving average: recent behaviour counts most, one outlier little. */
export function ewma(previous: number | undefined, sample: number, weight = 0.2): number {
  return previous === undefined ? sample : previous + weight * (sample - previous);
}

export interface IdleInstance {
  readonly id: string;
  readonly idleSince: number;
}

/** Idle instances whose keep-alive has run out. */
export function idleInstancesToStop(idle: readonly IdleInstance[], now: number, keepAliveMs: number): string[] {
  return idle.filter((i) => now - i.idleSince >= keepAliveMs).map((i) => i.id);
}

export interface QueueDecisionInput {
  readonly queueLength: number;
  readonly maxQueueLength: number;
}

/** A request that finds no free instance may wait only while the queue is short. */
export function mayQueue(input: QueueDecisionInput): boolean {
  return input.queueLength < input.maxQueueLength;
}

export interface ConcurrencyShare {
  readonly reservedConcurrency: number | null;
  /** The platform-wide concurrency limit (Lambda's account limit). */
  readonly accountLimit: number;
  /** Sum of every function's reserved concurrency. */
  readonly totalReserved: number;
  /** Kept for functions without a reservation, as Lambda keeps 100. */
  readonly minUnreserved: number;
}

/**
 * Reserved concurrency is both a cap and a floor: a function with a reservation may use exactly
 * that many; the others share what is left of the account limit.
 */
export function functionConcurrencyLimit(share: ConcurrencyShare): number {
  if (share.reservedConcurrency !== null) return share.reservedConcurrency;
  return Math.max(share.minUnreserved, share.accountLimit - share.totalReserved);
}

/** Lambda bills in 1 ms steps, rounded up. */
export function billedDurationMs(durationMs: number): number {
  return Math.max(1, Math.ceil(durationMs));
}
