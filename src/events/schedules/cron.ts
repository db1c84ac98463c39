import { ModelfnError } from '../../shared/errors.js';

/**
 * EventBridge cron expressions: `cron(Minutes Hours Day-of-month Month Day-of-week Year)`, UTC.
 * Wildcards `, - * /` everywhere; `?` in one of the two day fields (exactly one must be `?`);
 * `L` and `W` (`L`, `LW`, `15W`) in Day-of-month; `L` (`L` = Saturday, `6L` = last Friday) and
 * `#` (`3#2` = second Tuesday) in Day-of-week. Day-of-week counts 1 = SUN to 7 = SAT.
 * Parsing and next-time computation are pure; nothing here reads the clock.
 */

export interface CronSchedule {
  readonly kind: 'cron';
  readonly text: string;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly years: ReadonlySet<number>;
  readonly day: DaySpec;
}

type DaySpec =
  | { readonly field: 'dom'; readonly days: ReadonlySet<number>; readonly last: boolean; readonly lastWeekday: boolean; readonly nearestWeekday: readonly number[] }
  | { readonly field: 'dow'; readonly days: ReadonlySet<number>; readonly lastOf: readonly number[]; readonly nth?: { readonly dow: number; readonly n: number } };

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const FIELD_NAMES = ['Minutes', 'Hours', 'Day-of-month', 'Month', 'Day-of-week', 'Year'];

function fail(field: string, message: string): never {
  throw new ModelfnError('INVALID_PARAMETER', `ScheduleExpression: cron field ${field}: ${message}`);
}

function value(text: string, field: string, min: number, max: number, names?: readonly string[], offset = 1): number {
  const upper = text.toUpperCase();
  const named = names?.indexOf(upper) ?? -1;
  const n = named >= 0 ? named + offset : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) fail(field, `${JSON.stringify(text)} is not a value from ${min} to ${max}${names ? ` or ${names[0]}-${names.at(-1)}` : ''}`);
  return n;
}

/** `*`, `a`, `a-b`, `a/n`, `*\/n`, `a-b/n`, and comma lists of those. */
function numbers(text: string, field: string, min: number, max: number, names?: readonly string[]): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    if (part === '') fail(field, 'empty list element');
    const [range, stepText, extra] = part.split('/');
    if (extra !== undefined) fail(field, `${JSON.stringify(part)} has more than one /`);
    const step = stepText === undefined ? 1 : value(stepText, field, 1, max, undefined);
    let lo: number;
    let hi: number;
    if (range === '*') [lo, hi] = [min, max];
    else if (range!.includes('-')) {
      const [a, b] = range!.split('-');
      lo = value(a!, field, min, max, names);
      hi = value(b!, field, min, max, names);
      if (lo > hi) fail(field, `range ${JSON.stringify(range)} runs backwards`);
    } else {
      lo = value(range!, field, min, max, names);
      hi = stepText === undefined ? lo : max;
    }
    for (let n = lo; n <= hi; n += step) out.add(n);
  }
  return out;
}

function dayOfMonth(text: string): DaySpec {
  const field = FIELD_NAMES[2]!;
  const days = new Set<number>();
  let last = false;
  let lastWeekday = false;
  const nearestWeekday: number[] = [];
  for (const part of text.split(',')) {
    if (part === 'L') last = true;
    else if (part === 'LW') lastWeekday = true;
    else if (/^\d+W$/.test(part)) nearestWeekday.push(value(part.slice(0, -1), field, 1, 31));
    else for (const d of numbers(part, field, 1, 31)) days.add(d);
  }
  return { field: 'dom', days, last, lastWeekday, nearestWeekday };
}

