import type { Logger } from 'pino';
import type { Registry } from '../../registry/registry.js';
import type { Clock } from '../../shared/clock.js';
import { newRequestId } from '../../shared/ids.js';
import type { SubmitRequest } from '../async/async-invoker.js';
import type { ScheduleClaims } from './schedule-claims.js';
import { parseSchedule, planRun } from './schedule-expression.js';
import { scheduledEvent } from './scheduled-event.js';
import { schedulesOf } from './schedule-store.js';

export interface ScheduleRunnerOptions {
  readonly registry: Registry;
  readonly claims: ScheduleClaims;
  readonly clock: Clock;
  readonly log: Logger;
  readonly submit: (request: SubmitRequest) => Promise<void>;
  readonly allowSeconds: boolean;
}

/**
 * Fires schedules: on every tick (the earliest next run, a registry change, or a minute at most)
 * it plans each enabled rule with the missed-run rule, claims the due run (so one node fires it)
 * and submits the event as an async invocation (retries, dead letters and destinations apply).
 * A crash between the claim and the submit loses that one run; the next runs are unaffected.
 */
export class ScheduleRunner {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private again = false;
  private stopped = false;
  private readonly onChange = () => this.kick();

  constructor(private readonly o: ScheduleRunnerOptions) {}

  start(): void {
    this.o.registry.on('change', this.onChange);
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    this.o.registry.off('change', this.onChange);
    clearTimeout(this.timer);
  }

  /** The next run of a rule (for views). */
  nextRun(functionName: string, rule: string, lastScheduled: number | undefined): number | undefined {
    const s = schedulesOf(this.o.registry.get(functionName)!)[rule];
    if (!s || !s.enabled) return undefined;
    return planRun(parseSchedule(s.expression, { allowSeconds: this.o.allowSeconds }), { anchor: s.createdAt, lastScheduled, now: this.o.clock.now() }).nextAt;
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.tick()
      .catch((err: unknown) => this.o.log.error({ err }, 'schedule tick failed'))
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async tick(): Promise<void> {
    const now = this.o.clock.now();
    let earliest = now + 60_000;
    for (const doc of this.o.registry.list()) {
      for (const [rule, stored] of Object.entries(schedulesOf(doc))) {
        if (!stored.enabled) continue;
        let schedule;
        try {
          schedule = parseSchedule(stored.expression, { allowSeconds: this.o.allowSeconds });
        } catch (err) {
          this.o.log.warn({ err, function: doc.name, rule }, 'skipping a schedule that no longer parses');
          continue;
        }
        const id = `${doc.name}/${rule}`;
        const plan = planRun(schedule, { anchor: stored.createdAt, lastScheduled: await this.o.claims.lastScheduled(id), now });
        if (plan.fire !== undefined && (await this.o.claims.claim(id, plan.fire, now))) {
          const payload = stored.input ?? JSON.stringify(scheduledEvent(this.o.registry.account, rule, plan.fire, newRequestId()));
          await this.o.submit({
            functionName: doc.name,
            ...(stored.qualifier ? { qualifier: stored.qualifier } : {}),
            payload: Buffer.from(payload),
            requestId: newRequestId(),
            source: `schedule:${rule}`,
            internal: true,
          }).catch((err: unknown) => this.o.log.error({ err, function: doc.name, rule }, 'could not submit a scheduled run'));
        }
        if (plan.nextAt !== undefined) earliest = Math.min(earliest, plan.nextAt);
      }
    }
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kick(), Math.max(0, earliest - this.o.clock.now()));
    this.timer.unref();
  }
}
