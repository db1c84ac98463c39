import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteRegistryStore } from '../../../src/backends/sqlite/registry-store.js';
import { NatsRegistryStore } from '../../../src/backends/nats/kv-registry-store.js';
import type { RegistryStore } from '../../../src/registry/store.js';
import { registryStoreContract } from '../../contract/registry-store.contract.js';
import { natsContext } from './nats-fixture.js';

registryStoreContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'modelfn-reg-'));
  const stores: RegistryStore[] = [new SqliteRegistryStore(join(dir, 'modelfn.db'))];
  return {
    subject: stores[0]!,
    reopen: async () => {
      stores.push(new SqliteRegistryStore(join(dir, 'modelfn.db')));
      return stores.at(-1)!;
    },
    close: async () => {
      for (const s of stores) await s.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

registryStoreContract('nats kv', async (t) => {
  const nats = await natsContext(t);
  if (!nats) return undefined;
  const stores: RegistryStore[] = [await NatsRegistryStore.open(nats.ctx)];
  return {
    subject: stores[0]!,
    // Another node's view of the same bucket.
    reopen: async () => {
      stores.push(await NatsRegistryStore.open(await nats.connect()));
      return stores.at(-1)!;
    },
    close: async () => {
      for (const s of stores) await s.close();
      await nats.close();
    },
  };
});
