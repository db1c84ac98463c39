import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
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
   * full: a write resolves only once it is on disk (survives power loss); normal: durable against a
   * process crash (kill -9), synced at WAL checkpoints. See docs/events.md for the measured cost.
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
 *
 * sync=full without blocking the event loop: SQLite's own synchronous=FULL would fsync inside the
 * commit, on the main thread (better-sqlite3 is synchronous), so one slow fsync on a busy disk
 * would stall every request of the platform. Instead SQLite commits with synchronous=NORMAL (the
 * WAL frames are written, not synced) and the platform fdatasyncs the WAL file on libuv's thread
 * pool before it resolves the batch's promises: a 202 still means "on disk". Checkpoints (every
 * ~4 MB of WAL) sync as SQLite does them.
 */
export class EventsDatabase {
  readonly db: SqliteDatabase;
  private pending: PendingWrite[] = [];
  private scheduled = false;
  private closed = false;
  private wal: FileHandle | undefined;
  private walOpening: Promise<FileHandle> | undefined;
  /** Writes waiting for the WAL sync that covers their commit (commit number). */
  private syncWaiters: Array<{ readonly commit: number; readonly resolve: () => void; readonly reject: (err: unknown) => void }> = [];
  /** The one fdatasync running: commits made meanwhile wait for the next, which covers them all. */
  private syncInFlight: Promise<void> | undefined;
  private readonly changes: Statement;
  /** Transactions committed (for the benchmark of group vs per-event commits). */
  commits = 0;

  constructor(
    private readonly path: string,
    private readonly options: EventsDatabaseOptions,
  ) {
    this.db = openDatabase(path, MIGRATIONS);
    this.db.pragma('synchronous = NORMAL');
    this.changes = this.db.prepare('SELECT total_changes() AS n');
  }

  run<T>(op: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('events database is closed'));
    if (!this.options.groupCommit) {
      let value: T;
      const before = this.totalChanges();
      try {
        value = this.db.transaction(op).immediate();
        this.commits++;
      } catch (err) {
        return Promise.reject(err);
      }
      return this.durable(before).then(() => value);
    }
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ run: op, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commit everything pending now (also called by close); its promises resolve once it is durable. */
  flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const results: Array<{ ok: true; value: unknown } | { ok: false; err: unknown }> = [];
    const before = this.totalChanges();
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
    const settle = () =>
      batch.forEach((w, i) => {
        const r = results[i]!;
        if (r.ok) w.resolve(r.value);
        else w.reject(r.err);
      });
    this.durable(before).then(settle, (err: unknown) => batch.forEach((w) => w.reject(err)));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    while (this.syncInFlight) await this.syncInFlight;
    await this.wal?.close().catch(() => undefined);
    if (this.db.open) this.db.close();
  }

  private totalChanges(): number {
    return (this.changes.get() as { n: number }).n;
  }

  /**
   * Resolves once the last commit is on disk (at once when it changed nothing, or with sync=normal).
   * One fdatasync at a time, each covering every commit made before it started: under load the
   * syncs group themselves, as the commits do.
   */
  private durable(before: number): Promise<void> {
    if (this.options.sync !== 'full' || this.totalChanges() === before) return Promise.resolve();
    const commit = this.commits;
    return new Promise<void>((resolve, reject) => {
      this.syncWaiters.push({ commit, resolve, reject });
      this.startSync();
    });
  }

  private startSync(): void {
    if (this.syncInFlight || this.syncWaiters.length === 0) return;
    const covered = this.commits;
    const settle = (err?: unknown) => {
      const done = this.syncWaiters.filter((w) => w.commit <= covered);
      this.syncWaiters = this.syncWaiters.filter((w) => w.commit > covered);
      for (const w of done) {
        if (err === undefined) w.resolve();
        else w.reject(err);
      }
    };
    this.syncInFlight = this.walFile()
      .then((wal) => wal.datasync())
      .then(() => settle(), settle)
      .finally(() => {
        this.syncInFlight = undefined;
        this.startSync();
      });
  }

  /** The WAL file (one inode for the database's lifetime: SQLite rewinds it at checkpoints, never replaces it while open). */
  private walFile(): Promise<FileHandle> {
    if (this.wal) return Promise.resolve(this.wal);
    this.walOpening ??= open(`${this.path}-wal`, 'r').then(
      (handle) => (this.wal = handle),
      (err: unknown) => {
        this.walOpening = undefined; // try again with the next write
        throw err;
      },
    );
    return this.walOpening;
  }
}
