import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType } from 'nats';
import type { JsMsg, KV, ObjectStore } from 'nats';
import type { NatsContext, KvWatch } from './connection.js';
import { START_BUDGET_MS, bytesOf, ensureStream, isCasConflict, jsonOf, kvEntries, openKv, openObjectStore, publishDurably, watchKv } from './connection.js';
import { token, untoken } from './names.js';

const STREAM = 'MODELFN_BATCH';
const subject = (job: string) => `modelfn.batch.${token(job)}`;
const consumer = (job: string) => `job-${token(job)}`;

/** What every node needs to work on a job's chunks. */
export interface BatchJobState {
  readonly id: string;
  readonly functionName: string;
  readonly qualifier?: string;
  readonly input: string;
  readonly format: 'csv' | 'jsonl';
  readonly outputFormat: 'csv' | 'jsonl';
  readonly chunkRows: number;
  readonly chunks: number;
  readonly rowsTotal: number;
  /** Chunks each node runs at once. */
  readonly concurrency: number;
}

/**
 * Batch-job chunks on JetStream: one message per chunk on a work-queue stream, with a durable
 * consumer per job that every node pulls from (a chunk is acknowledged only once its results are
 * stored; a node that dies gives its chunks back after the AckWait). Job state and the set of
 * finished chunks live in a KV bucket (the set grows by compare-and-set, so a chunk run twice is
 * counted once and exactly one node sees the set complete); chunk results in an object store.
 */
export class NatsBatchChunks {
  private constructor(
    private readonly ctx: NatsContext,
    private readonly kv: KV,
    private readonly os: ObjectStore,
    private readonly leaseMs: number,
  ) {}

  static async open(ctx: NatsContext, leaseMs: number): Promise<NatsBatchChunks> {
    await ensureStream(ctx, { name: STREAM, subjects: ['modelfn.batch.*'], retention: RetentionPolicy.Workqueue, storage: StorageType.File, num_replicas: ctx.replicas });
    const [kv, os] = await Promise.all([openKv(ctx, 'modelfn_batch'), openObjectStore(ctx, 'modelfn_batch_results')]);
    return new NatsBatchChunks(ctx, kv, os, leaseMs);
  }

  /** Publish a job's chunks (durable once resolved), then its state (which starts the workers). */
  async create(state: BatchJobState): Promise<void> {
    await this.ctx.jsm.consumers.add(STREAM, {
      durable_name: consumer(state.id),
      filter_subject: subject(state.id),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: this.leaseMs * 1_000_000,
      max_deliver: -1,
      max_ack_pending: 100_000,
    });
    for (let start = 0; start < state.chunks; start += 256) {
      const end = Math.min(state.chunks, start + 256);
      await Promise.all(Array.from({ length: end - start }, (_, i) => publishDurably(this.ctx, subject(state.id), Buffer.from(String(start + i)), { msgID: `${state.id}.${start + i}` })));
    }
    await this.kv.put(`job.${token(state.id)}`, bytesOf(state));
  }

  /** Active jobs now and as they come and go. */
  async watch(onJob: (state: BatchJobState) => void, onGone: (id: string) => void): Promise<KvWatch> {
    const w = await watchKv(this.kv, 'job.>', (e) => (e.operation === 'PUT' ? onJob(jsonOf<BatchJobState>(e.value)) : onGone(untoken(e.key.slice(4)))), this.ctx);
    for (const e of await kvEntries(this.kv, 'job.>', START_BUDGET_MS)) onJob(jsonOf<BatchJobState>(e.value));
    return w;
  }

  /** The next chunk of a job (waits up to waitMs), or undefined. */
  async next(id: string, waitMs: number): Promise<JsMsg | undefined> {
    for await (const m of this.ctx.js.fetch(STREAM, consumer(id), { batch: 1, expires: waitMs })) return m;
    return undefined;
  }

  /** Store a chunk's results and add it to the finished set; `completed` is true for the one call that finished the set. */
  async finishChunk(id: string, chunk: number, chunks: number, results: unknown[]): Promise<{ done: number; completed: boolean }> {
    await this.os.putBlob({ name: `${token(id)}/${chunk}` }, Buffer.from(JSON.stringify(results)));
    const key = `done.${token(id)}`;
    for (;;) {
      const entry = await this.kv.get(key);
      const done = entry && entry.operation === 'PUT' ? jsonOf<number[]>(entry.value) : [];
      if (done.includes(chunk)) return { done: done.length, completed: false };
      const next = [...done, chunk];
      try {
        if (entry && entry.operation === 'PUT') await this.kv.update(key, bytesOf(next), entry.revision);
        else await this.kv.create(key, bytesOf(next));
        return { done: next.length, completed: next.length === chunks };
      } catch (err) {
        if (!isCasConflict(err) && !/exists/i.test((err as Error).message)) throw err;
      }
    }
  }

  async doneCount(id: string): Promise<number> {
    const entry = await this.kv.get(`done.${token(id)}`);
    return entry && entry.operation === 'PUT' ? jsonOf<number[]>(entry.value).length : 0;
  }

  /** Every chunk's results, in chunk order. */
  async results(id: string, chunks: number): Promise<unknown[]> {
    const out: unknown[] = [];
    for (let i = 0; i < chunks; i++) {
      const bytes = await this.os.getBlob(`${token(id)}/${i}`);
      if (!bytes) throw new Error(`the results of chunk ${i + 1} of job ${id} are missing`);
      out.push(...jsonOf<unknown[]>(bytes));
    }
    return out;
  }

  /** The job is over: stop every node's workers and drop its chunks, state and results. */
  async remove(id: string, chunks: number): Promise<void> {
    await this.kv.delete(`job.${token(id)}`).catch(() => undefined);
    await this.ctx.jsm.consumers.delete(STREAM, consumer(id)).catch(() => undefined);
    await this.ctx.jsm.streams.purge(STREAM, { filter: subject(id) }).catch(() => undefined);
    for (let i = 0; i < chunks; i++) await this.os.delete(`${token(id)}/${i}`).catch(() => undefined);
    await this.kv.delete(`done.${token(id)}`).catch(() => undefined);
  }
}
