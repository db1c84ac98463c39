import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import { openDatabase } from '../../backends/sqlite/database.js';
import { emptyUsage } from './usage.js';
import type { Usage, UsageRow } from './usage.js';

const MIGRATIONS = [
  `CREATE TABLE usage_minute (
     minute INTEGER NOT NULL,
     function TEXT NOT NULL,
     version TEXT NOT NULL,
     requests INTEGER NOT NULL DEFAULT 0,
     errors INTEGER NOT NULL DEFAULT 0,
     cold_starts INTEGER NOT NULL DEFAULT 0,
     throttles INTEGER NOT NULL DEFAULT 0,
     duration_ms REAL NOT NULL DEFAULT 0,
     init_ms INTEGER NOT NULL DEFAULT 0,
     billed_ms INTEGER NOT NULL DEFAULT 0,
     mb_ms INTEGER NOT NULL DEFAULT 0,
     billed_ms_100 INTEGER NOT NULL DEFAULT 0,
     billed_ms_min100 INTEGER NOT NULL DEFAULT 0,
     memory_mb INTEGER NOT NULL DEFAULT 0,
     cpu_ms REAL NOT NULL DEFAULT 0,
     PRIMARY KEY (minute, function, version)
   ) WITHOUT ROWID;
   CREATE INDEX usage_minute_by_function ON usage_minute (function, minute);`,
];

const SUMS = `SUM(requests) AS requests, SUM(errors) AS errors, SUM(cold_starts) AS coldStarts, SUM(throttles) AS throttles,
  SUM(duration_ms) AS durationMs, SUM(init_ms) AS initMs, SUM(billed_ms) AS billedMs, SUM(mb_ms) AS mbMs,
  SUM(billed_ms_100) AS billedMs100, SUM(billed_ms_min100) AS billedMsMin100, MAX(memory_mb) AS memoryMb, SUM(cpu_ms) AS cpuMs`;

export interface UsageQuery {
  /** Epoch ms, inclusive (rounded down to the minute). */
  readonly since: number;
  /** Epoch ms, exclusive. */
  readonly until?: number;
  readonly functionName?: string;
}

export interface UsageTotal extends Usage {
  readonly functionName: string;
  readonly version: string;
}

export interface UsagePoint extends Usage {
  /** Start of the step, epoch ms. */
  readonly t: number;
  readonly functionName: string;
}

/**
 * Minute buckets of usage per function version in SQLite (metering.db, WAL), kept as a time
 * series: rows are upserted (added to) in one transaction per flush and deleted past retention.
 */
export class MeteringStore {
  private readonly db: SqliteDatabase;
  private readonly upsert: Statement;

  constructor(path: string) {
    this.db = openDatabase(path, MIGRATIONS);
    this.upsert = this.db.prepare(
      `INSERT INTO usage_minute (minute, function, version, requests, errors, cold_starts, throttles, duration_ms, init_ms, billed_ms, mb_ms, billed_ms_100, billed_ms_min100, memory_mb, cpu_ms)
       VALUES (@minute, @functionName, @version, @requests, @errors, @coldStarts, @throttles, @durationMs, @initMs, @billedMs, @mbMs, @billedMs100, @billedMsMin100, @memoryMb, @cpuMs)
       ON CONFLICT (minute, function, version) DO UPDATE SET
         requests = requests + excluded.requests, errors = errors + excluded.errors, cold_starts = cold_starts + excluded.cold_starts,
         throttles = throttles + excluded.throttles, duration_ms = duration_ms + excluded.duration_ms, init_ms = init_ms + excluded.init_ms,
         billed_ms = billed_ms + excluded.billed_ms, mb_ms = mb_ms + excluded.mb_ms, billed_ms_100 = billed_ms_100 + excluded.billed_ms_100,
         billed_ms_min100 = billed_ms_min100 + excluded.billed_ms_min100,
         memory_mb = CASE WHEN excluded.memory_mb > 0 THEN excluded.memory_mb ELSE memory_mb END, cpu_ms = cpu_ms + excluded.cpu_ms`,
    );
  }

  /** Add rows (one transaction). */
  write(rows: readonly UsageRow[]): void {
    if (rows.length === 0) return;
    this.db.transaction(() => {
      for (const row of rows) this.upsert.run(row);
    })();
  }

  /** Totals per function version over a time range. */
  totals(q: UsageQuery): UsageTotal[] {
    const { where, params } = whereOf(q);
    const rows = this.db
      .prepare(`SELECT function AS functionName, version, ${SUMS} FROM usage_minute WHERE ${where} GROUP BY function, version ORDER BY function, version`)
      .all(params) as UsageTotal[];
    return rows.map((r) => ({ ...emptyUsage(), ...r }));
  }

  /** A time series per function with `stepMs` steps (a multiple of a minute). */
  series(q: UsageQuery & { readonly stepMs: number }): UsagePoint[] {
    const step = Math.max(60_000, Math.round(q.stepMs / 60_000) * 60_000);
    const { where, params } = whereOf(q);
    return this.db
      .prepare(`SELECT (minute / ${step}) * ${step} AS t, function AS functionName, ${SUMS} FROM usage_minute WHERE ${where} GROUP BY t, function ORDER BY t, function`)
      .all(params) as UsagePoint[];
  }

  /** Drop minutes older than `before` (epoch ms); returns how many rows went. */
  deleteBefore(before: number): number {
    return this.db.prepare('DELETE FROM usage_minute WHERE minute < ?').run(before).changes;
  }

  close(): void {
    this.db.close();
  }
}

function whereOf(q: UsageQuery): { where: string; params: Record<string, unknown> } {
  const parts = ['minute >= @since'];
  const params: Record<string, unknown> = { since: q.since - (q.since % 60_000) };
  if (q.until !== undefined) {
    parts.push('minute < @until');
    params.until = q.until;
  }
  if (q.functionName !== undefined) {
    parts.push('function = @fn');
    params.fn = q.functionName;
  }
  return { where: parts.join(' AND '), params };
}
