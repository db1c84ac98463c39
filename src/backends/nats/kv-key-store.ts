import type { KV } from 'nats';
import type { AccessKey, KeyStore } from '../../auth/access-keys.js';
import { generateKeyPair } from '../sqlite/key-store.js';
import type { NatsContext } from './connection.js';
import { START_BUDGET_MS, bytesOf, jsonOf, kvEntries, openKv, watchKv } from './connection.js';
import { NAMES, token } from './names.js';

/**
 * Access keys for a cluster in a KV bucket, so every node accepts every key. Signature checks
 * read an in-memory view kept current by a KV watch (a key created on one node works on the
 * others within milliseconds; on the creating node at once).
 */
export class NatsKeyStore implements KeyStore {
  private readonly keys = new Map<string, AccessKey>();
  private stopWatch: (() => void) | undefined;

  private constructor(
    private readonly kv: KV,
    private readonly extra: readonly AccessKey[],
  ) {}

  static async open(ctx: NatsContext, extra: readonly AccessKey[] = []): Promise<NatsKeyStore> {
    const store = new NatsKeyStore(await openKv(ctx, NAMES.keyBucket), extra);
    store.stopWatch = await watchKv(store.kv, '>', (e) => {
      if (e.operation === 'PUT') {
        const key = jsonOf<AccessKey>(e.value);
        store.keys.set(key.accessKeyId, key);
      }
    }, ctx);
    for (const e of await kvEntries(store.kv, '>', START_BUDGET_MS)) {
      const key = jsonOf<AccessKey>(e.value);
      store.keys.set(key.accessKeyId, key);
    }
    return store;
  }

  get(accessKeyId: string): AccessKey | undefined {
    return this.extra.find((k) => k.accessKeyId === accessKeyId) ?? this.keys.get(accessKeyId);
  }

  list(): AccessKey[] {
    return [...this.extra, ...[...this.keys.values()].filter((k) => !this.extra.some((e) => e.accessKeyId === k.accessKeyId))];
  }

  async create(options: { tenant: string; admin: boolean; description?: string }): Promise<AccessKey> {
    const key: AccessKey = { ...generateKeyPair(), tenant: options.tenant, admin: options.admin, createdAt: new Date().toISOString(), revoked: false, description: options.description ?? '' };
    await this.kv.create(token(key.accessKeyId), bytesOf(key));
    this.keys.set(key.accessKeyId, key);
    return key;
  }

  async revoke(accessKeyId: string): Promise<boolean> {
    const entry = await this.kv.get(token(accessKeyId));
    if (!entry || entry.operation !== 'PUT') return false;
    const key = jsonOf<AccessKey>(entry.value);
    if (key.revoked) return false;
    const revoked = { ...key, revoked: true };
    await this.kv.update(token(accessKeyId), bytesOf(revoked), entry.revision);
    this.keys.set(accessKeyId, revoked);
    return true;
  }

  close(): void {
    this.stopWatch?.();
  }
}
