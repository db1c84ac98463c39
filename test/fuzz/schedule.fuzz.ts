import assert from 'node:assert/strict';
import fc from 'fast-check';
import { latestRunBetween, nextRunAfter, parseSchedule, planRun } from '../../src/events/schedules/schedule-expression.js';
import type { CronSchedule } from '../../src/events/schedules/cron.js';
import { nextCronTime } from '../../src/events/schedules/cron.js';
import { ModelfnError } from '../../src/shared/errors.js';
import type { FuzzOptions } from './harness.js';
import { onlyThrows, runs, withinMs } from './harness.js';

/**
 * EventBridge schedule expressions: any text either parses or fails with INVALID_PARAMETER; a
 * schedule that parses plans its runs quickly, in order, at times a Date can hold (the schedule
 * view prints them with toISOString).
 */

const isParamError = (e: unknown) => e instanceof ModelfnError && e.code === 'INVALID_PARAMETER';

const FIELD = ['*', '?', 'L', 'W', 'LW', '15W', '0', '59', '60', '1-5', '5-1', '*/15', '0/0', '1/100', 'MON-FRI', 'JAN', 'DEC-JAN', '3#2', '6L', '#', '1,2,,3', '2199', '1969', '-1', '1e3', '٣'];
const cronText = fc.array(fc.oneof(fc.constantFrom(...FIELD), fc.string({ unit: fc.constantFrom(...'0123456789*?,-/#LW'), minLength: 1, maxLength: 6 })), { minLength: 4, maxLength: 7 }).map((f) => `cron(${f.join(' ')})`);
const rateText = fc
  .tuple(fc.oneof(fc.nat(100).map(String), fc.constantFrom('0', '01', '9'.repeat(20), '9'.repeat(400), '1e3', '-1', ' 5', '1.5')), fc.constantFrom('minute', 'minutes', 'hour', 'hours', 'day', 'days', 'second', 'seconds', 'week', 'Minutes', ''))
  .map(([n, u]) => `rate(${n} ${u})`);
const expression = fc.oneof(cronText, rateText, fc.string({ maxLength: 40 }), fc.constantFrom('rate(1 minute)', 'cron(0 12 * * ? *)', 'cron(0 0 29 2 ? 2199)', 'cron(* * L * ? *)', ' rate(5 minutes) '));

// A rule created at some time in recent years, looked at up to two years later.
const ANCHOR_FROM = Date.UTC(2020, 0, 1);
const times = fc.tuple(fc.integer({ min: ANCHOR_FROM, max: Date.UTC(2030, 0, 1) }), fc.integer({ min: 0, max: 2 * 365 * 86_400_000 }), fc.option(fc.integer({ min: 0, max: 365 * 86_400_000 }), { nil: undefined }));

/** The latest run in (after, at] found run by run (the reference), or undefined past 2000 runs. */
function walkLatest(schedule: CronSchedule, after: number, at: number): number | undefined {
  let latest: number | undefined;
  let t = nextCronTime(schedule, after);
  for (let steps = 0; t !== undefined && t <= at; steps++) {
    if (steps > 2000) return undefined;
    latest = t;
    t = nextCronTime(schedule, t);
  }
  return latest;
}

function printable(t: number | undefined): void {
  if (t !== undefined) assert.equal(typeof new Date(t).toISOString(), 'string');
}

export async function fuzzSchedule(options: FuzzOptions): Promise<void> {
  fc.assert(
    fc.property(expression, fc.boolean(), times, (text, allowSeconds, [anchor, ahead, lastAgo]) => {
      const schedule = onlyThrows(() => parseSchedule(text, { allowSeconds }), isParamError, 'parseSchedule');
      if (!schedule) return;
      const now = anchor + ahead;
      const lastScheduled = lastAgo === undefined ? undefined : Math.max(anchor, now - lastAgo);
      withinMs(2_000, `planning ${text}`, () => {
        const next = nextRunAfter(schedule, now, anchor);
        printable(next);
        if (next !== undefined) assert.ok(next > now, 'the next run is after now');
        const latest = latestRunBetween(schedule, lastScheduled ?? anchor, now, anchor);
        printable(latest);
        if (latest !== undefined) assert.ok(latest <= now && latest > (lastScheduled ?? anchor));
        if (schedule.kind === 'cron') assert.equal(latest, walkLatest(schedule, lastScheduled ?? anchor, now) ?? latest, 'the latest run agrees with a run-by-run walk');
        const plan = planRun(schedule, { anchor, now, ...(lastScheduled !== undefined ? { lastScheduled } : {}) });
        printable(plan.fire);
        printable(plan.nextAt);
      });
    }),
    {
      ...runs(options),
      examples: [
        // Regression: a rate so long its next run is past the last date a Date can hold.
        ['rate(9999999999 days)', false, [Date.UTC(2026, 0, 1), 0, undefined]],
        // Regression: planning an every-minute last-day-of-month rule walked 1440 runs (~200 ms per tick).
        ['cron(* * L * ? *)', false, [Date.UTC(2025, 0, 1), 400 * 86_400_000, undefined]],
      ],
    },
  );
}
