import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventsDatabase } from '../../../src/backends/sqlite/events-database.js';
import { SqliteMessageQueue } from '../../../src/backends/sqlite/sqlite-message-queue.js';
import { systemClock } from '../../../src/shared/clock.js';
import { queueContract } from './queue-contract.js';

async function harness(options: { groupCommit: boolean; sync: 'full' | 'normal' }) {
  const dir = await mkdtemp(join(tmpdir(), 'modelfn-queue-'));
  let db = new EventsDatabase(join(dir, 'events.db'), options);
  let queue = new SqliteMessageQueue(db, systemClock);
  return {
    get queue() {
      return queue;
    },
    async reopen() {
      await queue.close();
      db.close();
      db = new EventsDatabase(join(dir, 'events.db'), options);
      queue = new SqliteMessageQueue(db, systemClock);
      return queue;
    },
    async close() {
      await queue.close();
      db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

queueContract('sqlite, group commit', () => harness({ groupCommit: true, sync: 'full' }));
queueContract('sqlite, one commit per operation', () => harness({ groupCommit: false, sync: 'normal' }));

test('sqlite: after a restart, leases of the platform\'s own queues are released at once', async () => {
  const h = await harness({ groupCommit: true, sync: 'normal' });
  try {
    await h.queue.putQueue('$async:f', { visibilityTimeoutMs: 600_000, retentionMs: 0, delayMs: 0 });
    await h.queue.putQueue('user', { visibilityTimeoutMs: 600_000, retentionMs: 0, delayMs: 0 });
    await h.queue.send('$async:f', [{ body: Buffer.from('a') }]);
    await h.queue.send('user', [{ body: Buffer.from('b') }]);
    assert.equal((await h.queue.receive('$async:f', { maxMessages: 1 })).length, 1);
    assert.equal((await h.queue.receive('user', { maxMessages: 1 })).length, 1);
    const q = (await h.reopen()) as SqliteMessageQueue;
    assert.equal(await q.releaseLeases('$async:'), 1);
    const again = await q.receive('$async:f', { maxMessages: 1 });
    assert.equal(again[0]?.receiveCount, 2);
    assert.deepEqual(await q.receive('user', { maxMessages: 1 }), [], 'user queues keep their visibility timeout');
  } finally {
    await h.close();
  }
});
