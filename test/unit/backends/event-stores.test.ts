// Invocation records and schedule claims: the embedded (events.db) and JetStream KV backends.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventsDatabase } from '../../../src/backends/sqlite/events-database.js';
import { SqliteRecordStore } from '../../../src/backends/sqlite/sqlite-record-store.js';
import { SqliteScheduleClaims } from '../../../src/backends/sqlite/sqlite-schedule-claims.js';
import { NatsRecordStore } from '../../../src/backends/nats/kv-record-store.js';
import { NatsScheduleClaims } from '../../../src/backends/nats/kv-schedule-claims.js';
import { systemClock } from '../../../src/shared/clock.js';
import { recordStoreContract } from '../../contract/record-store.contract.js';
import { scheduleClaimsContract } from '../../contract/schedule-claims.contract.js';
import { natsContext } from './nats-fixture.js';

async function eventsDb() {
  const dir = await mkdtemp(join(tmpdir(), 'modelfn-events-'));
  const dbs: EventsDatabase[] = [];
  const open = () => {
    dbs.push(new EventsDatabase(join(dir, 'events.db'), { sync: 'normal', groupCommit: true }));
    return dbs.at(-1)!;
  };
  return {
    open,
    close: async () => {
      for (const db of dbs) await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

recordStoreContract('sqlite', async () => {
  const db = await eventsDb();
  return { subject: new SqliteRecordStore(db.open(), systemClock), reopen: async () => new SqliteRecordStore(db.open(), systemClock), close: db.close };
});

recordStoreContract('nats kv', async (t) => {
  const nats = await natsContext(t);
  if (!nats) return undefined;
  return { subject: await NatsRecordStore.open(nats.ctx), reopen: async () => NatsRecordStore.open(await nats.connect()), close: nats.close };
});

scheduleClaimsContract('sqlite', async () => {
  const db = await eventsDb();
  return { subject: new SqliteScheduleClaims(db.open()), close: db.close };
});

scheduleClaimsContract('nats kv', async (t) => {
  const nats = await natsContext(t);
  if (!nats) return undefined;
  return { subject: await NatsScheduleClaims.open(nats.ctx), reopen: async () => NatsScheduleClaims.open(await nats.connect()), close: nats.close };
});
