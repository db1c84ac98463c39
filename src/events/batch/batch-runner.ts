import type { Journal } from './journal.js';

/** Why a chunk invocation failed: throttles are retried without counting against the chunk. */
export class ChunkError extends Error {
  constructor(
    message: string,
    readonly throttled = false,
  ) {
    super(message);
  }
}

export interface BatchRunOptions {
  readonly rows: readonly unknown[];
  readonly chunkRows: number;
  readonly concurrency: number;
  /** Attempts per chunk beyond the first (throttles do not count). */
  readonly retries: number;
  readonly retryDelayMs: number;
  readonly journal: Journal;
  readonly invoke: (rows: readonly unknown[], chunk: number) => Promise<unknown[]>;
  readonly onProgress?: (rowsDone: number) => void;
  readonly signal?: AbortSignal;
}

/**
 * Split rows into chunks, run them `concurrency` at a time (the platform scales instances to the
 * parallel calls), retry failed chunks with backoff, journal each finished chunk, and return the
 * results in input order. Chunks already in the journal are not run again.
 */
export async function runBatch(o: BatchRunOptions): Promise<unknown[]> {
  const chunks = Math.ceil(o.rows.length / o.chunkRows);
  const rowsOf = (i: number) => o.rows.slice(i * o.chunkRows, Math.min(o.rows.length, (i + 1) * o.chunkRows));
  let rowsDone = 0;
  for (const i of o.journal.done.keys()) if (i < chunks) rowsDone += rowsOf(i).length;
  o.onProgress?.(rowsDone);
  const pending = Array.from({ length: chunks }, (_, i) => i).filter((i) => !o.journal.done.has(i));
  let failure: Error | undefined;
  const worker = async () => {
    while (pending.length > 0 && !failure && !o.signal?.aborted) {
      const i = pending.shift()!;
      const rows = rowsOf(i);
      let attempt = 0;
      for (;;) {
        try {
          const results = await o.invoke(rows, i);
          await o.journal.record(i, results);
          rowsDone += rows.length;
          o.onProgress?.(rowsDone);
          break;
        } catch (err) {
          const throttled = err instanceof ChunkError && err.throttled;
          if (!throttled) attempt++;
          if (attempt > o.retries || o.signal?.aborted) {
            failure ??= new Error(`chunk ${i + 1} of ${chunks} (rows ${i * o.chunkRows + 1}-${i * o.chunkRows + rows.length}) failed after ${attempt} attempts: ${(err as Error).message}`);
            return;
          }
          await new Promise((r) => setTimeout(r, throttled ? 250 : o.retryDelayMs * 2 ** (attempt - 1)));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency, pending.length)) }, worker));
  if (failure) throw failure;
  if (o.signal?.aborted) throw new Error('interrupted');
  const out: unknown[] = [];
  for (let i = 0; i < chunks; i++) out.push(...o.journal.done.get(i)!);
  return out;
}
