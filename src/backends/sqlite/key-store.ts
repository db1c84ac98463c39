import { randomBytes } from 'node:crypto';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import type { AccessKey, KeyStore } from '../../auth/access-keys.js';
import { openDatabase } from './database.js';

const MIGRATIONS = [
  `CREATE TABLE access_keys (
     access_key_id TEXT PRIMARY KEY,
     secret TEXT NOT NULL,
     tenant TEXT NOT NULL,
     admin INTEGER NOT NULL,
     created_at TEXT NOT NULL,
     revoked INTEGER NOT NULL DEFAULT 0,
     description TEXT NOT NULL DEFAULT ''
   );`,
];

interface Row {
  access_key_id: string;
  secret: string;
  tenant: string;
  admin: number;
  created_at: string;
  revoked: number;
  description: string;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** AWS-shaped key ids (AKIA + 16 base32 characters) and 40-character secrets. */
export function generateKeyPair(): { accessKeyId: string; secretAccessKey: string } {
  const id = [...randomBytes(16)].map((b) => BASE32[b % 32]).join('');
  return { accessKeyId: `AKIA${id}`, secretAccessKey: randomBytes(30).toString('base64') };
}

/**
 * Access keys in their own SQLite file (auth.db), cached in memory: a signature check on the
 * request path is a map lookup.
 */
export class SqliteKeyStore implements KeyStore {
  private readonly db: SqliteDatabase;
  private cache = new Map<string, AccessKey>();

  constructor(path: string, private readonly extra: readonly AccessKey[] = []) {
    this.db = openDatabase(path, MIGRATIONS);
    this.reload();
  }

  get(accessKeyId: string): AccessKey | undefined {
    return this.cache.get(accessKeyId);
  }

  list(): AccessKey[] {
    return [...this.cache.values()];
  }

  async create(options: { tenant: string; admin: boolean; description?: string }): Promise<AccessKey> {
    const pair = generateKeyPair();
    const key: AccessKey = { ...pair, tenant: options.tenant, admin: options.admin, createdAt: new Date().toISOString(), revoked: false, description: options.description ?? '' };
    this.db
      .prepare('INSERT INTO access_keys (access_key_id, secret, tenant, admin, created_at, description) VALUES (?, ?, ?, ?, ?, ?)')
      .run(key.accessKeyId, key.secretAccessKey, key.tenant, key.admin ? 1 : 0, key.createdAt, key.description);
    this.reload();
    return key;
  }

  async revoke(accessKeyId: string): Promise<boolean> {
    const changed = this.db.prepare('UPDATE access_keys SET revoked = 1 WHERE access_key_id = ? AND revoked = 0').run(accessKeyId).changes > 0;
    this.reload();
    return changed;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private reload(): void {
    const next = new Map<string, AccessKey>();
    for (const k of this.extra) next.set(k.accessKeyId, k);
    for (const row of this.db.prepare('SELECT * FROM access_keys').all() as Row[]) {
      next.set(row.access_key_id, {
        accessKeyId: row.access_key_id,
        secretAccessKey: row.secret,
        tenant: row.tenant,
        admin: row.admin === 1,
        createdAt: row.created_at,
        revoked: row.revoked === 1,
        description: row.description,
      });
    }
    this.cache = next;
  }
}
