import type { Statement } from 'better-sqlite3';
import type { Clock } from '../../shared/clock.js';
import type { InvocationRecord, InvocationRecordStore, RecordPatch, RecordQuery, RecordStatus } from '../../events/records.js';
import type { EventsDatabase } from './events-database.js';

interface RecordRow {
  id: string;
  kind: string;
  function_name: string;
  qualifier: string | null;
  status: string;
  attempts: number;
  function_errors: number;
  accepted_at: number;
  started_at: number | null;
  finished_at: number | null;
  next_attempt_at: number | null;
  error: string | null;
  detail: string;
  updated_at: number;
}

const COLUMNS = 'id, kind, function_name, qualifier, status, attempts, function_errors, accepted_at, started_at, finished_at, next_attempt_at, error, detail, updated_at';

/** Invocation records in events.db, written in the same group commit as the events they describe. */
export class SqliteRecordStore implements InvocationRecordStore {
  private readonly stmt: {
    insert: Statement<unknown[]>;
    get: Statement<[string], RecordRow>;
    replace: Statement<unknown[]>;
    prune: Statement<[number]>;
  };

  constructor(
    private readonly database: EventsDatabase,
    private readonly clock: Clock,
  ) {
    const db = database.db;
    this.stmt = {
      insert: db.prepare(`INSERT OR REPLACE INTO records (${COLUMNS}) VALUES (${COLUMNS.split(', ').map(() => '?').join(', ')})`),
      get: db.prepare(`SELECT ${COLUMNS} FROM records WHERE id = ?`),
      replace: db.prepare(
        'UPDATE records SET qualifier = ?, status = ?, attempts = ?, function_errors = ?, started_at = ?, finished_at = ?, next_attempt_at = ?, error = ?, detail = ?, updated_at = ? WHERE id = ?',
      ),
      prune: db.prepare("DELETE FROM records WHERE status IN ('succeeded', 'failed') AND finished_at < ?"),
    };
  }

  async create(record: InvocationRecord): Promise<void> {
    await this.database.run(() => {
      this.stmt.insert.run(...toRow(record));
    });
  }

  async update(id: string, patch: RecordPatch): Promise<boolean> {
    return this.database.run(() => {
      const row = this.stmt.get.get(id);
      if (!row) return false;
      const r = { ...fromRow(row), ...patch, updatedAt: this.clock.now() };
      this.stmt.replace.run(r.qualifier, r.status, r.attempts, r.functionErrors, r.startedAt, r.finishedAt, r.nextAttemptAt, r.error ? JSON.stringify(r.error) : null, JSON.stringify(r.detail), r.updatedAt, id);
      return true;
    });
  }

  async get(id: string): Promise<InvocationRecord | undefined> {
    return this.database.run(() => {
      const row = this.stmt.get.get(id);
      return row ? fromRow(row) : undefined;
    });
  }

  async list(query: RecordQuery): Promise<InvocationRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (clause: string, value: unknown) => {
      where.push(clause);
      args.push(value);
    };
    if (query.functionName !== undefined) add('function_name = ?', query.functionName);
    if (query.kind !== undefined) add('kind = ?', query.kind);
    if (query.status !== undefined) add('status = ?', query.status);
    if (query.before !== undefined) add('accepted_at < ?', query.before);
    const sql = `SELECT ${COLUMNS} FROM records ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY accepted_at DESC, id DESC LIMIT ?`;
    args.push(query.limit);
    return this.database.run(() => (this.database.db.prepare(sql).all(...args) as RecordRow[]).map(fromRow));
  }

  async prune(finishedBefore: number): Promise<number> {
    return this.database.run(() => this.stmt.prune.run(finishedBefore).changes);
  }
}

function toRow(r: InvocationRecord): unknown[] {
  return [
    r.id,
    r.kind,
    r.functionName,
    r.qualifier,
    r.status,
    r.attempts,
    r.functionErrors,
    r.acceptedAt,
    r.startedAt,
    r.finishedAt,
    r.nextAttemptAt,
    r.error ? JSON.stringify(r.error) : null,
    JSON.stringify(r.detail),
    r.updatedAt,
  ];
}

function fromRow(row: RecordRow): InvocationRecord {
  return {
    id: row.id,
    kind: row.kind as InvocationRecord['kind'],
    functionName: row.function_name,
    qualifier: row.qualifier,
    status: row.status as RecordStatus,
    attempts: row.attempts,
    functionErrors: row.function_errors,
    acceptedAt: row.accepted_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    nextAttemptAt: row.next_attempt_at,
    error: row.error ? (JSON.parse(row.error) as InvocationRecord['error']) : null,
    detail: JSON.parse(row.detail) as Record<string, unknown>,
    updatedAt: row.updated_at,
  };
}
