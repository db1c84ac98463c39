import type { InvocationRecord } from '../../scheduler/scheduler.js';

/**
 * What a function version used in one period. Durations are kept per billing rule so the price
 * table can apply each provider's own rounding to the same usage:
 * - billedMs: every invocation rounded up to 1 ms, init included (Lambda since August 2025);
 * - billedMs100: rounded up to 100 ms (Cloud Run);
 * - billedMsMin100: 1 ms steps with a 100 ms minimum (Azure Functions Consumption).
 * mbMs is billedMs times the configured memory (MB x ms), from which GB-seconds are exact.
 */
export interface Usage {
  requests: number;
  errors: number;
  coldStarts: number;
  throttles: number;
  durationMs: number;
  initMs: number;
  billedMs: number;
  mbMs: number;
  billedMs100: number;
  billedMsMin100: number;
  /** Configured memory of the version (the last seen in the period). */
  memoryMb: number;
  /** CPU time the version's instance processes used on this machine (user + system). */
  cpuMs: number;
}

export interface UsageRow extends Usage {
  /** Start of the minute, epoch ms. */
  readonly minute: number;
  readonly functionName: string;
  readonly version: string;
}

export function emptyUsage(): Usage {
  return { requests: 0, errors: 0, coldStarts: 0, throttles: 0, durationMs: 0, initMs: 0, billedMs: 0, mbMs: 0, billedMs100: 0, billedMsMin100: 0, memoryMb: 0, cpuMs: 0 };
}

export function addUsage(into: Usage, u: Usage): Usage {
  into.requests += u.requests;
  into.errors += u.errors;
  into.coldStarts += u.coldStarts;
  into.throttles += u.throttles;
  into.durationMs += u.durationMs;
  into.initMs += u.initMs;
  into.billedMs += u.billedMs;
  into.mbMs += u.mbMs;
  into.billedMs100 += u.billedMs100;
  into.billedMsMin100 += u.billedMsMin100;
  into.memoryMb = Math.max(into.memoryMb, u.memoryMb);
  into.cpuMs += u.cpuMs;
  return into;
}

/** MB x ms -> GB-seconds, as Lambda counts them (memory in GB = MB / 1024). */
export function gbSeconds(mbMs: number): number {
  return mbMs / 1024 / 1000;
}

const MINUTE = 60_000;

/**
 * Per-minute usage per function version, in memory until drained (the metering service writes
 * the drained rows to SQLite in one batch). add() is a map lookup and a few adds.
 */
export class MeterBook {
  /** The open minute's row of each function version: function -> version -> row. */
  private current = new Map<string, Map<string, UsageRow>>();
  /** Rows of earlier minutes not drained yet. */
  private closed: UsageRow[] = [];

  add(r: InvocationRecord, now: number): void {
    const u = this.bucket(r.functionName, r.version, now);
    // An init that failed has no invocation time: only the init is billed.
    const initMs = r.initDurationMs === undefined ? 0 : Math.ceil(r.initDurationMs);
    const invokeMs = r.billedDurationMs;
    const billed = invokeMs + initMs;
    u.requests++;
    if (r.errorType !== undefined) u.errors++;
    if (r.initDurationMs !== undefined) u.coldStarts++;
    u.durationMs += r.durationMs;
    u.initMs += initMs;
    u.billedMs += billed;
    u.mbMs += billed * r.memoryMb;
    u.billedMs100 += Math.ceil((r.durationMs + (r.initDurationMs ?? 0)) / 100) * 100 || 100;
    u.billedMsMin100 += (invokeMs === 0 ? 0 : Math.max(100, invokeMs)) + initMs;
    u.memoryMb = r.memoryMb;
  }

  addThrottle(functionName: string, version: string, now: number): void {
    this.bucket(functionName, version, now).throttles++;
  }

  addCpu(functionName: string, version: string, cpuMs: number, now: number): void {
    this.bucket(functionName, version, now).cpuMs += cpuMs;
  }

  /** Everything gathered since the last drain. */
  drain(): UsageRow[] {
    const rows = this.closed;
    this.closed = [];
    for (const versions of this.current.values()) rows.push(...versions.values());
    this.current = new Map();
    return rows;
  }

  get pending(): number {
    let n = this.closed.length;
    for (const versions of this.current.values()) n += versions.size;
    return n;
  }

  private bucket(functionName: string, version: string, now: number): UsageRow {
    const minute = now - (now % MINUTE);
    let versions = this.current.get(functionName);
    if (!versions) this.current.set(functionName, (versions = new Map()));
    let row = versions.get(version);
    if (row && row.minute === minute) return row;
    // A new minute (or an event stamped in an earlier one): keep the old row for the next drain.
    if (row) this.closed.push(row);
    row = { minute, functionName, version, ...emptyUsage() };
    versions.set(version, row);
    return row;
  }
}
