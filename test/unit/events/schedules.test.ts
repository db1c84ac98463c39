import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/shared/clock.js';
import { nextRunAfter, parseSchedule, planRun } from '../../../src/events/schedules/schedule-expression.js';
import { scheduledEvent } from '../../../src/events/schedules/scheduled-event.js';

const t = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const next = (expr: string, after: string, n = 1) => {
  const s = parseSchedule(expr);
  const out: Array<string | undefined> = [];
  let at = t(after);
  for (let i = 0; i < n; i++) {
    const r = nextRunAfter(s, at, 0);
    out.push(iso(r));
    if (r === undefined) break;
    at = r;
  }
  return out;
};

test('cron: daily at noon UTC, every 10 minutes from 1, weekdays, months by name', () => {
  assert.deepEqual(next('cron(0 12 * * ? *)', '2026-03-01T12:00:00Z', 2), ['2026-03-02T12:00:00.000Z', '2026-03-03T12:00:00.000Z']);
  assert.deepEqual(next('cron(1/10 * * * ? *)', '2026-03-01T10:05:00Z', 3), ['2026-03-01T10:11:00.000Z', '2026-03-01T10:21:00.000Z', '2026-03-01T10:31:00.000Z']);
  // 2026-03-06 is a Friday: MON-FRI at 18:00 skips the weekend.
  assert.deepEqual(next('cron(0 18 ? * MON-FRI *)', '2026-03-06T18:00:00Z', 2), ['2026-03-09T18:00:00.000Z', '2026-03-10T18:00:00.000Z']);
  assert.deepEqual(next('cron(0 0 1 JAN,JUL ? *)', '2026-03-01T00:00:00Z', 2), ['2026-07-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z']);
  assert.deepEqual(next('cron(15 10 ? * 6L 2026-2027)', '2026-03-01T00:00:00Z', 2), ['2026-03-27T10:15:00.000Z', '2026-04-24T10:15:00.000Z'], 'last Friday');
  assert.deepEqual(next('cron(0 9 ? * 3#2 *)', '2026-03-01T00:00:00Z', 1), ['2026-03-10T09:00:00.000Z'], 'second Tuesday');
  assert.deepEqual(next('cron(0 0 L * ? *)', '2026-02-01T00:00:00Z', 2), ['2026-02-28T00:00:00.000Z', '2026-03-31T00:00:00.000Z'], 'last day of the month');
  // 2026-08-01 is a Saturday: 1W is Monday the 3rd; LW of May 2026 (31st a Sunday) is Friday the 29th.
  assert.deepEqual(next('cron(0 0 1W * ? *)', '2026-07-15T00:00:00Z', 1), ['2026-08-03T00:00:00.000Z']);
  assert.deepEqual(next('cron(0 0 LW * ? *)', '2026-05-01T00:00:00Z', 1), ['2026-05-29T00:00:00.000Z']);
  assert.deepEqual(next('cron(0 0 29 2 ? 2026-2028)', '2026-01-01T00:00:00Z', 2), ['2028-02-29T00:00:00.000Z', undefined], 'leap day, then the years run out');
  assert.deepEqual(next('cron(0 0 ? * L *)', '2026-03-01T00:00:00Z', 1), ['2026-03-07T00:00:00.000Z'], 'L alone in Day-of-week is Saturday');
});

