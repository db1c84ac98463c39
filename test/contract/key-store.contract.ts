// The KeyStore contract (SQLite auth.db, JetStream KV): keys created on one store are found by
// id, listed, revoked once; another store on the same storage sees them (for a cluster: another node).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AccessKey, KeyStore } from '../../src/auth/access-keys.js';
import type { HarnessFactory } from './harness.js';
import { until } from './harness.js';

export const envKey: AccessKey = {
  accessKeyId: 'AKIAENVIRONMENT00001',
  secretAccessKey: 'from-the-environment',
  tenant: 'default',
  admin: true,
  createdAt: new Date(0).toISOString(),
  revoked: false,
  description: 'from the environment',
};

export function keyStoreContract(name: string, factory: HarnessFactory<KeyStore>): void {
  test(`${name}: keys are created, found, listed and revoked; another store on the same storage sees them`, async (t) => {
    const h = await factory(t);
    if (!h) return;
    try {
      const keys = h.subject;
      assert.equal(keys.get(envKey.accessKeyId)?.description, 'from the environment', 'keys given by environment are known');
      const created = await keys.create({ tenant: 'team-a', admin: false, description: 'ci' });
      assert.match(created.accessKeyId, /^AKIA[A-Z2-7]{16}$/);
      assert.equal(created.secretAccessKey.length, 40);
      assert.deepEqual(keys.get(created.accessKeyId), created, 'read your own write at once');
      assert.ok(keys.list().some((k) => k.accessKeyId === created.accessKeyId));
      assert.equal(await keys.revoke(created.accessKeyId), true);
      assert.equal(await keys.revoke(created.accessKeyId), false);
      assert.equal(keys.get(created.accessKeyId)?.revoked, true);
      assert.equal(await keys.revoke('AKIANOSUCHKEY0000000'), false);
      const second = await keys.create({ tenant: 'default', admin: true });
      if (!h.reopen) return;
      const other = await h.reopen();
      await until(() => other.get(second.accessKeyId) !== undefined, 'the other store to see the key');
      assert.equal(other.get(second.accessKeyId)?.secretAccessKey, second.secretAccessKey);
      assert.equal(other.get(created.accessKeyId)?.revoked, true);
    } finally {
      await h.close();
    }
  });
}
