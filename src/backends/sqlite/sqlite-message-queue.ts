import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Statement } from 'better-sqlite3';
import type { Clock } from '../../shared/clock.js';
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
import type { EventsDatabase } from './events-database.js';

interface MessageRow {
  seq: number;
  id: string;
  body: Buffer;
  attributes: string | null;
  sent_at: number;
  receive_count: number;
  first_received_at: number | null;
}

interface QueueRow {
  name: string;
  config: string;
  created_at: number;
}

/**
 * The embedded queue: one `messages` table for every queue. A receive leases rows by writing a
 * fresh lease token and a new visible_at; ack deletes the row only while the token still matches.
 */
export class SqliteMessageQueue implements MessageQueue {
  private readonly events = new EventEmitter();
  private readonly configs = new Map<string, QueueInfo>();
  private readonly stmt: {
    upsertQueue: Statement<[string, string, number]>;
    listQueues: Statement<[], QueueRow>;
    deleteQueue: Statement<[string]>;
    deleteMessagesOf: Statement<[string]>;
    insert: Statement<[string, string, Buffer, string | null, number, number]>;
    ready: Statement<[string, number, number], MessageRow>;
    lease: Statement<[number, string, number, number]>;
    move: Statement<[string, number, number]>;
    ack: Statement<[number, string, string]>;
    nak: Statement<[number, number, string, string]>;
    peek: Statement<[string, number], MessageRow>;
    counts: Statement<[number, number, number, string], { visible: number; in_flight: number; delayed: number }>;
    next: Statement<[string], { next: number | null }>;
    purge: Statement<[string]>;
    sweep: Statement<[string, number]>;
  };

  constructor(
    private readonly database: EventsDatabase,
    private readonly clock: Clock,
  ) {
    const db = database.db;
    this.stmt = {
      upsertQueue: db.prepare('INSERT INTO queues (name, config, created_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET config = excluded.config'),
      listQueues: db.prepare('SELECT name, config, created_at FROM queues ORDER BY name'),
      deleteQueue: db.prepare('DELETE FROM queues WHERE name = ?'),
      deleteMessagesOf: db.prepare('DELETE FROM messages WHERE queue = ?'),
      insert: db.prepare('INSERT INTO messages (queue, id, body, attributes, sent_at, visible_at) VALUES (?, ?, ?, ?, ?, ?)'),
      ready: db.prepare(
        'SELECT seq, id, body, attributes, sent_at, receive_count, first_received_at FROM messages WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, seq LIMIT ?',
      ),
      lease: db.prepare('UPDATE messages SET visible_at = ?, lease = ?, receive_count = receive_count + 1, first_received_at = COALESCE(first_received_at, ?) WHERE seq = ?'),
      move: db.prepare('UPDATE messages SET queue = ?, visible_at = ?, lease = NULL, receive_count = 0, first_received_at = NULL WHERE seq = ?'),
      ack: db.prepare('DELETE FROM messages WHERE seq = ? AND lease = ? AND queue = ?'),
      nak: db.prepare('UPDATE messages SET visible_at = ?, lease = NULL WHERE seq = ? AND lease = ? AND queue = ?'),
      peek: db.prepare(
        'SELECT seq, id, body, attributes, sent_at, receive_count, first_received_at FROM messages WHERE queue = ? AND lease IS NULL ORDER BY visible_at, seq LIMIT ?',
      ),
      counts: db.prepare(
        `SELECT COALESCE(SUM(visible_at <= ?), 0) AS visible,
                COALESCE(SUM(visible_at > ? AND lease IS NOT NULL), 0) AS in_flight,
                COALESCE(SUM(visible_at > ? AND lease IS NULL), 0) AS delayed
         FROM messages WHERE queue = ?`,
      ),
      next: db.prepare('SELECT MIN(visible_at) AS next FROM messages WHERE queue = ?'),
      purge: db.prepare('DELETE FROM messages WHERE queue = ?'),
      sweep: db.prepare('DELETE FROM messages WHERE queue = ? AND sent_at < ?'),
    };
    for (const row of this.stmt.listQueues.all()) this.configs.set(row.name, toInfo(row));
    this.events.setMaxListeners(0);
  }

  /**
   * After a crash nothing of this process is still working on a leased message: make the leases
   * of queues whose consumer is the platform itself (async events) visible at once instead of
   * waiting out their visibility timeout. Only valid while holding the data-directory lock.
   */
  async releaseLeases(queuePrefix: string): Promise<number> {
    return this.database.run(
      () =>
        this.database.db
          .prepare("UPDATE messages SET visible_at = ?, lease = NULL WHERE lease IS NOT NULL AND substr(queue, 1, length(?)) = ?")
          .run(this.clock.now(), queuePrefix, queuePrefix).changes,
    );
  }

  async putQueue(name: string, config: QueueConfig): Promise<QueueInfo> {
    return this.database.run(() => {
      const existing = this.configs.get(name);
      const info: QueueInfo = { name, config, createdAt: existing?.createdAt ?? this.clock.now() };
      this.stmt.upsertQueue.run(name, JSON.stringify(config), info.createdAt);
      this.configs.set(name, info);
      return info;
    });
  }

  async getQueue(name: string): Promise<QueueInfo | undefined> {
    return this.configs.get(name);
  }

  async listQueues(prefix = ''): Promise<QueueInfo[]> {
    return [...this.configs.values()].filter((q) => q.name.startsWith(prefix)).sort((a, b) => a.name.localeCompare(b.name));
  }

