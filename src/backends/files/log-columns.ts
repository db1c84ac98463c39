import type { InvocationReport, LogRecord, StoredLogRecord } from '../../telemetry/logs/log-record.js';

/**
 * One function's log records not yet written, as two flat arrays: what the request thread keeps
 * (a few array stores per record, no object that lives until the flush) and what a worker takes
 * cheaply (a structured clone of strings and numbers). The worker turns them into NDJSON lines.
 */
export interface LogColumns {
  readonly strings: string[];
  readonly numbers: number[];
}

/** Per record: version, instanceId, requestId, kind, message, errorType. */
const STRINGS = 6;
/** Per record: ts, seq, flags, startedAt, durationMs, billedDurationMs, memoryMb, maxMemoryUsedMb, initDurationMs. */
const NUMBERS = 9;
const NULL_REQUEST = 1;
const REPORT = 2;
const INIT_DURATION = 4;
const ERROR_TYPE = 8;

export function newColumns(): LogColumns {
  return { strings: [], numbers: [] };
}

export function columnCount(columns: LogColumns): number {
  return columns.numbers.length / NUMBERS;
}

export function pushRecord(columns: LogColumns, r: LogRecord, seq: number): void {
  const report = r.report;
  let flags = 0;
  if (r.requestId === null) flags |= NULL_REQUEST;
  if (report !== undefined) {
    flags |= REPORT;
    if (report.initDurationMs !== undefined) flags |= INIT_DURATION;
    if (report.errorType !== undefined) flags |= ERROR_TYPE;
  }
  columns.strings.push(r.version, r.instanceId, r.requestId ?? '', r.kind, r.message, report?.errorType ?? '');
  columns.numbers.push(
    r.ts,
    seq,
    flags,
    report?.startedAt ?? 0,
    report?.durationMs ?? 0,
    report?.billedDurationMs ?? 0,
    report?.memoryMb ?? 0,
    report?.maxMemoryUsedMb ?? 0,
    report?.initDurationMs ?? 0,
  );
}

/** The records back, members in the order they are stored in (JSON lines keep that order). */
export function* columnRecords(functionName: string, columns: LogColumns): Generator<StoredLogRecord> {
  const { strings: s, numbers: n } = columns;
  for (let i = 0, j = 0; j < n.length; i += STRINGS, j += NUMBERS) {
    const flags = n[j + 2]!;
    const ts = n[j]!;
    const version = s[i]!;
    const instanceId = s[i + 1]!;
    const requestId = flags & NULL_REQUEST ? null : s[i + 2]!;
    const kind = s[i + 3] as LogRecord['kind'];
    const message = s[i + 4]!;
    const seq = n[j + 1]!;
    if (!(flags & REPORT)) {
      yield { ts, functionName, version, instanceId, requestId, kind, message, seq };
      continue;
    }
    const report: Mutable<InvocationReport> = {
      startedAt: n[j + 3]!,
      durationMs: n[j + 4]!,
      billedDurationMs: n[j + 5]!,
      memoryMb: n[j + 6]!,
      maxMemoryUsedMb: n[j + 7]!,
    };
    if (flags & INIT_DURATION) report.initDurationMs = n[j + 8]!;
    if (flags & ERROR_TYPE) report.errorType = s[i + 5]!;
    yield { ts, functionName, version, instanceId, requestId, kind, message, report, seq };
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The NDJSON text of the records (one JSON.stringify per line: this runs off the request thread). */
export function columnsToText(functionName: string, columns: LogColumns): string {
  let text = '';
  for (const r of columnRecords(functionName, columns)) text += `${JSON.stringify(r)}\n`;
  return text;
}
