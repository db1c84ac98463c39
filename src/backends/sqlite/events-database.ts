import type { Database as SqliteDatabase } from 'better-sqlite3';
import { openDatabase } from './database.js';

/**
 * events.db: queues, messages, invocation records and schedule state, in their own SQLite file so
 * that event traffic never contends with the registry's writes.
 */
const MIGRATIONS = [
  `CREATE TABLE queues (
     name TEXT PRIMARY KEY,
     config TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE messages (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     queue TEXT NOT NULL,
     id TEXT NOT NULL,
     body BLOB NOT NULL,
     attributes TEXT,
     sent_at INTEGER NOT NULL,
     visible_at INTEGER NOT NULL,
     receive_count INTEGER NOT NULL DEFAULT 0,
     first_received_at INTEGER,
     lease TEXT
   );
   CREATE INDEX messages_ready ON messages (queue, visible_at, seq);
   CREATE TABLE records (
     id TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     function_name TEXT NOT NULL,
     qualifier TEXT,
     status TEXT NOT NULL,
     attempts INTEGER NOT NULL,
     function_errors INTEGER NOT NULL,
     accepted_at INTEGER NOT NULL,
     started_at INTEGER,
     finished_at INTEGER,
     next_attempt_at INTEGER,
     error TEXT,
     detail TEXT NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX records_by_function ON records (function_name, accepted_at);
   CREATE INDEX records_by_time ON records (accepted_at);
   CREATE TABLE schedule_state (
     rule TEXT PRIMARY KEY,
     last_scheduled_at INTEGER NOT NULL,
     fired_at INTEGER NOT NULL
   );`,
];

export interface EventsDatabaseOptions {
  /**
   * full: every commit is fsynced (survives power loss); normal: durable against a process crash
   * (kill -9), synced at WAL checkpoints. See docs/events.md for the measured cost.
   */
  readonly sync: 'full' | 'normal';
  /** Group commit: writes issued in the same event-loop turn share one transaction (and one fsync). */
  readonly groupCommit: boolean;
}

interface PendingWrite {
  readonly run: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * One connection to events.db and its write path. Every operation (reads included, so a caller
 * always reads its own writes) runs through `run`: with group commit, operations issued in the
 * same turn of the event loop run in one transaction, each in its own savepoint (one failing
 * operation does not undo the others), and every promise resolves only after the commit.
 */
export class EventsDatabase {
  readonly db: SqliteDatabase;
  private pending: PendingWrite[] = [];
  private scheduled = false;
  private closed = false;
  /** Transactions committed (for the benchmark of group vs per-event commits). */
  commits = 0;

  constructor(path: string, private readonly options: EventsDatabaseOptions) {
    this.db = openDatabase(path, MIGRATIONS);
    this.db.pragma(`synchronous = ${options.sync === 'full' ? 'FULL' : 'NORMAL'}`);
  }

  run<T>(op: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('events database is closed'));
    if (!this.options.groupCommit) {
      try {
        const value = this.db.transaction(op).immediate();
        this.commits++;
        return Promise.resolve(value);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ run: op, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commit everything pending now (also called by close). */
  flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const results: Array<{ ok: true; value: unknown } | { ok: false; err: unknown }> = [];
    try {
      this.db
        .transaction(() => {
          for (const w of batch) {
            try {
              results.push({ ok: true, value: this.db.transaction(w.run)() });
            } catch (err) {
              results.push({ ok: false, err });
            }
          }
        })
        .immediate();
      this.commits++;
    } catch (err) {
      for (const w of batch) w.reject(err);
      return;
    }
    batch.forEach((w, i) => {
      const r = results[i]!;
      if (r.ok) w.resolve(r.value);
      else w.reject(r.err);
    });
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.db.open) this.db.close();
  }
}
