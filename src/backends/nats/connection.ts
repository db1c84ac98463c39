import { ErrorCode, KvWatchInclude, connect } from 'nats';
import type { JetStreamClient, JetStreamManager, JetStreamPublishOptions, PubAck, KV, KvEntry, NatsConnection, ObjectStore, QueuedIterator } from 'nats';

/** One node's connection to the NATS cluster, shared by every NATS backend of that node. */
export interface NatsContext {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  /** Replicas of every stream and bucket modelfn creates (1, or 3 on a 3-server NATS cluster). */
  readonly replicas: number;
}

export interface NatsConnectOptions {
  readonly servers: readonly string[];
  /** Shown in the server's connection list (modelfn-<node id>). */
  readonly name: string;
  readonly replicas: number;
  /** How long the first connection may take before start fails. */
  readonly timeoutMs?: number;
}

/**
 * Connect for good: the client reconnects forever (to any server of the list), resubscribes and
 * buffers publishes while the servers are away. `noEcho`: this connection never receives what it
 * published itself, so a node is never picked from its own invoke queue group (and local
 * notifications are delivered in process instead).
 */
export async function connectNats(options: NatsConnectOptions): Promise<NatsContext> {
  const nc = await connect({
    servers: [...options.servers],
    name: options.name,
    noEcho: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    pingInterval: 5_000,
    maxPingOut: 2,
    timeout: options.timeoutMs ?? 10_000,
  });
  // A JetStream call that gets no answer in 5 s fails (a leader election takes about 2 s).
  return { nc, js: nc.jetstream({ timeout: 5_000 }), jsm: await nc.jetstreamManager({ timeout: 5_000 }), replicas: options.replicas };
}

/** A KV bucket, created with these settings when it does not exist yet. */
export function openKv(ctx: NatsContext, bucket: string, options: { history?: number; ttlMs?: number; direct?: boolean } = {}): Promise<KV> {
  return ctx.js.views.kv(bucket, {
    replicas: ctx.replicas,
    history: options.history ?? 1,
    ...(options.ttlMs ? { ttl: options.ttlMs } : {}),
    // Direct gets may be answered by a replica that is behind; compare-and-set buckets read the leader.
    allow_direct: options.direct ?? false,
  });
}

export function openObjectStore(ctx: NatsContext, bucket: string): Promise<ObjectStore> {
  return ctx.js.views.os(bucket, { replicas: ctx.replicas });
}

/** Every live (not deleted) entry whose key matches `filter`. */
export async function kvEntries(kv: KV, filter: string): Promise<KvEntry[]> {
  const keys: string[] = [];
  for await (const key of await kv.keys(filter)) keys.push(key);
  const entries = await Promise.all(keys.map((k) => kv.get(k)));
  return entries.filter((e): e is KvEntry => e !== null && e.operation === 'PUT');
}

/** Stops a watch; `reopen` restarts it from the last revision seen (a watch that went quiet). */
export type KvWatch = (() => void) & { reopen(): void };

/**
 * Follow changes of the keys matching `filter` (made by any node) from now on. The watch is an
 * ordered consumer; it is opened again from the last revision it saw — so changes made meanwhile
 * are delivered, never lost — when it ends (the client could not recreate it), when the client
 * reconnects (a NATS server restart), and when a probe every `probeMs` finds a newer revision of a
 * matching key that the watch has not delivered since the previous probe (its consumer was lost
 * with a NATS server; the client's own stall detection takes several idle heartbeats).
 */
