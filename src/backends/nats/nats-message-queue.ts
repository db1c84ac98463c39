import type { JsMsg, KV, Subscription } from 'nats';
import { ModelfnError } from '../../shared/errors.js';
import type {
  MessageQueue,
  OutgoingMessage,
  QueueConfig,
  QueueDepth,
  QueueInfo,
  ReceiveOptions,
  ReceivedMessage,
  SentMessage,
  StoredMessage,
} from '../../events/queue.js';
import type { NatsContext } from './connection.js';
import { CALL_BUDGET_MS, START_BUDGET_MS, bytesOf, jsonOf, kvEntries, openKv, publishDurably, retryTransient, watchKv } from './connection.js';
import { NAMES, token, untoken } from './names.js';
import { QueueLeases } from './queue-leases.js';
import type { MessageMeta } from './queue-messages.js';
import { LATER, READY, ensureQueueStream, metaHeaders, metaOf, newMeta, storedOf } from './queue-messages.js';

export interface NatsQueueOptions {
  /** This node (receipts name the node holding a lease). */
  readonly nodeId: string;
  /** The consumers' AckWait: how soon a dead node's leased messages come back (default 30 s). */
  readonly leaseWindowMs?: number;
  readonly now?: () => number;
}

interface StoredConfig {
  readonly config: QueueConfig;
  readonly createdAt: number;
}

/**
 * The MessageQueue on JetStream, for every node of a cluster: one work-queue stream per queue
 * with a durable pull consumer shared by all nodes (a message is delivered to one node at a
 * time, deleted only when acknowledged, redelivered after a nak or the AckWait), queue settings in
 * a KV bucket, and a core-NATS subject that tells every node when a queue has new messages.
 * Messages sent with a delay wait on the queue's second subject and are moved to the ready one
 * when due by whichever node receives next. What JetStream cannot say per message (which
 * delivered messages wait for a nak delay) is known by the node that nak'ed them, so `depth` and
 * `nextVisibleAt` are exact on one node and approximate across nodes (SQS calls them approximate).
 */
export class NatsMessageQueue implements MessageQueue {
  private readonly configs = new Map<string, QueueInfo>();
  private readonly listeners = new Set<(queue: string) => void>();
  /** Messages this node put back with a delay: queue -> stream sequence -> visible again at. */
  private readonly delayed = new Map<string, Map<number, number>>();
  /** Delivery times of messages this node received first (ApproximateFirstReceiveTimestamp). */
  private readonly firstReceived = new Map<string, number>();
  private readonly leases: QueueLeases;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly timers = new Set<NodeJS.Timeout>();
  private sentSub: Subscription | undefined;
  private stopWatch: (() => void) | undefined;
  private closed = false;

  private constructor(
    private readonly ctx: NatsContext,
    private readonly kv: KV,
    options: NatsQueueOptions,
  ) {
    this.windowMs = options.leaseWindowMs ?? 30_000;
    this.now = options.now ?? Date.now;
    this.leases = new QueueLeases(ctx.nc, options.nodeId, this.windowMs, (queue, msg, delayMs) => this.putBack(queue, msg, delayMs));
  }

  static async open(ctx: NatsContext, options: NatsQueueOptions): Promise<NatsMessageQueue> {
    const kv = await openKv(ctx, NAMES.queueConfigBucket);
    const q = new NatsMessageQueue(ctx, kv, options);
    q.stopWatch = await watchKv(kv, '>', (e) => {
      const name = untoken(e.key);
      if (e.operation === 'PUT') q.configs.set(name, q.toInfo(name, jsonOf<StoredConfig>(e.value)));
      else q.configs.delete(name);
    }, ctx);
    for (const e of await kvEntries(kv, '>', START_BUDGET_MS)) q.configs.set(untoken(e.key), q.toInfo(untoken(e.key), jsonOf<StoredConfig>(e.value)));
    q.sentSub = ctx.nc.subscribe(NAMES.queueSent, { callback: (err, m) => !err && q.emit(Buffer.from(m.data).toString('utf8'), false) });
    q.leases.serve();
    return q;
  }

