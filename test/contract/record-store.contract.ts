// The InvocationRecordStore contract (SQLite events.db, JetStream KV).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InvocationRecord, InvocationRecordStore } from '../../src/events/records.js';
import type { HarnessFactory } from './harness.js';

export function record(id: string, over: Partial<InvocationRecord> = {}): InvocationRecord {
  return {
    id,
    kind: 'event',
    functionName: 'fn',
    qualifier: null,
    status: 'queued',
    attempts: 0,
    functionErrors: 0,
    acceptedAt: 1000,
    startedAt: null,
    finishedAt: null,
    nextAttemptAt: null,
    error: null,
    detail: { source: 'invoke' },
    updatedAt: 1000,
    ...over,
  };
}

export function recordStoreContract(name: string, factory: HarnessFactory<InvocationRecordStore>): void {
  const withStore = (title: string, fn: (store: InvocationRecordStore, reopen: (() => Promise<InvocationRecordStore>) | undefined) => Promise<void>): void => {
    test(`${name}: ${title}`, async (t) => {
      const h = await factory(t);
      if (!h) return;
      try {
        await fn(h.subject, h.reopen?.bind(h));
      } finally {
        await h.close();
      }
    });
  };

  withStore('create, get, update; an unknown record is not updated', async (store) => {
    await store.create(record('r1', { detail: { source: 'invoke', payloadBytes: 3 } }));
    assert.equal((await store.get('r1'))?.status, 'queued');
    assert.equal(await store.update('r1', { status: 'running', attempts: 1, startedAt: 2000 }), true);
    const r = await store.get('r1');
    assert.equal(r?.status, 'running');
    assert.equal(r?.attempts, 1);
    assert.equal(r?.startedAt, 2000);
    assert.deepEqual(r?.detail, { source: 'invoke', payloadBytes: 3 });
    assert.equal(await store.update('nope', { status: 'failed' }), false);
    assert.equal(await store.get('nope'), undefined);
  });

  withStore('updates issued together apply in order', async (store) => {
    await store.create(record('r'));
    await Promise.all([
      store.update('r', { status: 'running', attempts: 1 }),
      store.update('r', { status: 'retrying', error: { type: 'E', message: 'm' } }),
      store.update('r', { status: 'succeeded', finishedAt: 5000, error: null }),
    ]);
    const r = await store.get('r');
    assert.equal(r?.status, 'succeeded');
    assert.equal(r?.attempts, 1);
    assert.equal(r?.error, null);
  });

  withStore('list: newest first, by function, kind, status, before; prune drops old finished records', async (store, reopen) => {
    await store.create(record('a', { acceptedAt: 1 }));
    await store.create(record('b', { acceptedAt: 2, functionName: 'other' }));
    await store.create(record('c', { acceptedAt: 3, kind: 'job', status: 'running' }));
    await store.create(record('d', { acceptedAt: 4, status: 'succeeded', finishedAt: 10 }));
    await store.create(record('e', { acceptedAt: 5, status: 'failed', finishedAt: 100 }));
    assert.deepEqual((await store.list({ limit: 10 })).map((r) => r.id), ['e', 'd', 'c', 'b', 'a']);
    assert.deepEqual((await store.list({ functionName: 'fn', limit: 2 })).map((r) => r.id), ['e', 'd']);
    assert.deepEqual((await store.list({ kind: 'job', limit: 10 })).map((r) => r.id), ['c']);
    assert.deepEqual((await store.list({ status: 'queued', limit: 10 })).map((r) => r.id), ['b', 'a']);
    assert.deepEqual((await store.list({ functionName: 'fn', before: 4, limit: 10 })).map((r) => r.id), ['c', 'a']);
    assert.equal(await store.prune(50), 1);
    assert.equal(await store.get('d'), undefined);
    assert.deepEqual((await store.list({ limit: 10 })).map((r) => r.id), ['e', 'c', 'b', 'a']);
    if (!reopen) return;
    const again = await reopen();
    assert.equal((await again.get('c'))?.kind, 'job');
    assert.equal(await again.update('c', { status: 'succeeded' }), true);
  });
}
