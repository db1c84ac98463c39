/**
 * The durable message queue behind every event-driven feature: async invocations (one internal
 * queue per function), user queues (SQS-like), dead-letter queues and destinations. Embedded:
 * SQLite (`src/backends/sqlite/sqlite-message-queue.ts`); cluster: a JetStream work-queue stream
 * per queue with one durable consumer (AckWait = visibility timeout, Nak with delay, MaxDeliver).
 *
 * Semantics every backend must keep (`test/unit/events/queue-contract.ts` checks them):
 * - `send` resolves only once the messages are durable (a crash right after loses nothing).
 * - `receive` leases messages: they stay invisible for the visibility timeout and come back
 *   (with a higher receive count) unless acknowledged. Nothing is removed before `ack`.
 * - `nak` makes a leased message visible again after a delay (a retry later, not a loss).
 * - A receipt is valid only for the lease that produced it: after a redelivery, the old receipt
 *   no longer acknowledges anything.
 * - A queue with a redrive policy moves a message that was received `maxReceiveCount` times to its
 *   dead-letter queue instead of delivering it again, so a poisoned message never blocks a queue.
 * - Order: oldest visible first (best effort, like an SQS standard queue); a message put back with
 *   a delay goes behind the others.
 */

export interface QueueConfig {
  /** How long a received message stays invisible unless acknowledged (SQS VisibilityTimeout). */
  readonly visibilityTimeoutMs: number;
  /** Messages older than this are dropped (SQS MessageRetentionPeriod); 0 keeps them forever. */
  readonly retentionMs: number;
  /** New messages become visible after this delay (SQS DelaySeconds). */
  readonly delayMs: number;
  /** Redrive policy: after this many receives a message moves to `deadLetterQueue`. */
  readonly maxReceiveCount?: number;
  readonly deadLetterQueue?: string;
  /** The tenant owning the queue; absent means "default" (queue names are platform-wide). */
  readonly tenant?: string;
}

export interface QueueInfo {
  readonly name: string;
  readonly config: QueueConfig;
  readonly createdAt: number;
}

export interface QueueDepth {
  /** Visible now (SQS ApproximateNumberOfMessages). */
  readonly visible: number;
  /** Received and not yet acknowledged (ApproximateNumberOfMessagesNotVisible). */
  readonly inFlight: number;
  /** Waiting for their delay (ApproximateNumberOfMessagesDelayed). */
  readonly delayed: number;
}

export interface OutgoingMessage {
  readonly body: Buffer;
  /** String attributes (SQS message attributes; internal queues keep their metadata here). */
  readonly attributes?: Readonly<Record<string, string>>;
  /** Overrides the queue's delay for this message. */
  readonly delayMs?: number;
}

export interface SentMessage {
  readonly messageId: string;
  readonly sentAt: number;
}

export interface StoredMessage {
  readonly messageId: string;
  readonly body: Buffer;
  readonly attributes: Readonly<Record<string, string>>;
  readonly sentAt: number;
  /** How many times it has been received, this receive included. */
  readonly receiveCount: number;
  readonly firstReceivedAt: number | undefined;
}

export interface ReceivedMessage extends StoredMessage {
  /** Acknowledges (deletes) or naks this delivery; invalid after the lease runs out and it is received again. */
  readonly receiptHandle: string;
}

export interface ReceiveOptions {
  readonly maxMessages: number;
  /** Overrides the queue's visibility timeout for this receive. */
  readonly visibilityTimeoutMs?: number;
}

export interface MessageQueue {
  /** Create a queue, or update its configuration when it exists. */
  putQueue(name: string, config: QueueConfig): Promise<QueueInfo>;
  getQueue(name: string): Promise<QueueInfo | undefined>;
  listQueues(prefix?: string): Promise<QueueInfo[]>;
  /** Delete a queue and its messages; false when it did not exist. */
  deleteQueue(name: string): Promise<boolean>;
  /** Durable once resolved. Throws ModelfnError RESOURCE_NOT_FOUND for an unknown queue. */
  send(queue: string, messages: readonly OutgoingMessage[]): Promise<SentMessage[]>;
  receive(queue: string, options: ReceiveOptions): Promise<ReceivedMessage[]>;
  /** Done with a message: remove it. False when the receipt is stale (the message was redelivered) or unknown. */
  ack(queue: string, receiptHandle: string): Promise<boolean>;
  /** Not done: visible again after delayMs (0 = now). False when the receipt is stale. */
  nak(queue: string, receiptHandle: string, delayMs: number): Promise<boolean>;
  /** Read visible and delayed messages without leasing them (dead-letter inspection). */
  peek(queue: string, maxMessages: number): Promise<StoredMessage[]>;
  depth(queue: string): Promise<QueueDepth>;
  /** When the next message becomes visible (ms epoch), or undefined when none is waiting or leased. */
  nextVisibleAt(queue: string): Promise<number | undefined>;
  /** Remove every message; returns how many. */
  purge(queue: string): Promise<number>;
  /** Drop messages past their queue's retention; returns how many. */
  sweep(now: number): Promise<number>;
  /** Called after messages were sent to a queue (by this node; a cluster backend: by any node). */
  watch(listener: (queue: string) => void): () => void;
  close(): Promise<void>;
}
