import { ModelfnError } from '../../shared/errors.js';
import type { CronSchedule } from './cron.js';
import { nextCronTime, parseCron } from './cron.js';

/**
 * EventBridge schedule expressions: `rate(value unit)` and `cron(...)`, UTC. A rate schedule runs
 * every period counted from its anchor (the rule's creation time), as EventBridge's rate rules do.
 */
export interface RateSchedule {
  readonly kind: 'rate';
  readonly text: string;
  readonly periodMs: number;
}

export type Schedule = RateSchedule | CronSchedule;

const UNITS: Record<string, number> = { second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };
/** The longest rate period: 100 years of days. */
const MAX_RATE_MS = 36_500 * 86_400_000;

export interface ParseOptions {
  /** Test aid: accept rate(N seconds) (EventBridge's shortest is one minute). */
  readonly allowSeconds?: boolean;
}

export function parseSchedule(expression: string, options: ParseOptions = {}): Schedule {
  const text = expression.trim();
  const rate = /^rate\((.*)\)$/.exec(text);
  if (rate) return parseRate(rate[1]!, options);
  const cron = /^cron\((.*)\)$/.exec(text);
  if (cron) return parseCron(cron[1]!);
  throw new ModelfnError('INVALID_PARAMETER', `ScheduleExpression: ${JSON.stringify(expression)} must be rate(value unit), e.g. rate(5 minutes), or cron(fields), e.g. cron(0 12 * * ? *)`);
}

function parseRate(inner: string, options: ParseOptions): RateSchedule {
  const m = /^\s*(\d+)\s+([a-z]+?)(s?)\s*$/.exec(inner);
  const unit = m ? UNITS[m[2]!] : undefined;
  if (!m || unit === undefined || (m[2] === 'second' && !options.allowSeconds)) {
    throw new ModelfnError('INVALID_PARAMETER', `ScheduleExpression: rate(${inner}) must be rate(value unit) with unit minute(s), hour(s) or day(s)`);
  }
  const n = Number(m[1]);
  if (n < 1) throw new ModelfnError('INVALID_PARAMETER', 'ScheduleExpression: the rate value must be a positive whole number');
  // Runs are dates: a longer period would put the next one past what a Date can hold (and never run).
  if (n * unit > MAX_RATE_MS) throw new ModelfnError('INVALID_PARAMETER', `ScheduleExpression: rate(${inner.trim()}) is longer than ${MAX_RATE_MS / 86_400_000} days`);
  if ((n === 1) !== (m[3] === '')) {
    throw new ModelfnError('INVALID_PARAMETER', `ScheduleExpression: rate(${inner.trim()}): use the singular unit for 1 (rate(1 ${m[2]})) and the plural otherwise (rate(${n} ${m[2]}s))`);
  }
  return { kind: 'rate', text: `rate(${n} ${m[2]}${m[3]})`, periodMs: n * unit };
}

/** The first run strictly after `after`; `anchor` places a rate schedule's runs. */
export function nextRunAfter(schedule: Schedule, after: number, anchor: number): number | undefined {
  if (schedule.kind === 'cron') return nextCronTime(schedule, after);
  if (after < anchor) return anchor + schedule.periodMs;
  return anchor + (Math.floor((after - anchor) / schedule.periodMs) + 1) * schedule.periodMs;
}

/** The latest run at or before `at` that comes after `after` (undefined when there is none). */
export function latestRunBetween(schedule: Schedule, after: number, at: number, anchor: number): number | undefined {
  if (schedule.kind === 'rate') {
    if (at < anchor + schedule.periodMs) return undefined;
    const latest = anchor + Math.floor((at - anchor) / schedule.periodMs) * schedule.periodMs;
    return latest > after ? latest : undefined;
  }
  // Binary search: nextCronTime grows with its argument, so halve the stretch that may still hold
  // a later run. Walking run by run took 1440 steps (about 200 ms) for an every-minute schedule.
  let latest = nextCronTime(schedule, after);
  if (latest === undefined || latest > at) return undefined;
  let hi = at; // no run in (hi, at]
  while (hi - latest >= 60_000) {
    const mid = latest + Math.floor((hi - latest) / 120_000) * 60_000;
    const probe = nextCronTime(schedule, mid);
    if (probe !== undefined && probe <= at) latest = probe;
    else hi = mid;
  }
  return latest;
}

export interface RunPlan {
  /** Fire now for this scheduled time (at most one run, however many were missed). */
  readonly fire?: number;
  /** When to look again. */
  readonly nextAt?: number;
}

/**
 * The missed-run rule: runs whose time passed while the platform was down (or busy) are not
 * replayed in a burst. If one or more runs were missed since the last one fired (or since the
 * rule was created), exactly one catch-up run fires now, carrying the time of the most recent
 * missed run; then the schedule continues with its next time after now.
 */
export function planRun(schedule: Schedule, state: { anchor: number; lastScheduled?: number; now: number }): RunPlan {
  const from = state.lastScheduled ?? state.anchor;
  const fire = latestRunBetween(schedule, from, state.now, state.anchor);
  const nextAt = nextRunAfter(schedule, state.now, state.anchor);
  return { ...(fire !== undefined ? { fire } : {}), ...(nextAt !== undefined ? { nextAt } : {}) };
}
