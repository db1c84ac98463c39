import { randomUUID } from 'node:crypto';
import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType, headers } from 'nats';
import type { MsgHdrs } from 'nats';
import type { OutgoingMessage, StoredMessage } from '../../events/queue.js';
import type { NatsContext } from './connection.js';
import { ensureConsumer, ensureStream } from './connection.js';
import { NAMES } from './names.js';

/** Consumer names of a queue stream: ready messages, and messages sent with a delay. */
export const READY = 'ready';
export const LATER = 'later';

/**
 * A queue's stream and consumers, created when missing (idempotent, from any node): a work-queue
 * stream (a message is deleted when acknowledged) with two subjects, and one durable pull
 * consumer per subject whose AckWait is the lease window: a message leased by a node that dies
 * comes back to every other node after at most that long.
 */
export async function ensureQueueStream(ctx: NatsContext, queue: string, leaseWindowMs: number, budgetMs: number): Promise<void> {
  const stream = NAMES.queueStream(queue);
  await ensureStream(ctx, {
    name: stream,
    subjects: [NAMES.queueSubject(queue, 'ready'), NAMES.queueSubject(queue, 'later')],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    num_replicas: ctx.replicas,
    duplicate_window: 120_000_000_000,
  }, budgetMs);
  for (const [name, part] of [[READY, 'ready'], [LATER, 'later']] as const) {
    await ensureConsumer(ctx, stream, {
      durable_name: name,
      filter_subject: NAMES.queueSubject(queue, part),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: leaseWindowMs * 1_000_000,
      max_deliver: -1,
      max_ack_pending: 100_000,
    }, budgetMs);
  }
}

/** What a queue message carries besides its body (headers; attribute text is URI-encoded JSON). */
export interface MessageMeta {
  readonly messageId: string;
  readonly sentAt: number;
  readonly attributes: Readonly<Record<string, string>>;
  /** When a delayed message becomes visible (later subject only). */
  readonly visibleAt?: number;
}

export function newMeta(m: OutgoingMessage, now: number, delayMs: number): MessageMeta {
  return { messageId: randomUUID(), sentAt: now, attributes: m.attributes ?? {}, ...(delayMs > 0 ? { visibleAt: now + delayMs } : {}) };
}

export function metaHeaders(meta: MessageMeta): MsgHdrs {
  const h = headers();
  h.set('Modelfn-Id', meta.messageId);
  h.set('Modelfn-Sent-At', String(meta.sentAt));
  if (Object.keys(meta.attributes).length > 0) h.set('Modelfn-Attrs', encodeURIComponent(JSON.stringify(meta.attributes)));
  if (meta.visibleAt !== undefined) h.set('Modelfn-Visible-At', String(meta.visibleAt));
  return h;
}

export function metaOf(h: MsgHdrs | undefined, fallbackId: string): MessageMeta {
  const attrs = h?.get('Modelfn-Attrs');
  const visible = h?.get('Modelfn-Visible-At');
  return {
    messageId: h?.get('Modelfn-Id') || fallbackId,
    sentAt: Number(h?.get('Modelfn-Sent-At') || 0),
    attributes: attrs ? (JSON.parse(decodeURIComponent(attrs)) as Record<string, string>) : {},
    ...(visible ? { visibleAt: Number(visible) } : {}),
  };
}

export function storedOf(meta: MessageMeta, body: Uint8Array, receiveCount: number, firstReceivedAt: number | undefined): StoredMessage {
  return {
    messageId: meta.messageId,
    body: Buffer.from(body.buffer, body.byteOffset, body.byteLength),
    attributes: meta.attributes,
    sentAt: meta.sentAt,
    receiveCount,
    firstReceivedAt,
  };
}
