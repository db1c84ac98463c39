/** What REPORT says about one invocation. */
export interface InvocationReport {
  /** Epoch ms when the invocation started (the START line's time). */
  readonly startedAt: number;
  readonly durationMs: number;
  readonly billedDurationMs: number;
  readonly memoryMb: number;
  readonly maxMemoryUsedMb: number;
  readonly initDurationMs?: number;
  readonly errorType?: string;
}

/**
 * One stored log record. Output and platform records carry a line; an invocation writes one
 * 'invocation' record when it ends, from which START, END and REPORT are rendered on read
 * (one record instead of three on the request path).
 */
export interface LogRecord {
  /** Epoch ms. */
  readonly ts: number;
  readonly functionName: string;
  readonly version: string;
  readonly instanceId: string;
  /** null for lines written outside an invocation (init, shutdown). */
  readonly requestId: string | null;
  readonly kind: 'output' | 'platform' | 'invocation';
  /** The line (output, platform); empty for invocation records. */
  readonly message: string;
  readonly report?: InvocationReport;
}

/** Where the scheduler writes log lines; implementations buffer, so append never blocks. */
export interface LogSink {
  append(record: LogRecord): void;
}

export interface LogQuery {
  readonly functionName: string;
  readonly requestId?: string;
  /** Epoch ms, inclusive. */
  readonly since?: number;
  readonly until?: number;
  /** Only records with a sequence number above this (for following). */
  readonly afterSeq?: number;
  readonly limit?: number;
}

export interface StoredLogRecord extends LogRecord {
  readonly seq: number;
}

/** Durable, queryable logs with retention; embedded: SQLite. */
export interface LogStore extends LogSink {
  query(q: LogQuery): Promise<StoredLogRecord[]>;
  /** New records of a function as they are stored; returns an unsubscribe function. */
  subscribe(functionName: string, listener: (records: StoredLogRecord[]) => void): () => void;
  /** Drop a deleted function's logs. */
  deleteFunction(functionName: string): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export function formatOutputLine(ts: number, requestId: string | null, level: string, text: string): string {
  return `${new Date(ts).toISOString()}\t${requestId ?? 'undefined'}\t${level}\t${text}`;
}

export function formatStart(requestId: string, version: string): string {
  return `START RequestId: ${requestId} Version: ${version}`;
}

export function formatEnd(requestId: string): string {
  return `END RequestId: ${requestId}`;
}

/** Lambda's REPORT line (Init Duration only on cold starts). */
export function formatReport(requestId: string, r: InvocationReport): string {
  return (
    `REPORT RequestId: ${requestId}\tDuration: ${r.durationMs.toFixed(2)} ms\tBilled Duration: ${r.billedDurationMs} ms\t` +
    `Memory Size: ${r.memoryMb} MB\tMax Memory Used: ${Math.max(1, Math.round(r.maxMemoryUsedMb))} MB` +
    (r.initDurationMs !== undefined ? `\tInit Duration: ${r.initDurationMs.toFixed(2)} ms` : '') +
    (r.errorType !== undefined ? `\tStatus: error\tError Type: ${r.errorType}` : '')
  );
}

/** A log line as users see it. */
export interface LogLine {
  readonly seq: number;
  readonly ts: number;
  readonly version: string;
  readonly instanceId: string;
  readonly requestId: string | null;
  readonly kind: 'start' | 'end' | 'report' | 'output' | 'platform';
  readonly message: string;
}

/**
 * Turns stored records into Lambda's lines: START before the first line of each invocation, END
 * and REPORT from its invocation record. Stateful, so a follow stream renders batch after batch.
 */
export class LogRenderer {
  private readonly started = new Set<string>();

  render(records: readonly StoredLogRecord[]): LogLine[] {
    const lines: LogLine[] = [];
    for (const r of records) {
      const base = { seq: r.seq, version: r.version, instanceId: r.instanceId, requestId: r.requestId };
      if (r.requestId !== null && !this.started.has(r.requestId) && (r.kind === 'invocation' || r.kind === 'output')) {
        this.started.add(r.requestId);
        if (this.started.size > 10_000) this.started.delete(this.started.values().next().value!);
        lines.push({ ...base, ts: r.report?.startedAt ?? r.ts, kind: 'start', message: formatStart(r.requestId, r.version) });
      }
      if (r.kind === 'invocation' && r.report && r.requestId !== null) {
        lines.push({ ...base, ts: r.ts, kind: 'end', message: formatEnd(r.requestId) });
        lines.push({ ...base, ts: r.ts, kind: 'report', message: formatReport(r.requestId, r.report) });
      } else if (r.kind !== 'invocation') {
        lines.push({ ...base, ts: r.ts, kind: r.kind, message: r.message });
      }
    }
    return lines;
  }
}
