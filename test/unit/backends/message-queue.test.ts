import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventsDatabase } from '../../../src/backends/sqlite/events-database.js';
import { SqliteMessageQueue } from '../../../src/backends/sqlite/sqlite-message-queue.js';
import { NatsMessageQueue } from '../../../src/backends/nats/nats-message-queue.js';
import type { MessageQueue } from '../../../src/events/queue.js';
import { systemClock } from '../../../src/shared/clock.js';
import { queueContract } from '../../contract/message-queue.contract.js';
import { natsContext } from './nats-fixture.js';

async function harness(options: { groupCommit: boolean; sync: 'full' | 'normal' }) {
  const dir = await mkdtemp(join(tmpdir(), 'modelfn-queue-'));
  let db = new EventsDatabase(join(dir, 'events.db'), options);
  let queue = new SqliteMessageQueue(db, systemClock);
  return {
    get subject() {
      return queue;
    },
    async reopen() {
      await queue.close();
      await db.close();
      db = new EventsDatabase(join(dir, 'events.db'), options);
      queue = new SqliteMessageQueue(db, systemClock);
      return queue;
    },
    async close() {
      await queue.close();
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

queueContract('sqlite, group commit', () => harness({ groupCommit: true, sync: 'full' }));
queueContract('sqlite, one commit per operation', () => harness({ groupCommit: false, sync: 'normal' }));

queueContract('nats jetstream', async (t) => {
  const nats = await natsContext(t);
  if (!nats) return undefined;
  const queues: MessageQueue[] = [await NatsMessageQueue.open(nats.ctx, { nodeId: 'node-a', leaseWindowMs: 2000 })];
  return {
    subject: queues[0]!,
    // Another node on the same streams (the first one's leases stay with it).
    reopen: async () => {
      queues.push(await NatsMessageQueue.open(await nats.connect(), { nodeId: 'node-b', leaseWindowMs: 2000 }));
      return queues.at(-1)!;
    },
    close: async () => {
      for (const q of queues) await q.close();
      await nats.close();
    },
  };
});

test('sqlite: after a restart, leases of the platform\'s own queues are released at once', async () => {
  const h = await harness({ groupCommit: true, sync: 'normal' });
  try {
    await h.subject.putQueue('$async:f', { visibilityTimeoutMs: 600_000, retentionMs: 0, delayMs: 0 });
    await h.subject.putQueue('user', { visibilityTimeoutMs: 600_000, retentionMs: 0, delayMs: 0 });
    await h.subject.send('$async:f', [{ body: Buffer.from('a') }]);
    await h.subject.send('user', [{ body: Buffer.from('b') }]);
    assert.equal((await h.subject.receive('$async:f', { maxMessages: 1 })).length, 1);
    assert.equal((await h.subject.receive('user', { maxMessages: 1 })).length, 1);
    const q = (await h.reopen()) as SqliteMessageQueue;
    assert.equal(await q.releaseLeases('$async:'), 1);
    const again = await q.receive('$async:f', { maxMessages: 1 });
    assert.equal(again[0]?.receiveCount, 2);
    assert.deepEqual(await q.receive('user', { maxMessages: 1 }), [], 'user queues keep their visibility timeout');
  } finally {
    await h.close();
  }
});

test('nats: a receipt is settled by any node; a dead node\'s lease comes back after the lease window; long leases are kept alive', async (t) => {
  const nats = await natsContext(t);
  if (!nats) return;
  const a = await NatsMessageQueue.open(nats.ctx, { nodeId: 'node-a', leaseWindowMs: 600 });
  const bConn = await nats.connect();
  const b = await NatsMessageQueue.open(bConn, { nodeId: 'node-b', leaseWindowMs: 600 });
  try {
    await a.putQueue('q', { visibilityTimeoutMs: 30_000, retentionMs: 0, delayMs: 0 });
    await a.send('q', [{ body: Buffer.from('one') }, { body: Buffer.from('two') }, { body: Buffer.from('three') }]);
    const [one] = await a.receive('q', { maxMessages: 1 });
    assert.equal(await b.ack('q', one!.receiptHandle), true, 'node b acknowledges node a\'s lease');
    assert.equal(await a.ack('q', one!.receiptHandle), false, 'and the receipt is spent');
    // A lease far longer than the AckWait stays invisible (heartbeats) ...
    const [two] = await a.receive('q', { maxMessages: 1 });
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual((await b.receive('q', { maxMessages: 10 })).map((m) => m.body.toString()), ['three']);
    // ... until node a dies (its connection drops, nothing is put back): node b gets it after the lease window.
    await nats.ctx.nc.close();
    await new Promise((r) => setTimeout(r, 900));
    const again = await b.receive('q', { maxMessages: 10 });
    assert.deepEqual(again.map((m) => m.body.toString()), ['two']);
    assert.equal(again[0]!.receiveCount, 2);
    assert.equal(await b.ack('q', two!.receiptHandle), false, 'a dead node\'s receipt acknowledges nothing');
  } finally {
    await a.close();
    await b.close();
    await nats.close();
  }
});