  async putQueue(name: string, config: QueueConfig): Promise<QueueInfo> {
    // Retried inside (each step rides out a leader election), for as long as an API call may wait.
    await ensureQueueStream(this.ctx, name, this.windowMs, CALL_BUDGET_MS);
    const existing = await retryTransient(this.ctx, () => this.kv.get(token(name)));
    const createdAt = existing?.operation === 'PUT' ? jsonOf<StoredConfig>(existing.value).createdAt : this.now();
    await retryTransient(this.ctx, () => this.kv.put(token(name), bytesOf({ config, createdAt } satisfies StoredConfig)));
    const info = this.toInfo(name, { config, createdAt });
    this.configs.set(name, info);
    return info;
  }

  async getQueue(name: string): Promise<QueueInfo | undefined> {
    const known = this.configs.get(name);
    if (known) return known;
    // Created by another node a moment ago (the config watch may not have arrived yet).
    const entry = await retryTransient(this.ctx, () => this.kv.get(token(name)));
    if (!entry || entry.operation !== 'PUT') return undefined;
    const info = this.toInfo(name, jsonOf<StoredConfig>(entry.value));
    this.configs.set(name, info);
    return info;
  }

  async listQueues(prefix = ''): Promise<QueueInfo[]> {
    const all = (await kvEntries(this.kv, '>')).map((e) => this.toInfo(untoken(e.key), jsonOf<StoredConfig>(e.value)));
    return all.filter((q) => q.name.startsWith(prefix)).sort((a, b) => a.name.localeCompare(b.name));
  }

  async deleteQueue(name: string): Promise<boolean> {
    if (!(await this.getQueue(name))) return false;
    this.leases.dropQueue(name);
    this.delayed.delete(name);
    await this.ctx.jsm.streams.delete(NAMES.queueStream(name)).catch(() => undefined);
    await this.kv.delete(token(name));
    this.configs.delete(name);
    return true;
  }

  async send(queue: string, messages: readonly OutgoingMessage[]): Promise<SentMessage[]> {
    const info = await this.mustGet(queue);
    const now = this.now();
    let ready = false;
    const sent = await Promise.all(
      messages.map(async (m) => {
        const delayMs = m.delayMs ?? info.config.delayMs;
        const meta = newMeta(m, now, delayMs);
        await publishDurably(this.ctx, NAMES.queueSubject(queue, delayMs > 0 ? 'later' : 'ready'), m.body, { headers: metaHeaders(meta), msgID: meta.messageId });
        if (delayMs > 0) this.wakeAt(queue, meta.visibleAt!);
        else ready = true;
        return { messageId: meta.messageId, sentAt: now };
      }),
    );
    if (ready) this.notify(queue);
    return sent;
  }

  async receive(queue: string, options: ReceiveOptions): Promise<ReceivedMessage[]> {
    const info = await this.mustGet(queue);
    await this.promote(queue);
    const visibility = options.visibilityTimeoutMs ?? info.config.visibilityTimeoutMs;
    const { maxReceiveCount, deadLetterQueue } = info.config;
    const dlq = maxReceiveCount !== undefined && deadLetterQueue !== undefined ? await this.getQueue(deadLetterQueue) : undefined;
    const out: Array<{ msg: JsMsg; meta: MessageMeta; visibleAt: number }> = [];
    const known = this.delayed.get(queue);
    for (;;) {
      const want = options.maxMessages - out.length;
      if (want <= 0) break;
      const batch = await this.fetch(queue, READY, want);
      let moved = 0;
      for (const msg of batch) {
        const meta = metaOf(msg.headers, `${msg.seq}`);
        const visibleAt = known?.get(msg.seq) ?? meta.sentAt;
        known?.delete(msg.seq);
        if (dlq && msg.info.deliveryCount > maxReceiveCount!) {
          // Received maxReceiveCount times and never acknowledged: to the dead-letter queue.
          await publishDurably(this.ctx, NAMES.queueSubject(dlq.name, 'ready'), msg.data, { headers: metaHeaders({ ...meta, visibleAt: undefined }), msgID: `${meta.messageId}.dlq` });
          await msg.ackAck();
          moved++;
          continue;
        }
        out.push({ msg, meta, visibleAt });
      }
      if (moved > 0) this.notify(dlq!.name);
      if (batch.length < want) break;
    }
    // Best-effort oldest-visible-first: JetStream hands out redeliveries before new messages.
    out.sort((a, b) => a.visibleAt - b.visibleAt || a.msg.seq - b.msg.seq);
    const now = this.now();
    return out.map(({ msg, meta }) => {
      const firstKey = `${queue}\u0000${meta.messageId}`;
      let first = this.firstReceived.get(firstKey);
      if (first === undefined && msg.info.deliveryCount === 1) {
        first = now;
        this.firstReceived.set(firstKey, now);
        if (this.firstReceived.size > 10_000) this.firstReceived.delete(this.firstReceived.keys().next().value!);
      }
      const receiptHandle = this.leases.add(queue, msg, visibility, now);
      return { ...storedOf(meta, msg.data, msg.info.deliveryCount, first), receiptHandle };
    });
  }

