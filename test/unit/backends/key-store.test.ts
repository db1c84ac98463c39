import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteKeyStore } from '../../../src/backends/sqlite/key-store.js';
import { NatsKeyStore } from '../../../src/backends/nats/kv-key-store.js';
import { envKey, keyStoreContract } from '../../contract/key-store.contract.js';
import { natsContext } from './nats-fixture.js';

keyStoreContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'modelfn-keys-'));
  const stores: SqliteKeyStore[] = [new SqliteKeyStore(join(dir, 'auth.db'), [envKey])];
  return {
    subject: stores[0]!,
    reopen: async () => {
      stores.push(new SqliteKeyStore(join(dir, 'auth.db'), [envKey]));
      return stores.at(-1)!;
    },
    close: async () => {
      for (const s of stores) s.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

keyStoreContract('nats kv', async (t) => {
  const nats = await natsContext(t);
  if (!nats) return undefined;
  const stores: NatsKeyStore[] = [await NatsKeyStore.open(nats.ctx, [envKey])];
  return {
    subject: stores[0]!,
    reopen: async () => {
      stores.push(await NatsKeyStore.open(await nats.connect(), [envKey]));
      return stores.at(-1)!;
    },
    close: async () => {
      for (const s of stores) s.close();
      await nats.close();
    },
  };
});
