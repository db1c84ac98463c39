/**
 * Asynchronous invocation decisions as pure functions (Lambda's semantics), so tests drive them
 * with any clock:
 * - a function error is retried MaximumRetryAttempts times, after `base` then `2 × base`
 *   (Lambda: about 1 minute, then 2 minutes; `asyncRetryBaseMs` makes tests fast);
 * - throttles and system errors do not count as retries: they back off exponentially from
 *   base / 60 (1 s by default) up to 5 × base (5 minutes), until the event is too old;
 * - an event older than MaximumEventAgeInSeconds is never attempted again.
 */

export type AttemptResult = 'success' | 'function-error' | 'throttled' | 'system-error';

export type FailureCondition = 'RetriesExhausted' | 'EventAgeExceeded';

export type RetryDecision =
  | { readonly kind: 'done' }
  | { readonly kind: 'retry'; readonly delayMs: number }
  | { readonly kind: 'fail'; readonly condition: FailureCondition };

export interface AttemptOutcomeInput {
  readonly result: AttemptResult;
  /** Function errors so far, this attempt included. */
  readonly functionErrors: number;
  /** Throttled or system-failed attempts so far, this one included. */
  readonly throttles: number;
  readonly maximumRetryAttempts: number;
  readonly maximumEventAgeMs: number;
  readonly acceptedAt: number;
  readonly now: number;
  readonly retryBaseMs: number;
}

export function decideAfterAttempt(input: AttemptOutcomeInput): RetryDecision {
  if (input.result === 'success') return { kind: 'done' };
  let delayMs: number;
  if (input.result === 'function-error') {
    if (input.functionErrors > input.maximumRetryAttempts) return { kind: 'fail', condition: 'RetriesExhausted' };
    delayMs = functionErrorDelayMs(input.functionErrors, input.retryBaseMs);
  } else {
    delayMs = throttleDelayMs(input.throttles, input.retryBaseMs);
  }
  if (input.now + delayMs - input.acceptedAt > input.maximumEventAgeMs) return { kind: 'fail', condition: 'EventAgeExceeded' };
  return { kind: 'retry', delayMs };
}

/** Before an attempt: is the event too old to run at all? */
export function isExpired(acceptedAt: number, maximumEventAgeMs: number, now: number): boolean {
  return now - acceptedAt > maximumEventAgeMs;
}

/** After the n-th function error (1-based): base, 2 × base, ... */
export function functionErrorDelayMs(n: number, baseMs: number): number {
  return baseMs * 2 ** Math.max(0, n - 1);
}

/** After the n-th throttle (1-based): base / 60 doubling, capped at 5 × base. */
export function throttleDelayMs(n: number, baseMs: number): number {
  const first = Math.max(1, baseMs / 60);
  return Math.min(5 * baseMs, first * 2 ** Math.min(30, Math.max(0, n - 1)));
}

/**
 * How many async events of one function run at once. The rule that keeps synchronous traffic
 * served: with reserved concurrency r ≥ 2, async takes at most r − 1 instances, so one is always
 * left for synchronous calls; with r = 1 (or 0, switched off) it takes that one and a synchronous
 * call waits at most one invocation (pools hand a freed instance to the oldest waiter, which is
 * the synchronous call, before the async loop can submit its next event). Without a reservation
 * async takes at most `platformDefault` instances (2 × cores by default) while synchronous calls
 * may scale up to the function's full share of the account limit.
 */
export function asyncConcurrencyCap(reservedConcurrency: number | null, platformDefault: number): number {
  if (reservedConcurrency === null) return Math.max(1, platformDefault);
  return reservedConcurrency <= 1 ? 1 : reservedConcurrency - 1;
}
