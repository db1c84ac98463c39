import { randomBytes } from 'node:crypto';
import type { JsMsg, NatsConnection, Subscription } from 'nats';
import { NAMES } from './names.js';

interface Lease {
  readonly queue: string;
  readonly msg: JsMsg;
  readonly expiresAt: number;
  readonly timer: NodeJS.Timeout;
  readonly heartbeat: NodeJS.Timeout | undefined;
}

interface LeaseRequest {
  readonly op: 'ack' | 'nak';
  readonly queue: string;
  readonly token: string;
  readonly delayMs?: number;
}

/**
 * The leases this node holds: received messages not yet acknowledged. JetStream accepts an ack
 * from any earlier delivery of a message, so receipts are checked here: a receipt names the node
 * and a one-time token, and is valid only while that node still holds that lease. A lease longer
 * than the consumer's AckWait is kept alive with "working" heartbeats; when it runs out the
 * message is nak'ed (visible again at once). Receipts of other nodes are settled by asking them
 * over NATS; a node that is gone holds nothing, and its messages come back after the AckWait.
 */
export class QueueLeases {
  private readonly leases = new Map<string, Lease>();
  private sub: Subscription | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly nodeId: string,
    private readonly windowMs: number,
    /** A leased message was put back (nak, or its lease ran out): visible again after delayMs. */
    private readonly onPutBack: (queue: string, msg: JsMsg, delayMs: number) => void,
  ) {}

  /** Answer other nodes' ack/nak requests for leases held here. */
  serve(): void {
    this.sub = this.nc.subscribe(NAMES.queueLease(this.nodeId), {
      callback: (err, m) => {
        if (err) return;
        let ok = false;
        try {
          const req = JSON.parse(Buffer.from(m.data).toString('utf8')) as LeaseRequest;
          ok = req.op === 'ack' ? this.settleLocal(req.queue, req.token, 'ack') : this.settleLocal(req.queue, req.token, 'nak', req.delayMs ?? 0);
        } catch {
          ok = false;
        }
        m.respond(Buffer.from(JSON.stringify({ ok })));
      },
    });
  }

  /** Lease a delivered message for visibilityMs; returns its receipt. */
  add(queue: string, msg: JsMsg, visibilityMs: number, now: number): string {
    const token = randomBytes(9).toString('hex');
    const timer = setTimeout(() => this.settleLocal(queue, token, 'nak', 0), visibilityMs);
    timer.unref();
    let heartbeat: NodeJS.Timeout | undefined;
    if (visibilityMs >= this.windowMs) {
      heartbeat = setInterval(() => quietly(() => msg.working()), Math.max(100, Math.floor(this.windowMs / 3)));
      heartbeat.unref();
    }
    this.leases.set(token, { queue, msg, expiresAt: now + visibilityMs, timer, heartbeat });
    return `${this.nodeId}:${token}`;
  }

  /** Acknowledge or put back the message of a receipt (this node's, or another node's by request). */
  async settle(queue: string, receipt: string, op: 'ack' | 'nak', delayMs = 0): Promise<boolean> {
    const at = receipt.indexOf(':');
    if (at <= 0) return false;
    const node = receipt.slice(0, at);
    const token = receipt.slice(at + 1);
    if (node === this.nodeId) {
      const lease = this.leases.get(token);
      if (!lease || lease.queue !== queue) return false;
      if (op === 'nak') return this.settleLocal(queue, token, 'nak', delayMs);
      this.drop(token, lease);
      try {
        await lease.msg.ackAck();
        return true;
      } catch {
        return false;
      }
    }
    if (!/^[A-Za-z0-9-]+$/.test(node)) return false;
    try {
      const reply = await this.nc.request(NAMES.queueLease(node), Buffer.from(JSON.stringify({ op, queue, token, delayMs } satisfies LeaseRequest)), { timeout: 5000 });
      return (JSON.parse(Buffer.from(reply.data).toString('utf8')) as { ok: boolean }).ok;
    } catch {
      return false; // the node is gone: it holds no lease any more
    }
  }

  /** Leases held here for one queue, with their expiry. */
  expiriesOf(queue: string): number[] {
    const out: number[] = [];
    for (const l of this.leases.values()) if (l.queue === queue) out.push(l.expiresAt);
    return out;
  }

  /** Forget a queue's leases (purged or deleted: the messages are gone). */
  dropQueue(queue: string): void {
    for (const [token, lease] of this.leases) if (lease.queue === queue) this.drop(token, lease);
  }

  /** Stopping: put every held message back so other nodes take it at once. */
  close(): void {
    this.sub?.unsubscribe();
    for (const [token, lease] of this.leases) {
      this.drop(token, lease);
      quietly(() => lease.msg.nak());
    }
  }

  private settleLocal(queue: string, token: string, op: 'ack' | 'nak', delayMs = 0): boolean {
    const lease = this.leases.get(token);
    if (!lease || lease.queue !== queue) return false;
    this.drop(token, lease);
    if (op === 'ack') return quietly(() => lease.msg.ack());
    if (!quietly(() => (delayMs > 0 ? lease.msg.nak(delayMs) : lease.msg.nak()))) return false;
    this.onPutBack(queue, lease.msg, delayMs);
    return true;
  }

  private drop(token: string, lease: Lease): void {
    clearTimeout(lease.timer);
    clearInterval(lease.heartbeat);
    this.leases.delete(token);
  }
}

/** Acks on a closed connection throw; the message then comes back after the AckWait anyway. */
function quietly(fn: () => void): boolean {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
}