test('malformed schedules are 400 naming the field', () => {
  const bad = (expr: string, re: RegExp) =>
    assert.throws(() => parseSchedule(expr), (err: any) => err.code === 'INVALID_PARAMETER' && re.test(err.message), `${expr} should fail with ${re}`);
  bad('cron(0 12 * * * *)', /exactly one of them must be \?/);
  bad('cron(0 12 * *)', /6 fields/);
  bad('cron(60 12 * * ? *)', /Minutes: "60"/);
  bad('cron(0 24 * * ? *)', /Hours/);
  bad('cron(0 0 32 * ? *)', /Day-of-month/);
  bad('cron(0 0 ? FOO * *)', /Month/);
  bad('cron(0 0 ? * 8 *)', /Day-of-week/);
  bad('cron(0 0 ? * 3#1,6#3 *)', /Day-of-week/);
  bad('cron(0 0 1 * ? 1969)', /Year/);
  bad('rate(5 minute)', /plural/);
  bad('rate(1 minutes)', /singular/);
  bad('rate(0 minutes)', /positive/);
  bad('rate(5 weeks)', /unit minute/);
  bad('rate(5 seconds)', /unit minute/);
  bad('every 5 minutes', /must be rate/);
  assert.equal(parseSchedule('rate(5 seconds)', { allowSeconds: true }).kind, 'rate');
});

test('rate schedules run every period from their anchor', () => {
  const s = parseSchedule('rate(5 minutes)');
  const anchor = t('2026-03-01T10:00:30Z');
  assert.equal(iso(nextRunAfter(s, anchor, anchor)), '2026-03-01T10:05:30.000Z');
  assert.equal(iso(nextRunAfter(s, t('2026-03-01T10:07:00Z'), anchor)), '2026-03-01T10:10:30.000Z');
});

test('missed runs: after downtime at most one catch-up run, then back on the schedule (fake clock)', () => {
  const s = parseSchedule('rate(5 minutes)');
  const clock = new ManualClock(t('2026-03-01T10:00:00Z'));
  const anchor = clock.now();
  let last: number | undefined;
  const tick = () => {
    const plan = planRun(s, { anchor, lastScheduled: last, now: clock.now() });
    if (plan.fire !== undefined) last = plan.fire;
    return { fire: iso(plan.fire), nextAt: iso(plan.nextAt) };
  };
  assert.deepEqual(tick(), { fire: undefined, nextAt: '2026-03-01T10:05:00.000Z' });
  clock.advance(5 * 60_000);
  assert.deepEqual(tick(), { fire: '2026-03-01T10:05:00.000Z', nextAt: '2026-03-01T10:10:00.000Z' });
  assert.deepEqual(tick(), { fire: undefined, nextAt: '2026-03-01T10:10:00.000Z' }, 'the same run never fires twice');
  // Down for an hour and two minutes: 12 runs missed, one catch-up carrying the latest missed time.
  clock.advance(62 * 60_000);
  assert.deepEqual(tick(), { fire: '2026-03-01T11:05:00.000Z', nextAt: '2026-03-01T11:10:00.000Z' });
  assert.deepEqual(tick(), { fire: undefined, nextAt: '2026-03-01T11:10:00.000Z' });
  clock.set(t('2026-03-01T11:10:00Z'));
  assert.deepEqual(tick(), { fire: '2026-03-01T11:10:00.000Z', nextAt: '2026-03-01T11:15:00.000Z' });

  const daily = parseSchedule('cron(0 12 * * ? *)');
  const created = t('2026-03-01T09:00:00Z');
  assert.equal(planRun(daily, { anchor: created, now: t('2026-03-01T11:00:00Z') }).fire, undefined);
  const afterDowntime = planRun(daily, { anchor: created, lastScheduled: t('2026-03-01T12:00:00Z'), now: t('2026-03-05T08:00:00Z') });
  assert.equal(iso(afterDowntime.fire), '2026-03-04T12:00:00.000Z');
  assert.equal(iso(afterDowntime.nextAt), '2026-03-05T12:00:00.000Z');
});

test('the scheduled event has EventBridge\'s shape', () => {
  const e = scheduledEvent({ region: 'us-east-1', accountId: '000000000000' }, 'nightly', t('2026-03-01T12:00:00.123Z'), 'id-1');
  assert.deepEqual(e, {
    version: '0',
    id: 'id-1',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: '2026-03-01T12:00:00Z',
    region: 'us-east-1',
    resources: ['arn:aws:events:us-east-1:000000000000:rule/nightly'],
    detail: {},
  });
});
