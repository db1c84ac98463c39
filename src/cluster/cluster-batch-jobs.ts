import type { Logger } from 'pino';
import type { JsMsg } from 'nats';
import type { BlobStore } from '../artifacts/blob-store.js';
import type { BatchJobState, NatsBatchChunks } from '../backends/nats/batch-chunks.js';
import type { KvWatch } from '../backends/nats/connection.js';
import { chunkResults, formatBatchOutput, parseBatchInput } from '../events/batch/batch-input.js';
import { batchJobSchema } from '../events/batch/batch-jobs.js';
import type { NatsRecordStore } from '../backends/nats/kv-record-store.js';
import type { InvocationRecord } from '../events/records.js';
import type { Registry } from '../registry/registry.js';
import type { Dispatcher } from '../scheduler/dispatcher.js';
import type { Clock } from '../shared/clock.js';
import { ModelfnError, isModelfnError } from '../shared/errors.js';
import { newRequestId } from '../shared/ids.js';
import { parseOrThrow } from '../shared/validation.js';

export interface ClusterBatchJobsOptions {
  readonly chunks: NatsBatchChunks;
  readonly registry: Registry;
  readonly dispatcher: Dispatcher;
  readonly blobs: BlobStore;
  readonly records: NatsRecordStore;
  readonly clock: Clock;
  readonly log: Logger;
  /** The chunk consumers' AckWait (heartbeats keep a running chunk leased). */
  readonly leaseMs: number;
}

/** Attempts per chunk beyond the first (throttles do not count), as on one node. */
const RETRIES = 3;

/**
 * Batch jobs in a cluster (the same API and record as on one node): the node that accepts a job
 * parses its input once, writes the record and publishes one message per chunk; every node runs
 * up to the job's `concurrency` chunks at a time, each through the cluster dispatcher. A chunk is
 * acknowledged only after its results are stored; the node that completes the set of finished
 * chunks writes the output (input order) to the blob store and finishes the record. A node that
 * dies gives its running chunks back after the lease; nothing is redone that was stored.
 */
export class ClusterBatchJobs {
  private readonly workers = new Map<string, { stopped: boolean; loops: Array<Promise<void>> }>();
  private readonly inputs = new Map<string, Promise<unknown[]>>();
  private watch: KvWatch | undefined;
  private stopped = false;

  constructor(private readonly o: ClusterBatchJobsOptions) {}

  async submit(body: unknown): Promise<InvocationRecord> {
    const spec = parseOrThrow(batchJobSchema, body, 'batch job');
    this.o.registry.resolve(spec.function, spec.qualifier);
    const bytes = await this.o.blobs.get(spec.input);
    if (!bytes) throw new ModelfnError('INVALID_PARAMETER', `input: no uploaded file ${spec.input}; upload it to /_modelfn/v1/files first`);
    const rows = parseBatchInput(bytes.toString('utf8'), spec.format).rows;
    const now = this.o.clock.now();
    const chunks = Math.ceil(rows.length / spec.chunkRows);
    const record: InvocationRecord = {
      id: newRequestId(),
      kind: 'job',
      functionName: spec.function,
      qualifier: spec.qualifier ?? null,
      status: chunks === 0 ? 'succeeded' : 'running',
      attempts: 1,
      functionErrors: 0,
      acceptedAt: now,
      startedAt: now,
      finishedAt: null,
      nextAttemptAt: null,
      error: null,
      detail: { spec, rowsDone: 0, rowsTotal: rows.length, chunks },
      updatedAt: now,
    };
    await this.o.records.create(record);
    const state: BatchJobState = {
      id: record.id,
      functionName: spec.function,
      ...(spec.qualifier ? { qualifier: spec.qualifier } : {}),
      input: spec.input,
      format: spec.format,
      outputFormat: spec.outputFormat ?? 'jsonl',
      chunkRows: spec.chunkRows,
      chunks,
      rowsTotal: rows.length,
      concurrency: spec.concurrency,
    };
    this.inputs.set(record.id, Promise.resolve(rows));
    if (chunks === 0) await this.finish(state);
    else await this.o.chunks.create(state);
    return record;
  }

