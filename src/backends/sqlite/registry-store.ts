import { EventEmitter } from 'node:events';
import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import { ModelfnError } from '../../shared/errors.js';
import type { RegistryChange, RegistryStore } from '../../registry/store.js';
import type { FunctionDocument, StoredDocument } from '../../registry/types.js';
import { routeKey } from '../../registry/types.js';
import { openDatabase } from './database.js';

const MIGRATIONS = [
  `CREATE TABLE functions (
     name TEXT PRIMARY KEY,
     revision INTEGER NOT NULL,
     doc TEXT NOT NULL
   );
   CREATE TABLE route_claims (
     route_key TEXT PRIMARY KEY,
     function_name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE
   );`,
];

interface Row {
  name: string;
  revision: number;
  doc: string;
}

/**
 * The embedded registry: one row per function document, written in one transaction together with
 * its route claims. A kill -9 at any point leaves the previous or the new document, never half.
 */
export class SqliteRegistryStore implements RegistryStore {
  private readonly db: SqliteDatabase;
  private readonly events = new EventEmitter();
  private readonly stmt: {
    get: Statement<[string], Row>;
    list: Statement<[], Row>;
    insert: Statement<[string, number, string]>;
    update: Statement<[number, string, string, number]>;
    delete: Statement<[string]>;
    claimsOf: Statement<[string], { route_key: string }>;
    claimOwner: Statement<[string], { function_name: string }>;
    claim: Statement<[string, string]>;
    release: Statement<[string, string]>;
  };

  constructor(path: string) {
    this.db = openDatabase(path, MIGRATIONS);
    this.stmt = {
      get: this.db.prepare('SELECT name, revision, doc FROM functions WHERE name = ?'),
      list: this.db.prepare('SELECT name, revision, doc FROM functions ORDER BY name'),
      insert: this.db.prepare('INSERT INTO functions (name, revision, doc) VALUES (?, ?, ?)'),
      update: this.db.prepare('UPDATE functions SET revision = ?, doc = ? WHERE name = ? AND revision = ?'),
      delete: this.db.prepare('DELETE FROM functions WHERE name = ?'),
      claimsOf: this.db.prepare('SELECT route_key FROM route_claims WHERE function_name = ?'),
      claimOwner: this.db.prepare('SELECT function_name FROM route_claims WHERE route_key = ?'),
      claim: this.db.prepare('INSERT INTO route_claims (route_key, function_name) VALUES (?, ?)'),
      release: this.db.prepare('DELETE FROM route_claims WHERE route_key = ? AND function_name = ?'),
    };
    this.events.setMaxListeners(0);
  }

  async get(name: string): Promise<StoredDocument | undefined> {
    const row = this.stmt.get.get(name);
    return row ? toStored(row) : undefined;
  }

  async list(): Promise<StoredDocument[]> {
    return this.stmt.list.all().map(toStored);
  }

  async put(doc: FunctionDocument, expectedRevision: number | null): Promise<StoredDocument> {
    const write = this.db.transaction((): StoredDocument => {
      const existing = this.stmt.get.get(doc.name);
      if (expectedRevision === null && existing) {
        throw new ModelfnError('CONFLICT', `function ${doc.name} already exists`);
      }
      if (expectedRevision !== null && (!existing || existing.revision !== expectedRevision)) {
        throw new ModelfnError('CONFLICT', `function ${doc.name} was changed by another request; retry`);
      }
      const revision = (existing?.revision ?? 0) + 1;
      const text = JSON.stringify(doc);
      if (existing) this.stmt.update.run(revision, text, doc.name, existing.revision);
      else this.stmt.insert.run(doc.name, revision, text);
      this.reclaimRoutes(doc);
      return { doc, revision };
    });
    const stored = write.immediate();
    this.events.emit('change', { type: 'put', name: doc.name, stored } satisfies RegistryChange);
    return stored;
  }

  async delete(name: string, expectedRevision?: number): Promise<boolean> {
    const remove = this.db.transaction((): boolean => {
      const existing = this.stmt.get.get(name);
      if (!existing) return false;
      if (expectedRevision !== undefined && existing.revision !== expectedRevision) {
        throw new ModelfnError('CONFLICT', `function ${name} was changed by another request; retry`);
      }
      this.stmt.delete.run(name);
      return true;
    });
    const removed = remove.immediate();
    if (removed) this.events.emit('change', { type: 'delete', name } satisfies RegistryChange);
    return removed;
  }

  watch(listener: (change: RegistryChange) => void): () => void {
    this.events.on('change', listener);
    return () => this.events.off('change', listener);
  }

  async close(): Promise<void> {
    this.events.removeAllListeners();
    if (this.db.open) this.db.close();
  }

  /** Runs inside the write transaction: release routes the document dropped, claim new ones. */
  private reclaimRoutes(doc: FunctionDocument): void {
    const wanted = new Set(doc.routes.map(routeKey));
    for (const { route_key } of this.stmt.claimsOf.all(doc.name)) {
      if (!wanted.has(route_key)) this.stmt.release.run(route_key, doc.name);
    }
    for (const key of wanted) {
      const owner = this.stmt.claimOwner.get(key)?.function_name;
      if (owner === doc.name) continue;
      if (owner !== undefined) {
        throw new ModelfnError('CONFLICT', `route ${key} already belongs to function ${owner}`, {
          details: { route: key, owner },
        });
      }
      this.stmt.claim.run(key, doc.name);
    }
  }
}

function toStored(row: Row): StoredDocument {
  return { doc: JSON.parse(row.doc) as FunctionDocument, revision: row.revision };
}
