import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { BlobStore } from '../../artifacts/blob-store.js';
import type { Registry } from '../../registry/registry.js';
import type { Dispatcher } from '../../scheduler/dispatcher.js';
import type { Clock } from '../../shared/clock.js';
import { ModelfnError, isModelfnError } from '../../shared/errors.js';
import { newRequestId } from '../../shared/ids.js';
import { parseOrThrow } from '../../shared/validation.js';
import type { InvocationRecord, InvocationRecordStore } from '../records.js';
import { chunkResults, formatBatchOutput, parseBatchInput } from './batch-input.js';
import { ChunkError, runBatch } from './batch-runner.js';
import { Journal } from './journal.js';

export const batchJobSchema = z
  .object({
    function: z.string({ message: 'is required' }).min(1).max(140),
    qualifier: z.string().regex(/^(\$LATEST|[0-9]+|[A-Za-z0-9_-]{1,128})$/).optional(),
    input: z.string({ message: 'is required: the sha256 of a file uploaded to /_modelfn/v1/files' }).regex(/^[0-9a-f]{64}$/, { message: 'must be the hex sha256 of an uploaded file' }),
    format: z.enum(['csv', 'jsonl'], { message: 'must be csv or jsonl' }),
    outputFormat: z.enum(['csv', 'jsonl']).optional(),
    chunkRows: z.number().int().min(1, { message: 'must be between 1 and 100000' }).max(100_000, { message: 'must be between 1 and 100000' }).default(500),
    concurrency: z.number().int().min(1, { message: 'must be between 1 and 64' }).max(64, { message: 'must be between 1 and 64' }).default(4),
  })
  .strict();

export type BatchJobSpec = z.infer<typeof batchJobSchema>;

export interface BatchJobsOptions {
  readonly registry: Registry;
  readonly dispatcher: Dispatcher;
  readonly blobs: BlobStore;
  readonly records: InvocationRecordStore;
  readonly clock: Clock;
  readonly log: Logger;
  /** Where job journals live (the data directory's jobs/). */
  readonly dir: string;
}

/**
 * Batch jobs over the API, for input files already in the blob store: the same chunking,
 * retries and ordered output as `modelfn batch`, run inside the platform through the dispatcher.
 * The job's record holds its spec and progress; its journal (jobs/ID.journal) lets a job that was
 * running when the platform stopped continue after a restart without redoing finished chunks.
 * The output goes to the blob store; its sha256 is in the record.
 */
export class BatchJobs {
  private readonly running = new Map<string, AbortController>();
  private readonly done = new Set<Promise<void>>();

  constructor(private readonly o: BatchJobsOptions) {}

  async submit(body: unknown): Promise<InvocationRecord> {
    const spec = parseOrThrow(batchJobSchema, body, 'batch job');
    this.o.registry.resolve(spec.function, spec.qualifier);
    if (!(await this.o.blobs.has(spec.input))) throw new ModelfnError('INVALID_PARAMETER', `input: no uploaded file ${spec.input}; upload it to /_modelfn/v1/files first`);
    const now = this.o.clock.now();
    const record: InvocationRecord = {
      id: newRequestId(),
      kind: 'job',
      functionName: spec.function,
      qualifier: spec.qualifier ?? null,
      status: 'queued',
      attempts: 0,
      functionErrors: 0,
      acceptedAt: now,
      startedAt: null,
      finishedAt: null,
      nextAttemptAt: null,
      error: null,
      detail: { spec, rowsDone: 0, rowsTotal: null },
      updatedAt: now,
    };
    await this.o.records.create(record);
    this.start(record);
    return record;
  }

  /** Continue the jobs that were queued or running when the platform stopped. */
  async resume(): Promise<void> {
    for (const status of ['queued', 'running'] as const) {
      for (const record of await this.o.records.list({ kind: 'job', status, limit: 1000 })) this.start(record);
    }
  }

  async stop(): Promise<void> {
    for (const c of this.running.values()) c.abort();
    await Promise.all([...this.done]);
  }

  private start(record: InvocationRecord): void {
    if (this.running.has(record.id)) return;
    const controller = new AbortController();
    this.running.set(record.id, controller);
    const run = this.run(record, controller.signal)
      .catch((err: unknown) => this.o.log.error({ err, job: record.id }, 'batch job crashed'))
      .finally(() => {
        this.running.delete(record.id);
        this.done.delete(run);
      });
    this.done.add(run);
  }

  private async run(record: InvocationRecord, signal: AbortSignal): Promise<void> {
    const spec = parseOrThrow(batchJobSchema, record.detail.spec, 'batch job');
    const { records, clock } = this.o;
    const startedAt = record.startedAt ?? clock.now();
    await records.update(record.id, { status: 'running', startedAt, attempts: record.attempts + 1 });
    const bytes = await this.o.blobs.get(spec.input);
    let rows: unknown[];
    try {
      if (!bytes) throw new ModelfnError('INVALID_PARAMETER', `input ${spec.input} is no longer in the blob store`);
      rows = parseBatchInput(bytes.toString('utf8'), spec.format).rows;
    } catch (err) {
      await records.update(record.id, { status: 'failed', finishedAt: clock.now(), error: { type: 'InvalidInput', message: (err as Error).message } });
      return;
    }
    await mkdir(this.o.dir, { recursive: true });
    const journal = await Journal.open(
      join(this.o.dir, `${record.id}.journal`),
      { v: 1, function: spec.function, input: spec.input, inputBytes: bytes!.length, inputMtimeMs: 0, chunkRows: spec.chunkRows },
      true,
    );
    let lastReport = 0;
    const detail = { ...record.detail, rowsTotal: rows.length };
    try {
      const results = await runBatch({
        rows,
        chunkRows: spec.chunkRows,
        concurrency: spec.concurrency,
        retries: 3,
        retryDelayMs: 500,
        journal,
        signal,
        invoke: (chunk) => this.invokeChunk(spec, chunk),
        onProgress: (rowsDone) => {
          const now = clock.now();
          if (now - lastReport < 500 && rowsDone < rows.length) return;
          lastReport = now;
          void records.update(record.id, { detail: { ...detail, rowsDone } });
        },
      });
      const output = Buffer.from(formatBatchOutput(results, spec.outputFormat ?? 'jsonl'));
      const stored = await this.o.blobs.put(output);
      await records.update(record.id, {
        status: 'succeeded',
        finishedAt: clock.now(),
        detail: { ...detail, rowsDone: rows.length, output: { sha256: stored.sha256, bytes: stored.size } },
      });
      await journal.remove();
    } catch (err) {
      if (signal.aborted) return; // stopping: the journal keeps the finished chunks for the restart
      await records.update(record.id, { status: 'failed', finishedAt: clock.now(), error: { type: 'ChunkFailed', message: (err as Error).message } });
    }
  }

  private async invokeChunk(spec: BatchJobSpec, rows: readonly unknown[]): Promise<unknown[]> {
    let outcome;
    try {
      outcome = await this.o.dispatcher.invoke(this.o.registry.resolve(spec.function, spec.qualifier), { requestId: newRequestId(), payload: Buffer.from(JSON.stringify(rows)) });
    } catch (err) {
      throw new ChunkError((err as Error).message, isModelfnError(err, 'TOO_MANY_REQUESTS'));
    }
    if (!outcome.result.ok) throw new ChunkError(`${outcome.result.error.errorType}: ${outcome.result.error.errorMessage}`);
    try {
      return chunkResults(JSON.parse(outcome.result.payload.toString('utf8')), rows.length);
    } catch (err) {
      throw new ChunkError((err as Error).message);
    }
  }
}
