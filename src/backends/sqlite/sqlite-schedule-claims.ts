import type { ScheduleClaims } from '../../events/schedules/schedule-claims.js';
import type { EventsDatabase } from './events-database.js';

/** Schedule state in events.db: the last claimed run per rule, advanced only forwards. */
export class SqliteScheduleClaims implements ScheduleClaims {
  constructor(private readonly database: EventsDatabase) {}

  async lastScheduled(rule: string): Promise<number | undefined> {
    return this.database.run(
      () => (this.database.db.prepare('SELECT last_scheduled_at FROM schedule_state WHERE rule = ?').get(rule) as { last_scheduled_at: number } | undefined)?.last_scheduled_at,
    );
  }

  async claim(rule: string, scheduledAt: number, now: number): Promise<boolean> {
    return this.database.run(
      () =>
        this.database.db
          .prepare(
            `INSERT INTO schedule_state (rule, last_scheduled_at, fired_at) VALUES (@rule, @at, @now)
             ON CONFLICT(rule) DO UPDATE SET last_scheduled_at = @at, fired_at = @now WHERE last_scheduled_at < @at`,
          )
          .run({ rule, at: scheduledAt, now }).changes === 1,
    );
  }

  async forget(rule: string): Promise<void> {
    await this.database.run(() => this.database.db.prepare('DELETE FROM schedule_state WHERE rule = ?').run(rule));
  }
}