  async ack(queue: string, receiptHandle: string): Promise<boolean> {
    await this.mustGet(queue);
    return this.leases.settle(queue, receiptHandle, 'ack');
  }

  async nak(queue: string, receiptHandle: string, delayMs: number): Promise<boolean> {
    await this.mustGet(queue);
    return this.leases.settle(queue, receiptHandle, 'nak', Math.max(0, delayMs));
  }

  async peek(queue: string, maxMessages: number): Promise<StoredMessage[]> {
    await this.mustGet(queue);
    const stream = NAMES.queueStream(queue);
    const ready = await this.ctx.jsm.consumers.info(stream, READY);
    const known = this.delayed.get(queue) ?? new Map<number, number>();
    const found: Array<{ stored: StoredMessage; visibleAt: number; seq: number }> = [];
    for (const part of ['ready', 'later'] as const) {
      const subject = NAMES.queueSubject(queue, part);
      let seq = 1;
      while (found.length < maxMessages * 2) {
        let sm;
        try {
          sm = await this.ctx.jsm.streams.getMessage(stream, { seq, next_by_subj: subject } as unknown as { seq: number });
        } catch {
          break; // no more messages on this subject
        }
        seq = sm.seq + 1;
        const delivered = part === 'ready' && sm.seq <= ready.delivered.stream_seq;
        // Delivered ready messages are leased (not peekable) unless this node put them back with a delay.
        if (delivered && !known.has(sm.seq)) continue;
        const meta = metaOf(sm.header, `${sm.seq}`);
        found.push({ stored: storedOf(meta, sm.data, 0, undefined), visibleAt: known.get(sm.seq) ?? meta.visibleAt ?? meta.sentAt, seq: sm.seq });
      }
    }
    found.sort((a, b) => a.visibleAt - b.visibleAt || a.seq - b.seq);
    return found.slice(0, maxMessages).map((f) => f.stored);
  }

  async depth(queue: string): Promise<QueueDepth> {
    await this.mustGet(queue);
    const stream = NAMES.queueStream(queue);
    const [ready, later] = await Promise.all([this.ctx.jsm.consumers.info(stream, READY), this.ctx.jsm.consumers.info(stream, LATER)]);
    const now = this.now();
    const waiting = [...(this.delayed.get(queue)?.values() ?? [])].filter((at) => at > now).length;
    return {
      visible: ready.num_pending,
      inFlight: Math.max(0, ready.num_ack_pending - waiting),
      delayed: waiting + later.num_pending + later.num_ack_pending,
    };
  }

  async nextVisibleAt(queue: string): Promise<number | undefined> {
    if (!(await this.getQueue(queue))) return undefined;
    const stream = NAMES.queueStream(queue);
    const [ready, later] = await Promise.all([this.ctx.jsm.consumers.info(stream, READY), this.ctx.jsm.consumers.info(stream, LATER)]);
    const now = this.now();
    if (ready.num_pending > 0) return now;
    const times: number[] = [...(this.delayed.get(queue)?.values() ?? []), ...this.leases.expiriesOf(queue)];
    const knownHere = times.length;
    if (later.num_pending + later.num_ack_pending > 0) times.push(now + 1000);
    // Delivered and unacknowledged elsewhere (or waiting for a redelivery after a node died):
    // look again within the lease window.
    if (ready.num_ack_pending > knownHere) times.push(now + Math.min(this.windowMs, 5000));
    return times.length > 0 ? Math.min(...times) : undefined;
  }