export async function watchKv(kv: KV, filter: string, onEntry: (entry: KvEntry) => void, ctx?: NatsContext, probeMs = 2000): Promise<KvWatch> {
  const status = await kv.status();
  let last = status.streamInfo.state.last_seq;
  let stopped = false;
  let iter: QueuedIterator<KvEntry> | undefined;
  const open = async (): Promise<QueuedIterator<KvEntry>> => {
    iter = await kv.watch({ key: filter, ...(last > 0 ? { resumeFromRevision: last + 1 } : { include: KvWatchInclude.UpdatesOnly }) });
    return iter;
  };
  const consume = async (it: QueuedIterator<KvEntry>): Promise<void> => {
    try {
      for await (const entry of it) {
        if (entry.revision <= last) continue;
        last = entry.revision;
        try {
          onEntry(entry);
        } catch {
          /* a listener's failure must not stop the watch */
        }
      }
    } catch {
      /* the watch failed: opened again below */
    }
  };
  let current = await open();
  void (async () => {
    for (;;) {
      await consume(current);
      for (let attempt = 0; !stopped; attempt++) {
        try {
          current = await open();
          break;
        } catch {
          await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
        }
      }
      if (stopped) return iter?.stop();
    }
  })();
  let probe: NodeJS.Timeout | undefined;
  if (ctx) {
    void (async () => {
      for await (const s of ctx.nc.status()) {
        if (stopped) return;
        if (s.type === 'reconnect') iter?.stop();
      }
    })().catch(() => undefined);
    const stream = status.streamInfo.config.name;
    // The revision the watch was at when a probe first found it behind; behind again without progress: reopen.
    let behindAt: number | undefined;
    probe = setInterval(() => {
      void ctx.jsm.streams.getMessage(stream, { last_by_subj: `$KV.${status.bucket}.${filter}` }).then(
        (m) => {
          if (m.seq <= last) behindAt = undefined;
          else if (behindAt !== last) behindAt = last;
          else {
            behindAt = undefined;
            if (!stopped) iter?.stop();
          }
        },
        () => undefined, // no matching key yet, or NATS away: nothing to compare
      );
    }, probeMs);
    probe.unref();
  }
  return Object.assign(
    () => {
      stopped = true;
      clearInterval(probe);
      iter?.stop();
    },
    { reopen: () => iter?.stop() },
  );
}

/**
 * A JetStream publish that rides out a NATS server restart or a leader election (see
 * `retryTransient`); callers that must not store a message twice pass a `msgID`, which the stream
 * deduplicates.
 */
export function publishDurably(ctx: NatsContext, subject: string, data: Uint8Array | undefined, options: Partial<JetStreamPublishOptions> = {}, budgetMs = 10_000): Promise<PubAck> {
  return retryTransient(ctx, () => ctx.js.publish(subject, data, options), budgetMs);
}

/**
 * Run an idempotent JetStream call until it succeeds, fails for good, or `budgetMs` has passed:
 * right after a reconnect the server answers "no responders" until it has recovered its streams,
 * and a call may time out while a new stream leader is chosen.
 */
export async function retryTransient<T>(ctx: NatsContext, call: () => Promise<T>, budgetMs = 10_000): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!isTransient(err) || Date.now() >= deadline || ctx.nc.isClosed()) throw err;
      await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
    }
  }
}

/** Errors that go away by themselves: no JetStream responder yet, a request timeout, a reconnect in progress. */
export function isTransient(err: unknown): boolean {
  const code = (err as { code?: string } | undefined)?.code;
  return code === ErrorCode.NoResponders || code === ErrorCode.Timeout || code === ErrorCode.JetStream408RequestTimeout || code === ErrorCode.Disconnect;
}

/** The JetStream API error code ("wrong last sequence" and friends) of a failed call. */
export function apiErrorCode(err: unknown): number | undefined {
  const api = (err as { api_error?: { err_code?: number } } | undefined)?.api_error;
  return api?.err_code;
}

/** A compare-and-set that lost: the key changed (or exists) since it was read. */
export function isCasConflict(err: unknown): boolean {
  const code = apiErrorCode(err);
  if (code === 10071) return true; // wrong last sequence
  return err instanceof Error && /wrong last sequence|last sequence mismatch/i.test(err.message);
}

/**
 * The servers' max_payload; `nc.info` is unset while the client reconnects, so the last known
 * value is kept (1 MB, the server default, before the first).
 */
export function maxPayload(nc: NatsConnection): number {
  const known = nc.info?.max_payload;
  if (known) lastMaxPayload.set(nc, known);
  return known ?? lastMaxPayload.get(nc) ?? 1024 * 1024;
}
const lastMaxPayload = new WeakMap<NatsConnection, number>();

export const textOf = (data: Uint8Array): string => Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
export const jsonOf = <T>(data: Uint8Array): T => JSON.parse(textOf(data)) as T;
export const bytesOf = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value));
