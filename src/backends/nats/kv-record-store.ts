import type { KV } from 'nats';
import type { InvocationRecord, InvocationRecordStore, RecordPatch, RecordQuery } from '../../events/records.js';
import type { NatsContext } from './connection.js';
import { bytesOf, isCasConflict, jsonOf, kvEntries, openKv } from './connection.js';
import { NAMES, token } from './names.js';

export interface NatsRecordOptions {
  /** Records not written for this long are dropped by the server (a backstop for prune). */
  readonly ttlMs?: number;
  readonly now?: () => number;
  /** Scan for finished records at most this often (default an hour). */
  readonly pruneEveryMs?: number;
}

/**
 * Invocation records in a KV bucket, one key per record: <function>.<id>, so one function's
 * records are listed with a subject filter. Updates are compare-and-set (any node may update a
 * record: the node running an event, a node answering the API), and one node's updates of one
 * record are applied in the order they were issued, as the SQLite store's group commit does.
 */
export class NatsRecordStore implements InvocationRecordStore {
  /** Record id -> key (the function part is not in the id). */
  private readonly keys = new Map<string, string>();
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly now: () => number;
  private readonly pruneEveryMs: number;
  private lastPrune = Number.NEGATIVE_INFINITY;

  private constructor(
    private readonly kv: KV,
    options: NatsRecordOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.pruneEveryMs = options.pruneEveryMs ?? 3_600_000;
  }

  static async open(ctx: NatsContext, options: NatsRecordOptions = {}): Promise<NatsRecordStore> {
    return new NatsRecordStore(await openKv(ctx, NAMES.recordBucket, { ...(options.ttlMs ? { ttlMs: options.ttlMs } : {}) }), options);
  }

  async create(record: InvocationRecord): Promise<void> {
    const key = `${token(record.functionName)}.${token(record.id)}`;
    this.remember(record.id, key);
    await this.serial(record.id, () => this.kv.put(key, bytesOf(record)));
  }

  update(id: string, patch: RecordPatch): Promise<boolean> {
    return this.updateIf(id, () => true, patch);
  }

  /**
   * Apply a patch only while `condition` holds for the stored record, checked and written in one
   * compare-and-set (a batch job's progress never overwrites its final state written by another node).
   */
  updateIf(id: string, condition: (current: InvocationRecord) => boolean, patch: RecordPatch): Promise<boolean> {
    return this.serial(id, async () => {
      for (let attempt = 0; attempt < 20; attempt++) {
        const key = await this.keyOf(id);
        const entry = key ? await this.kv.get(key) : null;
        if (!key || !entry || entry.operation !== 'PUT') return false;
        const current = jsonOf<InvocationRecord>(entry.value);
        if (!condition(current)) return false;
        const next: InvocationRecord = { ...current, ...patch, updatedAt: this.now() };
        try {
          await this.kv.update(key, bytesOf(next), entry.revision);
          return true;
        } catch (err) {
          if (!isCasConflict(err)) throw err;
        }
      }
      throw new Error(`record ${id} keeps changing; update abandoned`);
    });
  }

  async get(id: string): Promise<InvocationRecord | undefined> {
    const key = await this.keyOf(id);
    const entry = key ? await this.kv.get(key) : null;
    return entry && entry.operation === 'PUT' ? jsonOf<InvocationRecord>(entry.value) : undefined;
  }

  async list(query: RecordQuery): Promise<InvocationRecord[]> {
    const entries = await kvEntries(this.kv, query.functionName !== undefined ? `${token(query.functionName)}.*` : '>');
    return entries
      .map((e) => jsonOf<InvocationRecord>(e.value))
      .filter((r) => (query.kind === undefined || r.kind === query.kind) && (query.status === undefined || r.status === query.status) && (query.before === undefined || r.acceptedAt < query.before))
      .sort((a, b) => b.acceptedAt - a.acceptedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .slice(0, query.limit);
  }

  /**
   * Every node's housekeeping calls this each minute; a scan reads every record, so it runs at
   * most every `pruneEveryMs` per node (the bucket's max age is the backstop in between).
   */
  async prune(finishedBefore: number): Promise<number> {
    const now = this.now();
    if (now - this.lastPrune < this.pruneEveryMs) return 0;
    this.lastPrune = now;
    let removed = 0;
    for (const e of await kvEntries(this.kv, '>')) {
      const r = jsonOf<InvocationRecord>(e.value);
      if ((r.status === 'succeeded' || r.status === 'failed') && r.finishedAt !== null && r.finishedAt < finishedBefore) {
        await this.kv.purge(e.key, { previousSeq: e.revision }).then(
          () => removed++,
          () => undefined, // updated meanwhile: not finished after all
        );
        this.keys.delete(r.id);
      }
    }
    return removed;
  }

  private async keyOf(id: string): Promise<string | undefined> {
    const known = this.keys.get(id);
    if (known) return known;
    for await (const key of await this.kv.keys(`*.${token(id)}`)) {
      this.remember(id, key);
      return key;
    }
    return undefined;
  }

  private remember(id: string, key: string): void {
    this.keys.set(id, key);
    if (this.keys.size > 50_000) this.keys.delete(this.keys.keys().next().value!);
  }

  /** Run one record's writes one after another, in the order they were issued. */
  private serial<T>(id: string, op: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(id) ?? Promise.resolve();
    const next = previous.then(op, op);
    const settled = next.catch(() => undefined);
    this.chains.set(id, settled);
    void settled.then(() => {
      if (this.chains.get(id) === settled) this.chains.delete(id);
    });
    return next;
  }
}
