import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';

/**
 * Open a SQLite database the way every embedded store wants it: WAL (readers never block the
 * writer, and a crash mid-write leaves the last committed state), synchronous=NORMAL (durable at
 * each checkpoint; WAL keeps it consistent), and a busy timeout for the rare second connection.
 */
export function openDatabase(path: string, migrations: readonly string[]): SqliteDatabase {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  migrate(db, migrations);
  return db;
}

/** Apply the migrations not yet applied, each in its own transaction, tracked by user_version. */
function migrate(db: SqliteDatabase, migrations: readonly string[]): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let i = current; i < migrations.length; i++) {
    db.transaction(() => {
      db.exec(migrations[i]!);
      db.pragma(`user_version = ${i + 1}`);
    })();
  }
}
