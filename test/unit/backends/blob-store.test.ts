import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBlobStore } from '../../../src/backends/files/file-blob-store.js';
import { NatsBlobStore } from '../../../src/backends/nats/object-blob-store.js';
import { blobStoreContract } from '../../contract/blob-store.contract.js';
import { natsContext } from './nats-fixture.js';

blobStoreContract('files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'modelfn-blobs-'));
  return {
    subject: new FileBlobStore(dir),
    reopen: async () => new FileBlobStore(dir),
    close: () => rm(dir, { recursive: true, force: true }),
  };
});

blobStoreContract('nats object store', async (t) => {
  const nats = await natsContext(t);
  if (!nats) return undefined;
  return {
    subject: await NatsBlobStore.open(nats.ctx),
    reopen: async () => NatsBlobStore.open(await nats.connect()),
    close: () => nats.close(),
  };
});
