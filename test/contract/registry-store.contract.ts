// The RegistryStore contract: every backend (SQLite, JetStream KV) runs these tests with its own
// factory. Change feeds may arrive over the network, so watchers are awaited, never assumed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RegistryChange, RegistryStore } from '../../src/registry/store.js';
import type { FunctionDocument } from '../../src/registry/types.js';
import { ModelfnError } from '../../src/shared/errors.js';
import type { HarnessFactory } from './harness.js';
import { sleep, until } from './harness.js';

export function doc(name: string, routes: FunctionDocument['routes'] = [], handler = 'index.handler'): FunctionDocument {
  return {
    name,
    createdAt: '2026-01-01T00:00:00.000Z',
    latest: { name, version: '$LATEST', runtime: 'nodejs20.x', handler, memoryMb: 128, timeoutSec: 3, environment: {}, description: '', codeSha256: 'a'.repeat(64), codeSize: 1, revisionId: 'r', lastModified: '2026-01-01T00:00:00.000Z' },
    versions: {},
    lastPublishedVersion: 0,
    aliases: {},
    routes,
    scaling: { reservedConcurrency: null, keepAliveSec: null },
    extensions: {},
  };
}

const isConflict = (err: unknown) => err instanceof ModelfnError && err.code === 'CONFLICT';
const route = (path: string) => ({ method: 'POST', path, payloadFormat: '2.0' as const });

export function registryStoreContract(name: string, factory: HarnessFactory<RegistryStore>): void {
  const withStore = (title: string, fn: (store: RegistryStore, reopen: (() => Promise<RegistryStore>) | undefined) => Promise<void>): void => {
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

  withStore('put is compare-and-set on the revision', async (store) => {
    const first = await store.put(doc('a'), null);
    assert.ok(Number.isInteger(first.revision) && first.revision > 0);
    await assert.rejects(store.put(doc('a'), null), /already exists/);
    const second = await store.put(doc('a', [], 'other.handler'), first.revision);
    assert.ok(second.revision > first.revision);
    await assert.rejects(store.put(doc('a'), first.revision), isConflict);
    assert.equal((await store.get('a'))!.doc.latest.handler, 'other.handler');
    assert.equal((await store.get('a'))!.revision, second.revision);
    await assert.rejects(store.delete('a', first.revision), isConflict);
    assert.equal(await store.delete('a', second.revision), true);
    assert.equal(await store.get('a'), undefined);
    assert.ok((await store.put(doc('a'), null)).revision > 0, 'a deleted name can be created again');
  });

  withStore('two writers racing from the same revision: exactly one wins', async (store) => {
    const base = await store.put(doc('race'), null);
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.put(doc('race', [], `h${i}.handler`), base.revision)));
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1);
    for (const r of results) if (r.status === 'rejected') assert.ok(isConflict(r.reason));
    const stored = await store.get('race');
    assert.equal(stored!.doc.latest.handler, (won[0] as PromiseFulfilledResult<{ doc: FunctionDocument }>).value.doc.latest.handler);
    const creates = await Promise.allSettled(Array.from({ length: 5 }, () => store.put(doc('fresh'), null)));
    assert.equal(creates.filter((r) => r.status === 'fulfilled').length, 1);
  });

  withStore('a route belongs to one function; dropping it releases it; delete releases all', async (store) => {
    const a = await store.put(doc('a', [route('/x')]), null);
    await assert.rejects(store.put(doc('b', [route('/x')]), null), /route POST \/x already belongs to function a/);
    assert.equal(await store.get('b'), undefined, 'the failed write left nothing behind');
    await store.put(doc('a', []), a.revision);
    await store.put(doc('b', [route('/x')]), null);
    assert.equal(await store.delete('b'), true);
    assert.equal(await store.delete('b'), false);
    await store.put(doc('c', [route('/x'), route('/y')]), null);
    await assert.rejects(store.put(doc('d', [route('/z'), route('/y')]), null), /already belongs to function c/);
    await store.put(doc('e', [route('/z')]), null);
  });

  withStore('changes are announced to watchers and survive a reopen', async (store, reopen) => {
    const seen: RegistryChange[] = [];
    const stop = store.watch((c) => seen.push(c));
    const a = await store.put(doc('a'), null);
    await store.delete('a');
    const b = await store.put(doc('b'), null);
    await until(() => seen.length >= 3, 'three changes');
    stop();
    await store.put(doc('c'), null);
    await sleep(100);
    assert.deepEqual(seen.map((c) => `${c.type}:${c.name}`), ['put:a', 'delete:a', 'put:b']);
    const puts = seen.filter((c) => c.type === 'put');
    assert.deepEqual(puts.map((c) => c.stored.revision), [a.revision, b.revision]);
    assert.deepEqual((await store.list()).map((s) => s.doc.name), ['b', 'c']);
    if (!reopen) return;
    const again = await reopen();
    assert.deepEqual((await again.list()).map((s) => s.doc.name), ['b', 'c']);
  });
}
