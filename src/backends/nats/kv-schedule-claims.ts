import type { KV } from 'nats';
import type { ScheduleClaims } from '../../events/schedules/schedule-claims.js';
import type { NatsContext } from './connection.js';
import { bytesOf, isCasConflict, jsonOf, openKv } from './connection.js';
import { NAMES, token } from './names.js';

interface ClaimState {
  readonly lastScheduled: number;
  readonly firedAt: number;
}

/**
 * Who fires a schedule in a cluster: every node plans every rule, and a run is fired by the node
 * whose compare-and-set moves the rule's key forward to that run's time. The KV revision makes
 * the claim exactly-once per (rule, scheduled time) across nodes.
 */
export class NatsScheduleClaims implements ScheduleClaims {
  private constructor(private readonly kv: KV) {}

  static async open(ctx: NatsContext): Promise<NatsScheduleClaims> {
    return new NatsScheduleClaims(await openKv(ctx, NAMES.scheduleBucket));
  }

  async lastScheduled(rule: string): Promise<number | undefined> {
    const e = await this.kv.get(token(rule));
    return e && e.operation === 'PUT' ? jsonOf<ClaimState>(e.value).lastScheduled : undefined;
  }

  async claim(rule: string, scheduledAt: number, now: number): Promise<boolean> {
    const value = bytesOf({ lastScheduled: scheduledAt, firedAt: now } satisfies ClaimState);
    for (;;) {
      const e = await this.kv.get(token(rule));
      const live = e && e.operation === 'PUT';
      if (live && jsonOf<ClaimState>(e.value).lastScheduled >= scheduledAt) return false;
      try {
        if (live) await this.kv.update(token(rule), value, e.revision);
        else await this.kv.create(token(rule), value);
        return true;
      } catch (err) {
        if (!isCasConflict(err) && !/exists/i.test((err as Error).message)) throw err;
      }
    }
  }

  async forget(rule: string): Promise<void> {
    await this.kv.delete(token(rule));
  }
}