  async deleteQueue(name: string): Promise<boolean> {
    return this.database.run(() => {
      if (!this.configs.has(name)) return false;
      this.stmt.deleteMessagesOf.run(name);
      this.stmt.deleteQueue.run(name);
      this.configs.delete(name);
      return true;
    });
  }

  async send(queue: string, messages: readonly OutgoingMessage[]): Promise<SentMessage[]> {
    const info = this.mustGet(queue);
    const sent = await this.database.run(() => {
      const now = this.clock.now();
      return messages.map((m) => {
        const messageId = randomUUID();
        const attrs = m.attributes && Object.keys(m.attributes).length > 0 ? JSON.stringify(m.attributes) : null;
        this.stmt.insert.run(queue, messageId, m.body, attrs, now, now + (m.delayMs ?? info.config.delayMs));
        return { messageId, sentAt: now };
      });
    });
    this.events.emit('sent', queue);
    return sent;
  }

  async receive(queue: string, options: ReceiveOptions): Promise<ReceivedMessage[]> {
    const info = this.mustGet(queue);
    const visibility = options.visibilityTimeoutMs ?? info.config.visibilityTimeoutMs;
    let moved = false;
    const received = await this.database.run(() => {
      const now = this.clock.now();
      const out: ReceivedMessage[] = [];
      const { maxReceiveCount, deadLetterQueue } = info.config;
      const redrive = maxReceiveCount !== undefined && deadLetterQueue !== undefined && this.configs.has(deadLetterQueue);
      while (out.length < options.maxMessages) {
        const rows = this.stmt.ready.all(queue, now, options.maxMessages - out.length);
        if (rows.length === 0) break;
        for (const row of rows) {
          if (redrive && row.receive_count >= maxReceiveCount!) {
            this.stmt.move.run(deadLetterQueue!, now, row.seq);
            moved = true;
            continue;
          }
          const token = randomBytes(8).toString('hex');
          this.stmt.lease.run(now + visibility, token, now, row.seq);
          out.push({ ...toStored(row, row.receive_count + 1, row.first_received_at ?? now), receiptHandle: `${row.seq}.${token}` });
        }
      }
      return out;
    });
    if (moved) this.events.emit('sent', info.config.deadLetterQueue!);
    return received;
  }

  async ack(queue: string, receiptHandle: string): Promise<boolean> {
    this.mustGet(queue);
    const receipt = parseReceipt(receiptHandle);
    if (!receipt) return false;
    return this.database.run(() => this.stmt.ack.run(receipt.seq, receipt.token, queue).changes === 1);
  }

  async nak(queue: string, receiptHandle: string, delayMs: number): Promise<boolean> {
    this.mustGet(queue);
    const receipt = parseReceipt(receiptHandle);
    if (!receipt) return false;
    const changed = await this.database.run(() => this.stmt.nak.run(this.clock.now() + Math.max(0, delayMs), receipt.seq, receipt.token, queue).changes === 1);
    if (changed) this.events.emit('sent', queue);
    return changed;
  }

  async peek(queue: string, maxMessages: number): Promise<StoredMessage[]> {
    this.mustGet(queue);
    return this.database.run(() => this.stmt.peek.all(queue, maxMessages).map((row) => toStored(row, row.receive_count, row.first_received_at ?? undefined)));
  }

  async depth(queue: string): Promise<QueueDepth> {
    this.mustGet(queue);
    return this.database.run(() => {
      const now = this.clock.now();
      const c = this.stmt.counts.get(now, now, now, queue)!;
      return { visible: c.visible, inFlight: c.in_flight, delayed: c.delayed };
    });
  }

  async nextVisibleAt(queue: string): Promise<number | undefined> {
    if (!this.configs.has(queue)) return undefined;
    return this.database.run(() => this.stmt.next.get(queue)?.next ?? undefined);
  }

  async purge(queue: string): Promise<number> {
    this.mustGet(queue);
    return this.database.run(() => this.stmt.purge.run(queue).changes);
  }

  async sweep(now: number): Promise<number> {
    const queues = [...this.configs.values()].filter((q) => q.config.retentionMs > 0);
    if (queues.length === 0) return 0;
    return this.database.run(() => queues.reduce((n, q) => n + this.stmt.sweep.run(q.name, now - q.config.retentionMs).changes, 0));
  }

  watch(listener: (queue: string) => void): () => void {
    this.events.on('sent', listener);
    return () => this.events.off('sent', listener);
  }

  async close(): Promise<void> {
    this.events.removeAllListeners();
  }

  private mustGet(name: string): QueueInfo {
    const info = this.configs.get(name);
    if (!info) throw new ModelfnError('RESOURCE_NOT_FOUND', `queue ${name} does not exist`);
    return info;
  }
}

function toInfo(row: QueueRow): QueueInfo {
  return { name: row.name, config: JSON.parse(row.config) as QueueConfig, createdAt: row.created_at };
}

function toStored(row: MessageRow, receiveCount: number, firstReceivedAt: number | undefined): StoredMessage {
  return {
    messageId: row.id,
    body: row.body,
    attributes: row.attributes ? (JSON.parse(row.attributes) as Record<string, string>) : {},
    sentAt: row.sent_at,
    receiveCount,
    firstReceivedAt,
  };
}

function parseReceipt(handle: string): { seq: number; token: string } | undefined {
  const m = /^(\d+)\.([0-9a-f]{16})$/.exec(handle);
  return m ? { seq: Number(m[1]), token: m[2]! } : undefined;
}
