/**
 * Dynamic batching decisions as pure functions of the queue and `now` (Triton's dynamic batcher
 * semantics): a batch runs as soon as it holds maxBatchSize rows, or when its oldest request has
 * waited maxDelayMs; never later.
 */

export interface BatchLimits {
  readonly maxBatchSize: number;
  readonly maxDelayMs: number;
}

export interface QueueState {
  /** Rows (batch dimension) waiting. */
  readonly queuedRows: number;
  /** When the oldest waiting request arrived; undefined when the queue is empty. */
  readonly oldestEnqueuedAt: number | undefined;
}

export type FlushDecision = { readonly flush: true } | { readonly flush: false; readonly waitMs: number };

export function flushDecision(state: QueueState, now: number, limits: BatchLimits): FlushDecision {
  if (state.oldestEnqueuedAt === undefined || state.queuedRows === 0) return { flush: false, waitMs: Number.POSITIVE_INFINITY };
  if (state.queuedRows >= limits.maxBatchSize) return { flush: true };
  const waited = now - state.oldestEnqueuedAt;
  if (waited >= limits.maxDelayMs) return { flush: true };
  return { flush: false, waitMs: limits.maxDelayMs - waited };
}

/**
 * How many queued requests (oldest first) make the next batch: as many as fit in maxBatchSize
 * rows, and always at least one (a request larger than the limit runs on its own).
 */
export function nextBatchCount(rows: readonly number[], maxBatchSize: number): number {
  let total = 0;
  let count = 0;
  for (const r of rows) {
    if (count > 0 && total + r > maxBatchSize) break;
    total += r;
    count++;
  }
  return count;
}

/** A request runs alone, without waiting, when it fills a batch by itself. */
export function runsAlone(rows: number, limits: BatchLimits): boolean {
  return rows >= limits.maxBatchSize;
}
