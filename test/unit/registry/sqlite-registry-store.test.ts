import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteRegistryStore } from '../../../src/backends/sqlite/registry-store.js';
import type { FunctionDocument } from '../../../src/registry/types.js';
import { ModelfnError } from '../../../src/shared/errors.js';

function doc(name: string, routes: FunctionDocument['routes'] = [], handler = 'index.handler'): FunctionDocument {
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

async function withStore(fn: (store: SqliteRegistryStore, path: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), 'modelfn-reg-'));
  const store = new SqliteRegistryStore(join(dir, 'modelfn.db'));
  try {
    await fn(store, join(dir, 'modelfn.db'));
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

test('put is compare-and-set on the revision', async () => {
  await withStore(async (store) => {
    const first = await store.put(doc('a'), null);
    assert.equal(first.revision, 1);
    await assert.rejects(store.put(doc('a'), null), /already exists/);
    const second = await store.put(doc('a', [], 'other.handler'), 1);
    assert.equal(second.revision, 2);
    await assert.rejects(store.put(doc('a'), 1), (err: unknown) => err instanceof ModelfnError && err.code === 'CONFLICT');
    assert.equal((await store.get('a'))!.doc.latest.handler, 'other.handler');
  });
});

test('a route belongs to one function; dropping it releases it; delete releases all', async () => {
  await withStore(async (store) => {
    await store.put(doc('a', [{ method: 'POST', path: '/x', payloadFormat: '2.0' }]), null);
    await assert.rejects(store.put(doc('b', [{ method: 'POST', path: '/x', payloadFormat: '2.0' }]), null), /route POST \/x already belongs to function a/);
    assert.equal(await store.get('b'), undefined, 'the failed write left nothing behind');
    await store.put(doc('a', []), 1);
    await store.put(doc('b', [{ method: 'POST', path: '/x', payloadFormat: '2.0' }]), null);
    assert.equal(await store.delete('b'), true);
    assert.equal(await store.delete('b'), false);
    await store.put(doc('c', [{ method: 'POST', path: '/x', payloadFormat: '2.0' }]), null);
  });
});

test('changes are announced to watchers and survive a reopen', async () => {
  await withStore(async (store, path) => {
    const seen: string[] = [];
    const stop = store.watch((c) => seen.push(`${c.type}:${c.name}`));
    await store.put(doc('a'), null);
    await store.delete('a');
    await store.put(doc('b'), null);
    stop();
    await store.put(doc('c'), null);
    assert.deepEqual(seen, ['put:a', 'delete:a', 'put:b']);
    const again = new SqliteRegistryStore(path);
    assert.deepEqual((await again.list()).map((s) => s.doc.name), ['b', 'c']);
    await again.close();
  });
});
