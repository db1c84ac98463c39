/** One line of a function's log, as Lambda writes them (START / output / END / REPORT). */
export interface LogRecord {
  /** Epoch ms. */
  readonly ts: number;
  readonly functionName: string;
  readonly version: string;
  readonly instanceId: string;
  /** null for lines written outside an invocation (init, shutdown). */
  readonly requestId: string | null;
  readonly kind: 'start' | 'end' | 'report' | 'output' | 'platform';
  readonly message: string;
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
