import { Worker } from 'node:worker_threads';
import type { LogColumns } from './log-columns.js';
import { formatBatches } from './log-columns.js';

export interface FormatBatch {
  readonly functionName: string;
  readonly columns: LogColumns;
}

export interface FormatRequest {
  readonly id: number;
  readonly batches: readonly FormatBatch[];
}

export interface FormatReply {
  readonly id: number;
  readonly parts: Uint8Array[];
}

/**
 * Turns log columns into NDJSON bytes on a worker thread. Stored and serialised on the request
 * thread, the REPORT record of every invocation cost it dearly (an A/B run without the record took
 * 6.3 µs less CPU per request). The worker takes that work off the request thread, not off the
 * machine: on a 2-core machine under load its CPU still comes out of the same cores (log-columns.ts
 * keeps the lines cheap for that reason). Should the worker fail or be unavailable, the lines are
 * formatted here instead: slower, never lost.
 */
export class LogFormatter {
  private worker: Worker | undefined;
  private broken = false;
  private nextId = 0;
  private readonly waiting = new Map<number, { batches: readonly FormatBatch[]; resolve(parts: Uint8Array[]): void }>();

  format(batches: readonly FormatBatch[]): Promise<Uint8Array[]> {
    const worker = this.worker ?? this.spawn();
    if (worker === undefined) return Promise.resolve(formatBatches(batches));
    const id = ++this.nextId;
    return new Promise<Uint8Array[]>((resolve) => {
      this.waiting.set(id, { batches, resolve });
      // Held open only while a reply is due: an idle formatter never keeps the process alive.
      if (this.waiting.size === 1) worker.ref();
      worker.postMessage({ id, batches } satisfies FormatRequest);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.broken = true;
    this.settleHere();
    if (worker) await worker.terminate();
  }

  private spawn(): Worker | undefined {
    if (this.broken) return undefined;
    try {
      const worker = new Worker(new URL('./log-format-worker.js', import.meta.url));
      worker.unref();
      worker.on('message', (reply: FormatReply) => {
        const waiter = this.waiting.get(reply.id);
        if (!waiter) return;
        this.waiting.delete(reply.id);
        if (this.waiting.size === 0) worker.unref();
        waiter.resolve(reply.parts);
      });
      // A worker that fails (or is stopped) hands what it held back to this thread, and the
      // formatter goes on without one.
      const lost = () => {
        if (this.worker !== worker) return;
        this.worker = undefined;
        this.broken = true;
        this.settleHere();
      };
      worker.on('error', lost);
      worker.on('exit', lost);
      this.worker = worker;
      return worker;
    } catch {
      this.broken = true;
      return undefined;
    }
  }

  private settleHere(): void {
    for (const [id, waiter] of this.waiting) {
      this.waiting.delete(id);
      waiter.resolve(formatBatches(waiter.batches));
    }
  }
}
