// The BlobStore contract (files, JetStream Object Store): content addressing, idempotent puts,
// whole blobs across chunk boundaries, deletes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { BlobStore } from '../../src/artifacts/blob-store.js';
import type { HarnessFactory } from './harness.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export function blobStoreContract(name: string, factory: HarnessFactory<BlobStore>): void {
  const withStore = (title: string, fn: (store: BlobStore, reopen: (() => Promise<BlobStore>) | undefined) => Promise<void>): void => {
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

  withStore('put names a blob by its sha256; get, has and size read it back', async (store) => {
    const data = Buffer.from('hello blobs');
    const put = await store.put(data);
    assert.deepEqual(put, { sha256: sha(data), size: data.length });
    assert.equal(await store.has(put.sha256), true);
    assert.equal(await store.size(put.sha256), data.length);
    assert.deepEqual(await store.get(put.sha256), data);
    assert.deepEqual(await store.put(data), put, 'a second put of the same bytes is the same blob');
  });

  withStore('unknown blobs are undefined; a malformed name is refused', async (store) => {
    const unknown = 'f'.repeat(64);
    assert.equal(await store.has(unknown), false);
    assert.equal(await store.size(unknown), undefined);
    assert.equal(await store.get(unknown), undefined);
    await assert.rejects(store.get('../etc/passwd'), /not a sha256/);
  });

  withStore('large blobs come back whole (many chunks); concurrent puts of the same bytes agree', async (store) => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const puts = await Promise.all([store.put(data), store.put(data), store.put(data)]);
    assert.ok(puts.every((p) => p.sha256 === sha(data)));
    const back = await store.get(sha(data));
    assert.equal(back?.length, data.length);
    assert.ok(back?.equals(data));
  });

  withStore('delete removes a blob; it can be stored again; blobs survive a reopen', async (store, reopen) => {
    const a = await store.put(Buffer.from('a'));
    const b = await store.put(Buffer.from('b'));
    await store.delete(a.sha256);
    await store.delete(a.sha256);
    assert.equal(await store.has(a.sha256), false);
    await store.put(Buffer.from('a'));
    assert.deepEqual(await store.get(a.sha256), Buffer.from('a'));
    if (!reopen) return;
    const again = await reopen();
    assert.deepEqual(await again.get(b.sha256), Buffer.from('b'));
  });
}
