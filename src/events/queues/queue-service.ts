import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { AccountContext } from '../../registry/arn.js';
import { ModelfnError } from '../../shared/errors.js';
import { DEFAULT_TENANT, canAccessTenant, currentPrincipal } from '../../auth/principal-context.js';
import { parseOrThrow } from '../../shared/validation.js';
import type { MessageQueue, QueueConfig, QueueInfo, ReceivedMessage, StoredMessage } from '../queue.js';
import { ASYNC_QUEUE_PREFIX, QUEUE_NAME_PATTERN, isQueueArn, queueArn, queueNameFromArn, queueNameSchema } from './queue-names.js';

const int = (min: number, max: number, unit: string) =>
  z
    .number({ message: `must be a number of ${unit}` })
    .int({ message: `must be a whole number of ${unit}` })
    .min(min, { message: `must be between ${min} and ${max} ${unit}` })
    .max(max, { message: `must be between ${min} and ${max} ${unit}` });

/** User queue settings, SQS's names and ranges. */
export const queueSettingsSchema = z
  .object({
    visibilityTimeoutSec: int(0, 43_200, 'seconds').default(30),
    retentionSec: int(60, 1_209_600, 'seconds').default(345_600),
    delaySec: int(0, 900, 'seconds').default(0),
    /** Redrive policy: the dead-letter queue (name or ARN) and after how many receives. */
    deadLetterQueue: z.string().max(256).nullable().optional(),
    maxReceiveCount: int(1, 1000, 'receives').nullable().optional(),
  })
  .strict()
  .refine((s) => (s.deadLetterQueue ? s.maxReceiveCount : true), { message: 'maxReceiveCount is required with deadLetterQueue', path: ['maxReceiveCount'] });

export const sendSchema = z
  .object({
    messages: z
      .array(
        z
          .object({
            body: z.string({ message: 'must be a string' }).min(1, { message: 'must not be empty' }).max(1024 * 1024),
            attributes: z.record(z.string().regex(/^[A-Za-z0-9_.-]{1,256}$/), z.string().max(65_536)).optional(),
            delaySec: int(0, 900, 'seconds').optional(),
          })
          .strict(),
      )
      .min(1, { message: 'send at least one message' })
      .max(10, { message: 'send at most 10 messages per request' }),
  })
  .strict();

export const receiveSchema = z
  .object({
    maxMessages: int(1, 10, 'messages').default(1),
    visibilityTimeoutSec: int(0, 43_200, 'seconds').optional(),
    waitTimeSec: int(0, 20, 'seconds').default(0),
  })
  .strict();

export interface QueueView {
  readonly name: string;
  readonly arn: string;
  readonly visibilityTimeoutSec: number;
  readonly retentionSec: number;
  readonly delaySec: number;
  readonly deadLetterQueue: string | null;
  readonly maxReceiveCount: number | null;
  readonly createdAt: string;
  readonly messages: number;
  readonly messagesInFlight: number;
  readonly messagesDelayed: number;
}

export interface MessageView {
  readonly messageId: string;
  readonly receiptHandle?: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly attributes: Record<string, string>;
  readonly sentAt: string;
  readonly receiveCount: number;
}

/** User queues over the MessageQueue: validation, SQS defaults, views. Internal queues stay hidden. */
export class QueueService {
  constructor(
    readonly queue: MessageQueue,
    private readonly account: AccountContext,
  ) {}

  arnOf(name: string): string {
    return queueArn(this.account, name);
  }

  /** A queue name or ARN as users give it; `field` names the parameter in errors. */
  resolveName(nameOrArn: string, field: string): string {
    const name = isQueueArn(nameOrArn) || nameOrArn.startsWith('arn:') ? queueNameFromArn(nameOrArn, this.account, field) : nameOrArn;
    if (!QUEUE_NAME_PATTERN.test(name)) throw new ModelfnError('INVALID_PARAMETER', `${field}: ${JSON.stringify(nameOrArn)} is not a queue name (1-80 letters, digits, - or _) or ARN`);
    return name;
  }

  async put(name: string, settings: unknown): Promise<QueueView> {
    parseOrThrow(queueNameSchema, name, 'queue name');
    const s = parseOrThrow(queueSettingsSchema, settings ?? {}, 'queue settings');
    const existing = await this.queue.getQueue(name);
    if (existing && !canAccessTenant(existing.config.tenant)) throw new ModelfnError('CONFLICT', `queue ${name} already exists`);
    let deadLetterQueue: string | undefined;
    if (s.deadLetterQueue) {
      deadLetterQueue = this.resolveName(s.deadLetterQueue, 'deadLetterQueue');
      if (deadLetterQueue === name) throw new ModelfnError('INVALID_PARAMETER', 'deadLetterQueue: a queue cannot be its own dead-letter queue');
      const dlq = await this.queue.getQueue(deadLetterQueue);
      if (!dlq || !canAccessTenant(dlq.config.tenant)) throw new ModelfnError('INVALID_PARAMETER', `deadLetterQueue: queue ${deadLetterQueue} does not exist; create it first`);
    }
    const config: QueueConfig = {
      visibilityTimeoutMs: s.visibilityTimeoutSec * 1000,
      retentionMs: s.retentionSec * 1000,
      delayMs: s.delaySec * 1000,
      ...(deadLetterQueue ? { deadLetterQueue, maxReceiveCount: s.maxReceiveCount! } : {}),
      tenant: existing?.config.tenant ?? currentPrincipal()?.tenant ?? DEFAULT_TENANT,
    };
    return this.view(await this.queue.putQueue(name, config));
  }