  /** Work on every active job of the cluster (and on jobs started later). */
  async resume(): Promise<void> {
    this.watch = await this.o.chunks.watch(
      (state) => this.work(state),
      (id) => this.forget(id),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watch?.();
    const loops = [...this.workers.values()].flatMap((w) => {
      w.stopped = true;
      return w.loops;
    });
    await Promise.all(loops);
  }

  private work(state: BatchJobState): void {
    if (this.stopped || this.workers.has(state.id)) return;
    const w = { stopped: false, loops: [] as Array<Promise<void>> };
    this.workers.set(state.id, w);
    for (let i = 0; i < state.concurrency; i++) w.loops.push(this.loop(state, w).catch((err: unknown) => this.o.log.error({ err, job: state.id }, 'batch worker failed')));
  }

  private forget(id: string): void {
    const w = this.workers.get(id);
    if (w) w.stopped = true;
    this.workers.delete(id);
    this.inputs.delete(id);
  }

  private async loop(state: BatchJobState, w: { stopped: boolean }): Promise<void> {
    let completeSeen = 0;
    while (!w.stopped && !this.stopped) {
      let msg: JsMsg | undefined;
      try {
        msg = await this.o.chunks.next(state.id, 1000);
      } catch {
        await new Promise((r) => setTimeout(r, 500)); // NATS away, or the job was removed
        continue;
      }
      if (msg) {
        completeSeen = 0;
        await this.run(state, msg);
        continue;
      }
      // No chunk left to run. Every chunk stored for a few seconds and the job still here: the
      // node that completed the set died before writing the output; write it (idempotent).
      if ((await this.o.chunks.doneCount(state.id).catch(() => 0)) < state.chunks) completeSeen = 0;
      else if (++completeSeen >= 3 && !w.stopped) {
        await this.finish(state).catch((err: unknown) => this.o.log.warn({ err, job: state.id }, 'could not finish a batch job'));
        return;
      }
    }
  }

  private async run(state: BatchJobState, msg: JsMsg): Promise<void> {
    const chunk = Number(Buffer.from(msg.data).toString('utf8'));
    const heartbeat = setInterval(() => {
      try {
        msg.working();
      } catch {
        /* connection gone: the chunk comes back to someone after the lease */
      }
    }, Math.max(200, Math.floor(this.o.leaseMs / 3)));
    try {
      const rows = (await this.input(state)).slice(chunk * state.chunkRows, (chunk + 1) * state.chunkRows);
      let results: unknown[];
      try {
        results = await this.invoke(state, rows);
      } catch (err) {
        const throttled = isModelfnError(err, 'TOO_MANY_REQUESTS');
        const attempt = msg.info.deliveryCount;
        if (!throttled && attempt > RETRIES) {
          await this.fail(state, `chunk ${chunk + 1} of ${state.chunks} (rows ${chunk * state.chunkRows + 1}-${chunk * state.chunkRows + rows.length}) failed after ${attempt} attempts: ${(err as Error).message}`);
          msg.term();
          return;
        }
        msg.nak(throttled ? 250 : 500 * 2 ** (attempt - 1));
        return;
      }
      const { done, completed } = await this.o.chunks.finishChunk(state.id, chunk, state.chunks, results);
      await msg.ackAck();
      if (completed) await this.finish(state);
      else void this.o.records.updateIf(state.id, (r) => r.status === 'running', { detail: this.detail(state, Math.min(state.rowsTotal, done * state.chunkRows)) }).catch(() => undefined);
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async invoke(state: BatchJobState, rows: readonly unknown[]): Promise<unknown[]> {
    const outcome = await this.o.dispatcher.invoke(this.o.registry.resolve(state.functionName, state.qualifier), { requestId: newRequestId(), payload: Buffer.from(JSON.stringify(rows)) });
    if (!outcome.result.ok) throw new Error(`${outcome.result.error.errorType}: ${outcome.result.error.errorMessage}`);
    return chunkResults(JSON.parse(outcome.result.payload.toString('utf8')), rows.length);
  }

  /** The rows of a job's input, parsed once per node. */
  private input(state: BatchJobState): Promise<unknown[]> {
    let rows = this.inputs.get(state.id);
    if (!rows) {
      rows = this.o.blobs.get(state.input).then((bytes) => {
        if (!bytes) throw new Error(`input ${state.input} is no longer in the blob store`);
        return parseBatchInput(bytes.toString('utf8'), state.format).rows;
      });
      rows.catch(() => this.inputs.delete(state.id));
      this.inputs.set(state.id, rows);
    }
    return rows;
  }

  private detail(state: BatchJobState, rowsDone: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
    const spec = { function: state.functionName, ...(state.qualifier ? { qualifier: state.qualifier } : {}), input: state.input, format: state.format, outputFormat: state.outputFormat, chunkRows: state.chunkRows, concurrency: state.concurrency };
    return { spec, rowsDone, rowsTotal: state.rowsTotal, chunks: state.chunks, ...extra };
  }

  private async finish(state: BatchJobState): Promise<void> {
    const results = state.chunks === 0 ? [] : await this.o.chunks.results(state.id, state.chunks);
    const stored = await this.o.blobs.put(Buffer.from(formatBatchOutput(results, state.outputFormat)));
    await this.o.records.update(state.id, { status: 'succeeded', finishedAt: this.o.clock.now(), detail: this.detail(state, state.rowsTotal, { output: { sha256: stored.sha256, bytes: stored.size } }) });
    await this.o.chunks.remove(state.id, state.chunks);
  }

  private async fail(state: BatchJobState, message: string): Promise<void> {
    await this.o.records.update(state.id, { status: 'failed', finishedAt: this.o.clock.now(), error: { type: 'ChunkFailed', message } });
    await this.o.chunks.remove(state.id, state.chunks);
  }
}
