import { randomBytes } from 'node:crypto';
import type { NatsConnection, Subscription } from 'nats';
import { maxPayload } from '../backends/nats/connection.js';
import { NAMES } from '../backends/nats/names.js';
import type { Dispatcher } from '../scheduler/dispatcher.js';
import type { Invocation, InvocationOutcome, InvocationTarget } from '../scheduler/invocation.js';
import { ModelfnError } from '../shared/errors.js';
import type { Membership } from './membership.js';
import type { ShareAdjuster } from './reserved-share.js';
import type { ForwardReply, ForwardRequest } from './wire.js';
import { decodeFrame, encodeFrame, errorOf, frameOverhead, outcomeOf } from './wire.js';

/** What the cluster needs of the local scheduler: run a call, and say whether it could run one now. */
export interface LocalCapacity extends Dispatcher {
  hasCapacity(target: InvocationTarget): boolean;
}

export interface ClusterDispatcherOptions {
  readonly nc: NatsConnection;
  readonly local: LocalCapacity;
  readonly membership: Membership;
  readonly shares: ShareAdjuster;
  /** No word from a node (accepted or busy) within this long: try another. */
  readonly acceptTimeoutMs: number;
  /** Added to the function's timeout for the whole forwarded call (queue wait, cold start). */
  readonly slackMs: number;
}

interface Pending {
  node: string | undefined;
  timer: NodeJS.Timeout;
  readonly settle: (reply: { header: ForwardReply; payload: Buffer } | Error | 'timeout') => void;
}

/**
 * Local capacity first, else another node: a call this node can start at once (an idle instance,
 * or room under its share of the function's limit and its memory budget) runs here; otherwise it
 * is published to the function's queue group, where one other node (never this one: the
 * connection does not echo) answers "accepted" and later the outcome, or "busy" at once, and the
 * next is tried. When no node has room the call queues here as on a single node (and may be
 * throttled with the usual 429). A node that dies while running a forwarded call fails that call
 * (SHUTTING_DOWN, 503) as soon as membership notices, not at the timeout.
 */
export class ClusterDispatcher implements Dispatcher {
  private readonly pending = new Map<string, Pending>();
  private readonly prefix: string;
  private sub: Subscription | undefined;
  private readonly onDown = (id: string) => {
    for (const p of this.pending.values()) if (p.node === id) p.settle(new ModelfnError('SHUTTING_DOWN', `node ${id} left the cluster while running this call`));
  };
  /** Calls answered here vs forwarded (for ls / metrics / the benchmark). */
  readonly counts = { local: 0, forwarded: 0, busy: 0 };

  constructor(private readonly o: ClusterDispatcherOptions) {
    this.prefix = `${NAMES.reply(o.membership.id)}.`;
  }

  start(): void {
    this.sub = this.o.nc.subscribe(`${this.prefix}*`, {
      callback: (err, m) => {
        if (err) return;
        const p = this.pending.get(m.subject.slice(this.prefix.length));
        if (!p) return;
        try {
          p.settle(decodeFrame<ForwardReply>(m.data));
        } catch (e) {
          p.settle(e as Error);
        }
      },
    });
    this.o.membership.on('down', this.onDown);
  }

  stop(): void {
    this.sub?.unsubscribe();
    this.o.membership.off('down', this.onDown);
    for (const p of this.pending.values()) p.settle(new ModelfnError('SHUTTING_DOWN', 'the platform is shutting down'));
  }

  async invoke(target: InvocationTarget, invocation: Invocation): Promise<InvocationOutcome> {
    const mine = this.o.shares.adjust(target);
    const others = this.o.membership.size - 1;
    const fits = invocation.payload.length + 64 * 1024 < maxPayload(this.o.nc);
    if (others === 0 || target.scaling.reservedConcurrency === 0 || !fits || this.o.local.hasCapacity(mine)) {
      this.counts.local++;
      return this.o.local.invoke(mine, invocation);
    }
    for (let attempt = 0; attempt < 2 * others; attempt++) {
      const reply = await this.forward(target, invocation);
      if (reply.header.kind === 'outcome') {
        this.counts.forwarded++;
        return outcomeOf(reply.header, reply.payload);
      }
      if (reply.header.kind === 'error') throw errorOf(reply.header);
      this.counts.busy++;
      // Busy, or nobody answered: capacity may have come back here meanwhile.
      if (this.o.local.hasCapacity(mine)) break;
    }
    this.counts.local++;
    return this.o.local.invoke(mine, invocation);
  }

  /** One attempt: publish to the function's queue group and wait for the node that takes it. */
  private forward(target: InvocationTarget, invocation: Invocation): Promise<{ header: ForwardReply; payload: Buffer }> {
    const { payload, ...rest } = invocation;
    const request: ForwardRequest = { origin: this.o.membership.id, target, invocation: rest };
    if (payload.length + frameOverhead(request) > maxPayload(this.o.nc)) {
      return Promise.resolve({ header: { kind: 'busy', node: '' }, payload: Buffer.alloc(0) });
    }
    const id = randomBytes(8).toString('hex');
    const runMs = target.config.timeoutSec * 1000 + this.o.slackMs;
    return new Promise((resolve, reject) => {
      const pending: Pending = {
        node: undefined,
        timer: setTimeout(() => pending.settle('timeout'), this.o.acceptTimeoutMs),
        settle: (reply) => {
          if (reply !== 'timeout' && !(reply instanceof Error) && reply.header.kind === 'accepted') {
            pending.node = reply.header.node;
            clearTimeout(pending.timer);
            if (!this.o.membership.isLive(pending.node)) return pending.settle(new ModelfnError('SHUTTING_DOWN', `node ${pending.node} left the cluster while running this call`));
            pending.timer = setTimeout(() => pending.settle(new ModelfnError('INTERNAL', `node ${pending.node} did not answer within ${runMs} ms`)), runMs);
            return;
          }
          clearTimeout(pending.timer);
          this.pending.delete(id);
          if (reply === 'timeout') resolve({ header: { kind: 'busy', node: '' }, payload: Buffer.alloc(0) });
          else if (reply instanceof Error) reject(reply);
          else resolve(reply);
        },
      };
      this.pending.set(id, pending);
      this.o.nc.publish(NAMES.invoke(target.config.name), encodeFrame(request, payload), { reply: `${this.prefix}${id}` });
    });
  }
}