function dayOfWeek(text: string): DaySpec {
  const field = FIELD_NAMES[4]!;
  if (text.includes('#')) {
    const m = /^([^#,]+)#([1-5])$/.exec(text);
    if (!m) fail(field, `${JSON.stringify(text)}: use one DAY#N expression (N from 1 to 5), e.g. 3#2 for the second Tuesday`);
    return { field: 'dow', days: new Set(), lastOf: [], nth: { dow: value(m[1]!, field, 1, 7, DAYS), n: Number(m[2]) } };
  }
  const days = new Set<number>();
  const lastOf: number[] = [];
  for (const part of text.split(',')) {
    if (part === 'L') days.add(7);
    else if (/L$/.test(part)) lastOf.push(value(part.slice(0, -1), field, 1, 7, DAYS));
    else for (const d of numbers(part, field, 1, 7, DAYS)) days.add(d);
  }
  return { field: 'dow', days, lastOf };
}

/** Parse the inside of `cron(...)`; errors name the field. */
export function parseCron(fieldsText: string): CronSchedule {
  const fields = fieldsText.trim().split(/\s+/);
  if (fields.length !== 6) {
    throw new ModelfnError('INVALID_PARAMETER', `ScheduleExpression: cron needs 6 fields (Minutes Hours Day-of-month Month Day-of-week Year), got ${fields.length}`);
  }
  const [min, hour, dom, month, dow, year] = fields as [string, string, string, string, string, string];
  if ((dom === '?') === (dow === '?')) {
    throw new ModelfnError('INVALID_PARAMETER', 'ScheduleExpression: cron fields Day-of-month and Day-of-week: exactly one of them must be ? (e.g. cron(0 12 * * ? *))');
  }
  for (const [i, f] of [min, hour, month, year].entries()) {
    if (/[?LW#]/.test(f.toUpperCase().replace(/[A-Z]{3}/g, ''))) fail(FIELD_NAMES[[0, 1, 3, 5][i]!]!, `${JSON.stringify(f)}: ? L W # are only allowed in the day fields`);
  }
  if (/W/.test(dow.toUpperCase().replace(/[A-Z]{3}/g, ''))) fail(FIELD_NAMES[4]!, 'W is only allowed in Day-of-month');
  if (dom.includes('#')) fail(FIELD_NAMES[2]!, '# is only allowed in Day-of-week');
  return {
    kind: 'cron',
    text: fieldsText.trim(),
    minutes: numbers(min, FIELD_NAMES[0]!, 0, 59),
    hours: numbers(hour, FIELD_NAMES[1]!, 0, 23),
    months: numbers(month, FIELD_NAMES[3]!, 1, 12, MONTHS),
    years: numbers(year, FIELD_NAMES[5]!, 1970, 2199),
    day: dom === '?' ? dayOfWeek(dow) : dayOfMonth(dom),
  };
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function weekday(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;
}

function nearestWeekdayTo(year: number, month: number, day: number): number {
  const last = daysIn(year, month);
  const d = Math.min(day, last);
  const w = weekday(year, month, d);
  if (w >= 2 && w <= 6) return d;
  if (w === 7) return d === 1 ? 3 : d - 1; // Saturday: Friday before, or Monday after the 1st
  return d === last ? d - 2 : d + 1; // Sunday: Monday after, or Friday before the month's end
}

/** The days of one month the schedule runs on, in order. */
function matchingDays(spec: DaySpec, year: number, month: number): number[] {
  const last = daysIn(year, month);
  const out = new Set<number>();
  if (spec.field === 'dom') {
    for (const d of spec.days) if (d <= last) out.add(d);
    if (spec.last) out.add(last);
    if (spec.lastWeekday) out.add(nearestWeekdayTo(year, month, last));
    for (const d of spec.nearestWeekday) if (d <= last) out.add(nearestWeekdayTo(year, month, d));
  } else {
    for (let d = 1; d <= last; d++) {
      const w = weekday(year, month, d);
      if (spec.days.has(w)) out.add(d);
      if (spec.lastOf.includes(w) && d + 7 > last) out.add(d);
      if (spec.nth && spec.nth.dow === w && Math.ceil(d / 7) === spec.nth.n) out.add(d);
    }
  }
  return [...out].sort((a, b) => a - b);
}

/** The first run strictly after `after` (ms epoch), or undefined when the schedule has ended (year 2199). */
export function nextCronTime(s: CronSchedule, after: number): number | undefined {
  const start = new Date(Math.floor(after / 60_000) * 60_000 + 60_000);
  const sy = start.getUTCFullYear();
  const sm = start.getUTCMonth() + 1;
  const sd = start.getUTCDate();
  const sh = start.getUTCHours();
  const smin = start.getUTCMinutes();
  const sortedMinutes = [...s.minutes].sort((a, b) => a - b);
  const sortedHours = [...s.hours].sort((a, b) => a - b);
  for (const year of [...s.years].sort((a, b) => a - b)) {
    if (year < sy) continue;
    for (const month of [...s.months].sort((a, b) => a - b)) {
      if (year === sy && month < sm) continue;
      const sameMonth = year === sy && month === sm;
      for (const day of matchingDays(s.day, year, month)) {
        if (sameMonth && day < sd) continue;
        const sameDay = sameMonth && day === sd;
        for (const hour of sortedHours) {
          if (sameDay && hour < sh) continue;
          const sameHour = sameDay && hour === sh;
          for (const minute of sortedMinutes) {
            if (sameHour && minute < smin) continue;
            return Date.UTC(year, month - 1, day, hour, minute);
          }
        }
      }
    }
  }
  return undefined;
}
