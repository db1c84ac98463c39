import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType } from 'nats';
import type { UsageRow } from '../../telemetry/metering/usage.js';
import type { NatsContext } from './connection.js';
import { ensureConsumer, ensureStream, jsonOf } from './connection.js';
import { NAMES } from './names.js';

/**
 * Metering in a cluster: each node publishes the usage rows it flushes (every 10 s) to one
 * stream, and every node applies the whole stream to its own metering store through its own
 * durable consumer, so `modelfn cost` on any node adds up every node's usage. A node that was
 * down catches up from where its consumer stopped; a new node reads the retained history.
 * At-least-once: a crash between applying a batch and acknowledging it counts that batch twice.
 */
export class NatsMeteringStream {
  private stopped = false;
  private unsent: UsageRow[] = [];
  private loop: Promise<void> | undefined;

  private constructor(
    private readonly ctx: NatsContext,
    private readonly nodeId: string,
  ) {}

  static async open(ctx: NatsContext, options: { nodeId: string; retentionDays: number }): Promise<NatsMeteringStream> {
    await ensureStream(ctx, {
      name: NAMES.meteringStream,
      subjects: [NAMES.meteringSubject],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: ctx.replicas,
      max_age: options.retentionDays * 86_400_000 * 1_000_000,
    });
    return new NatsMeteringStream(ctx, options.nodeId);
  }

  /** Called by the metering service's flush (synchronous there): rows that cannot be sent now are sent with the next flush. */
  publish(rows: UsageRow[]): void {
    const batch = [...this.unsent, ...rows];
    this.unsent = [];
    if (batch.length === 0) return;
    this.ctx.js.publish(NAMES.meteringSubject, Buffer.from(JSON.stringify(batch))).catch(() => {
      this.unsent.push(...batch);
    });
  }

  /** Apply every node's rows to this node's store, from where this node's consumer left off. */
  async replicate(store: { write(rows: readonly UsageRow[]): void }): Promise<void> {
    const durable = `meter-${this.nodeId}`;
    await ensureConsumer(this.ctx, NAMES.meteringStream, { durable_name: durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, ack_wait: 30_000_000_000 });
    this.loop = (async () => {
      while (!this.stopped) {
        try {
          for await (const m of this.ctx.js.fetch(NAMES.meteringStream, durable, { batch: 100, expires: 1000 })) {
            store.write(jsonOf<UsageRow[]>(m.data));
            m.ack();
          }
        } catch {
          if (!this.stopped) await new Promise((r) => setTimeout(r, 1000));
        }
      }
    })();
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}
