/**
 * Invocation records: one per async event and per batch job, with its status, attempts, timings
 * and last error, so `modelfn invocations FUNCTION` can answer "what happened to my event?".
 * Embedded: a table next to the queues in events.db; cluster: a JetStream KV bucket.
 */

export type RecordKind = 'event' | 'job';

export type RecordStatus = 'queued' | 'running' | 'retrying' | 'succeeded' | 'failed';

export const RECORD_STATUSES: readonly RecordStatus[] = ['queued', 'running', 'retrying', 'succeeded', 'failed'];

export interface RecordError {
  readonly type: string;
  readonly message: string;
}

export interface InvocationRecord {
  /** The request id (events) or job id (jobs). */
  readonly id: string;
  readonly kind: RecordKind;
  readonly functionName: string;
  readonly qualifier: string | null;
  readonly status: RecordStatus;
  /** Invocations started for it (retries included). */
  readonly attempts: number;
  /** Of those, the ones that ended in a function error (what MaximumRetryAttempts counts). */
  readonly functionErrors: number;
  readonly acceptedAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly nextAttemptAt: number | null;
  readonly error: RecordError | null;
  /** Kind-specific facts: where an event came from, its destination, a job's progress. */
  readonly detail: Readonly<Record<string, unknown>>;
  readonly updatedAt: number;
}

export type RecordPatch = Partial<Omit<InvocationRecord, 'id' | 'kind' | 'functionName' | 'acceptedAt'>>;

export interface RecordQuery {
  readonly functionName?: string;
  readonly kind?: RecordKind;
  readonly status?: RecordStatus;
  /** Only records accepted before this time (paging backwards). */
  readonly before?: number;
  readonly limit: number;
}

export interface InvocationRecordStore {
  /** Durable once resolved (group-committed with the event it describes where the backend can). */
  create(record: InvocationRecord): Promise<void>;
  /** Apply a patch; resolves false when the record does not exist. */
  update(id: string, patch: RecordPatch): Promise<boolean>;
  get(id: string): Promise<InvocationRecord | undefined>;
  /** Newest first. */
  list(query: RecordQuery): Promise<InvocationRecord[]>;
  /** Remove finished records older than the cut-off; returns how many. */
  prune(finishedBefore: number): Promise<number>;
}