  async purge(queue: string): Promise<number> {
    await this.mustGet(queue);
    this.leases.dropQueue(queue);
    this.delayed.delete(queue);
    return (await this.ctx.jsm.streams.purge(NAMES.queueStream(queue))).purged;
  }

  async sweep(now: number): Promise<number> {
    let removed = 0;
    for (const info of await this.listQueues()) {
      if (info.config.retentionMs <= 0) continue;
      const stream = NAMES.queueStream(info.name);
      const cutoff = now - info.config.retentionMs;
      let seq = 1;
      for (let scanned = 0; scanned < 10_000; scanned++) {
        let sm;
        try {
          sm = await this.ctx.jsm.streams.getMessage(stream, { seq, next_by_subj: `modelfn.q.${token(info.name)}.*` } as unknown as { seq: number });
        } catch {
          break;
        }
        seq = sm.seq + 1;
        // Messages are stored in the order they were sent: the first one young enough ends the scan.
        if (metaOf(sm.header, '').sentAt >= cutoff) break;
        if (await this.ctx.jsm.streams.deleteMessage(stream, sm.seq, false).catch(() => false)) removed++;
      }
    }
    return removed;
  }

  watch(listener: (queue: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopWatch?.();
    this.sentSub?.unsubscribe();
    this.leases.close();
    for (const t of this.timers) clearTimeout(t);
    this.listeners.clear();
  }

  private toInfo(name: string, stored: StoredConfig): QueueInfo {
    return { name, config: stored.config, createdAt: stored.createdAt };
  }

  private async mustGet(name: string): Promise<QueueInfo> {
    const info = await this.getQueue(name);
    if (!info) throw new ModelfnError('RESOURCE_NOT_FOUND', `queue ${name} does not exist`);
    return info;
  }

  private async fetch(queue: string, consumer: string, batch: number): Promise<JsMsg[]> {
    const out: JsMsg[] = [];
    for await (const m of this.ctx.js.fetch(NAMES.queueStream(queue), consumer, { batch: Math.min(batch, 256), no_wait: true })) out.push(m);
    return out;
  }

  /** Move delayed messages that are due to the ready subject; put the others back until due. */
  private async promote(queue: string): Promise<void> {
    const now = this.now();
    let moved = false;
    for (const msg of await this.fetch(queue, LATER, 256)) {
      const meta = metaOf(msg.headers, `${msg.seq}`);
      const due = meta.visibleAt ?? 0;
      if (due > now) {
        msg.nak(due - now);
        continue;
      }
      // The same message id: a second promotion of one message (a crash between publish and ack) is dropped as a duplicate.
      await publishDurably(this.ctx, NAMES.queueSubject(queue, 'ready'), msg.data, { headers: metaHeaders({ ...meta, visibleAt: undefined }), msgID: `${meta.messageId}.due` });
      await msg.ackAck();
      moved = true;
    }
    if (moved) this.notify(queue);
  }

  private putBack(queue: string, msg: JsMsg, delayMs: number): void {
    if (delayMs <= 0) {
      this.notify(queue);
      return;
    }
    let known = this.delayed.get(queue);
    if (!known) this.delayed.set(queue, (known = new Map()));
    known.set(msg.seq, this.now() + delayMs);
    this.wakeAt(queue, this.now() + delayMs);
  }

  /** Wake this node's consumers of a queue when a delay runs out. */
  private wakeAt(queue: string, at: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.emit(queue, false);
    }, Math.max(0, at - this.now()) + 5);
    timer.unref();
    this.timers.add(timer);
  }

  /** Messages became visible: wake consumers here and on every other node. */
  private notify(queue: string): void {
    this.emit(queue, true);
  }

  private emit(queue: string, broadcast: boolean): void {
    if (broadcast) this.ctx.nc.publish(NAMES.queueSent, Buffer.from(queue));
    for (const listener of this.listeners) listener(queue);
  }
}