  async list(): Promise<QueueView[]> {
    const all = await this.queue.listQueues();
    return Promise.all(all.filter((q) => !q.name.startsWith(ASYNC_QUEUE_PREFIX) && canAccessTenant(q.config.tenant)).map((q) => this.view(q)));
  }

  async get(name: string): Promise<QueueView> {
    return this.view(await this.mustGet(name));
  }

  async remove(name: string): Promise<void> {
    await this.mustGet(name);
    await this.queue.deleteQueue(name);
  }

  async send(name: string, body: unknown): Promise<Array<{ messageId: string; md5OfBody: string }>> {
    await this.mustGet(name);
    const input = parseOrThrow(sendSchema, body, 'send request');
    const sent = await this.queue.send(
      name,
      input.messages.map((m) => ({ body: Buffer.from(m.body), ...(m.attributes ? { attributes: m.attributes } : {}), ...(m.delaySec !== undefined ? { delayMs: m.delaySec * 1000 } : {}) })),
    );
    return sent.map((s, i) => ({ messageId: s.messageId, md5OfBody: md5(input.messages[i]!.body) }));
  }

  /** Receive, waiting up to waitTimeSec for a message (long polling). */
  async receive(name: string, body: unknown, signal?: AbortSignal): Promise<MessageView[]> {
    await this.mustGet(name);
    const input = parseOrThrow(receiveSchema, body ?? {}, 'receive request');
    const options = { maxMessages: input.maxMessages, ...(input.visibilityTimeoutSec !== undefined ? { visibilityTimeoutMs: input.visibilityTimeoutSec * 1000 } : {}) };
    const deadline = Date.now() + input.waitTimeSec * 1000;
    for (;;) {
      const got = await this.queue.receive(name, options);
      if (got.length > 0 || Date.now() >= deadline || signal?.aborted) return got.map((m) => messageView(m));
      await waitForSend(this.queue, name, Math.min(1000, deadline - Date.now()));
    }
  }

  async deleteMessage(name: string, receiptHandle: string): Promise<boolean> {
    await this.mustGet(name);
    return this.queue.ack(name, receiptHandle);
  }

  async peek(name: string, max: number): Promise<MessageView[]> {
    await this.mustGet(name);
    return (await this.queue.peek(name, max)).map((m) => messageView(m));
  }

  async purge(name: string): Promise<number> {
    await this.mustGet(name);
    return this.queue.purge(name);
  }

  private async mustGet(name: string): Promise<QueueInfo> {
    const info = name.startsWith(ASYNC_QUEUE_PREFIX) ? undefined : await this.queue.getQueue(name);
    // Another tenant's queue does not exist for this caller.
    if (!info || !canAccessTenant(info.config.tenant)) throw new ModelfnError('RESOURCE_NOT_FOUND', `queue ${name} does not exist`);
    return info;
  }

  private async view(info: QueueInfo): Promise<QueueView> {
    const depth = await this.queue.depth(info.name);
    return {
      name: info.name,
      arn: this.arnOf(info.name),
      visibilityTimeoutSec: info.config.visibilityTimeoutMs / 1000,
      retentionSec: info.config.retentionMs / 1000,
      delaySec: info.config.delayMs / 1000,
      deadLetterQueue: info.config.deadLetterQueue ?? null,
      maxReceiveCount: info.config.maxReceiveCount ?? null,
      createdAt: new Date(info.createdAt).toISOString(),
      messages: depth.visible,
      messagesInFlight: depth.inFlight,
      messagesDelayed: depth.delayed,
    };
  }
}

export function md5(text: string | Buffer): string {
  return createHash('md5').update(text).digest('hex');
}

export function messageView(m: StoredMessage | ReceivedMessage): MessageView {
  const body = m.body.toString('utf8');
  return {
    messageId: m.messageId,
    ...('receiptHandle' in m ? { receiptHandle: m.receiptHandle } : {}),
    body,
    md5OfBody: md5(m.body),
    attributes: { ...m.attributes },
    sentAt: new Date(m.sentAt).toISOString(),
    receiveCount: m.receiveCount,
  };
}

/** Resolve when something is sent to `name` or after `ms`. */
export function waitForSend(queue: MessageQueue, name: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.max(0, ms));
    const stop = queue.watch((q) => {
      if (q === name) done();
    });
    function done() {
      clearTimeout(timer);
      stop();
      resolve();
    }
  });
}
