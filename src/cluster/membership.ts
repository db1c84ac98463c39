import { EventEmitter } from 'node:events';
import type { KV } from 'nats';
import type { NatsContext } from '../backends/nats/connection.js';
import type { KvWatch } from '../backends/nats/connection.js';
import { START_BUDGET_MS, bytesOf, jsonOf, kvEntries, openKv, watchKv } from '../backends/nats/connection.js';
import { NAMES } from '../backends/nats/names.js';

export interface NodeInfo {
  readonly id: string;
  readonly url: string;
  readonly startedAt: number;
  readonly version: string;
}

export interface MembershipOptions {
  readonly self: NodeInfo;
  /** How often this node writes its heartbeat. */
  readonly intervalMs: number;
  /** A node not heard from for this long is dead (its forwarded calls fail, shares grow). */
  readonly deadAfterMs: number;
  readonly now?: () => number;
}

/**
 * Who is in the cluster: each node writes node.<id> to a KV bucket every interval (the bucket's
 * max age drops the keys of nodes gone for good) and follows everyone's writes. A node not heard
 * from for deadAfterMs is declared down ('down' event) — unless this node itself lost NATS or
 * cannot write its own heartbeat (the bucket is electing a leader): then nobody is declared down,
 * and everyone gets a fresh deadAfterMs once this node is back.
 */
export class Membership extends EventEmitter {
  private readonly lastSeen = new Map<string, { info: NodeInfo; at: number }>();
  private readonly now: () => number;
  private self: NodeInfo;
  private timer: NodeJS.Timeout | undefined;
  private stopWatch: KvWatch | undefined;
  /** When the watch last delivered anything (our own heartbeats included). */
  private lastHeard = 0;
  private connected = true;
  private stopped = false;
  /** Whether this node's own last heartbeat was stored (the bucket may be electing a leader). */
  private beating = true;

  private constructor(
    private readonly ctx: NatsContext,
    private readonly kv: KV,
    private readonly o: MembershipOptions,
  ) {
    super();
    this.now = o.now ?? Date.now;
    this.self = o.self;
  }

  static async start(ctx: NatsContext, options: MembershipOptions): Promise<Membership> {
    const kv = await openKv(ctx, NAMES.nodeBucket, { ttlMs: Math.max(options.deadAfterMs * 10, 60_000) });
    const m = new Membership(ctx, kv, options);
    m.stopWatch = await watchKv(kv, 'node.>', (e) => {
      m.lastHeard = m.now();
      if (e.operation === 'PUT') m.heard(jsonOf<NodeInfo>(e.value));
      else m.lost(e.key.slice('node.'.length));
    }, ctx);
    const now = m.now();
    for (const e of await kvEntries(kv, 'node.>', START_BUDGET_MS)) {
      if (now - e.created.getTime() < options.deadAfterMs) m.heard(jsonOf<NodeInfo>(e.value));
    }
    m.lastHeard = m.now();
    await m.beat();
    m.timer = setInterval(() => {
      void m.beat();
      m.sweep();
    }, options.intervalMs);
    m.timer.unref();
    void m.followStatus();
    return m;
  }

  get id(): string {
    return this.self.id;
  }

  /** False while this node's connection to NATS is down (it reconnects on its own). */
  get isConnected(): boolean {
    return this.connected;
  }

  /** Live nodes, this one included. */
  live(): NodeInfo[] {
    return [this.self, ...[...this.lastSeen.values()].map((s) => s.info).filter((i) => i.id !== this.self.id)].sort((a, b) => a.id.localeCompare(b.id));
  }

  get size(): number {
    return this.live().length;
  }

  isLive(id: string): boolean {
    return id === this.self.id || this.lastSeen.has(id);
  }

  /** The URL is known once the gateway listens. */
  setUrl(url: string): void {
    this.self = { ...this.self, url };
    void this.beat();
  }

  /** Leave: stop beating and remove our key (others see the node go at once). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.stopWatch?.();
    await this.kv.delete(`node.${this.self.id}`).catch(() => undefined);
  }

  private async beat(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.kv.put(`node.${this.self.id}`, bytesOf(this.self));
      if (!this.beating) this.forgive();
      this.beating = true;
      // Our own heartbeats are stored but the watch has not delivered one for a while: it went
      // quiet (its consumer was lost with a NATS server), so open it again.
      if (this.lastHeard > 0 && this.now() - this.lastHeard > this.o.deadAfterMs) {
        this.lastHeard = this.now();
        this.stopWatch?.reopen();
      }
    } catch {
      this.beating = false;
    }
  }

  /** After this node could not write (or read) the bucket, others' silence meant nothing: start their clocks again. */
  private forgive(): void {
    const now = this.now();
    for (const seen of this.lastSeen.values()) seen.at = now;
  }

  private heard(info: NodeInfo): void {
    if (info.id === this.self.id) return;
    const isNew = !this.lastSeen.has(info.id);
    this.lastSeen.set(info.id, { info, at: this.now() });
    if (isNew) this.emit('up', info);
  }

  private lost(id: string): void {
    if (this.lastSeen.delete(id)) this.emit('down', id);
  }

  private sweep(): void {
    // Cut off from NATS, or the bucket cannot take writes (a leader election): silence says nothing.
    if (!this.connected || !this.beating) return;
    const now = this.now();
    for (const [id, seen] of this.lastSeen) if (now - seen.at > this.o.deadAfterMs) this.lost(id);
  }

  /** While this node is cut off from NATS, silence says nothing about the others. */
  private async followStatus(): Promise<void> {
    for await (const s of this.ctx.nc.status()) {
      if (s.type === 'disconnect') this.connected = false;
      if (s.type === 'reconnect') {
        this.connected = true;
        this.forgive();
        void this.beat();
      }
    }
  }
}
