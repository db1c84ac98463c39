import { ErrorCode, KvWatchInclude, connect } from 'nats';
import { ModelfnError } from '../../shared/errors.js';
import type { ConsumerConfig, JetStreamClient, JetStreamManager, JetStreamPublishOptions, PubAck, KV, KvEntry, NatsConnection, ObjectStore, QueuedIterator, StreamConfig } from 'nats';

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
  // A JetStream call that gets no answer in 5 s fails (a leader election takes about 2 s). A node
  // started while JetStream elects its leaders waits for them instead of failing to start; one
  // whose server has no JetStream at all (no responders) fails at once.
  let jsm: JetStreamManager;
  try {
    jsm = await retryTransient({ nc }, () => nc.jetstreamManager({ timeout: 5_000 }), START_BUDGET_MS, isElectionOrTimeout);
  } catch (err) {
    await nc.close().catch(() => undefined);
    if ((err as { code?: string }).code === ErrorCode.NoResponders && apiErrorCode(err) === undefined) {
      throw new ModelfnError('INVALID_PARAMETER', `--cluster: the NATS server at ${nc.getServer()} has no JetStream; start nats-server with JetStream on (-js, or jetstream {} in its configuration)`);
    }
    throw err;
  }
  return { nc, js: nc.jetstream({ timeout: 5_000 }), jsm, replicas: options.replicas };
}

/**
 * How long each step of opening what a node needs (the JetStream API, streams, buckets, their
 * first reads, watches) rides out JetStream not being ready: a leader election, servers still
 * recovering their streams after a restart. A node started right after one of three NATS servers
 * was killed came up 16-47 s later (2 cores, four runs); before, it exited after 5.5 s.
 */
export const START_BUDGET_MS = 60_000;

/** How long a call that answers a request rides out the same (a client is waiting on it). */
export const CALL_BUDGET_MS = 10_000;

/** A KV bucket, created with these settings when it does not exist yet. */
export function openKv(ctx: NatsContext, bucket: string, options: { history?: number; ttlMs?: number; direct?: boolean } = {}): Promise<KV> {
  const settings = {
    replicas: ctx.replicas,
    history: options.history ?? 1,
    ...(options.ttlMs ? { ttl: options.ttlMs } : {}),
    // Direct gets may be answered by a replica that is behind; compare-and-set buckets read the leader.
    allow_direct: options.direct ?? false,
  };
  return retryTransient(ctx, () => ctx.js.views.kv(bucket, settings), START_BUDGET_MS);
}

export function openObjectStore(ctx: NatsContext, bucket: string): Promise<ObjectStore> {
  return retryTransient(ctx, () => ctx.js.views.os(bucket, { replicas: ctx.replicas }), START_BUDGET_MS);
}

/**
 * A stream, added with `config` when it does not exist yet (by this node, or by another one at the
 * same moment), riding out a leader election for `budgetMs` (a node's start, by default).
 */
export function ensureStream(ctx: NatsContext, config: Partial<StreamConfig> & { readonly name: string }, budgetMs = START_BUDGET_MS): Promise<void> {
  return retryTransient(ctx, async () => {
    try {
      await ctx.jsm.streams.info(config.name);
      return;
    } catch (err) {
      if (apiErrorCode(err) !== 10059 && !/stream not found/i.test((err as Error).message)) throw err;
    }
    try {
      await ctx.jsm.streams.add(config);
    } catch (err) {
      if (apiErrorCode(err) !== 10058) throw err; // stream name already in use: another node added it
    }
  }, budgetMs);
}

/** A durable consumer, added (or left as it is, when it exists with this configuration), riding out a leader election like ensureStream. */
export async function ensureConsumer(ctx: NatsContext, stream: string, config: Partial<ConsumerConfig>, budgetMs = START_BUDGET_MS): Promise<void> {
  await retryTransient(ctx, () => ctx.jsm.consumers.add(stream, config), budgetMs);
}

/**
 * Every live (not deleted) entry whose key matches `filter`. A read, so it is retried through a
 * leader election for `budgetMs`: CALL_BUDGET_MS for reads that answer an API call,
 * START_BUDGET_MS for those a starting node makes.
 */
export function kvEntries(kv: KV, filter: string, budgetMs = CALL_BUDGET_MS): Promise<KvEntry[]> {
  return retryTransient(undefined, async () => {
    const keys: string[] = [];
    for await (const key of await kv.keys(filter)) keys.push(key);
    const entries = await Promise.all(keys.map((k) => kv.get(k)));
    return entries.filter((e): e is KvEntry => e !== null && e.operation === 'PUT');
  }, budgetMs);
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
  // Opened at a node's start too, when JetStream may still be electing its leaders.
  const status = await retryTransient(ctx, () => kv.status(), START_BUDGET_MS);
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
  let current = await retryTransient(ctx, open, START_BUDGET_MS);
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
export function publishDurably(ctx: NatsContext, subject: string, data: Uint8Array | undefined, options: Partial<JetStreamPublishOptions> = {}, budgetMs = CALL_BUDGET_MS): Promise<PubAck> {
  return retryTransient(ctx, () => ctx.js.publish(subject, data, options), budgetMs);
}

/**
 * Run an idempotent JetStream call until it succeeds, fails for good, or `budgetMs` has passed:
 * right after a reconnect the server answers "no responders" until it has recovered its streams,
 * and a call may time out while a new stream leader is chosen.
 */
export async function retryTransient<T>(ctx: { readonly nc: NatsConnection } | undefined, call: () => Promise<T>, budgetMs = CALL_BUDGET_MS, retryable: (err: unknown) => boolean = isTransient): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!retryable(err) || Date.now() >= deadline || ctx?.nc.isClosed() === true) throw err;
      await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
    }
  }
}

/**
 * A leader election's errors (isTransient's API errors) and timeouts, and nothing else: a server
 * without JetStream (no responders, or its "not enabled" API error) is not waited for.
 */
export function isElectionOrTimeout(err: unknown): boolean {
  const api = apiErrorCode(err);
  if (api !== undefined) return ELECTION_ERRORS.has(api);
  const code = (err as { code?: string } | undefined)?.code;
  return code === ErrorCode.Timeout || code === ErrorCode.JetStream408RequestTimeout || code === ErrorCode.Disconnect;
}

/** JetStream API errors of a leader election: "temporarily unavailable", "cluster can not handle request". */
const ELECTION_ERRORS = new Set([10008, 10009]);

/**
 * Errors that go away by themselves: no JetStream responder yet, a request timeout, a reconnect in
 * progress, and the JetStream API's own "temporarily unavailable" (10008) and "cluster can not
 * handle request" (10009, no leader yet) of a leader election.
 */
export function isTransient(err: unknown): boolean {
  return (err as { code?: string } | undefined)?.code === ErrorCode.NoResponders || isElectionOrTimeout(err);
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
