import { createHash } from 'node:crypto';
import type { ObjectStore } from 'nats';
import type { BlobStore } from '../../artifacts/blob-store.js';
import { SHA256_HEX } from '../../artifacts/blob-store.js';
import type { NatsContext } from './connection.js';
import { openObjectStore } from './connection.js';
import { NAMES } from './names.js';

/**
 * Code bundles and models in a JetStream Object Store bucket, named by their sha256: any node
 * reads what any node stored. The object store writes a blob in chunks and publishes its
 * metadata last, so a reader sees the whole blob or none of it (the same promise as the files).
 * Each node still unpacks bundles into its own unpacked/ cache (BundleCache) on first use.
 */
export class NatsBlobStore implements BlobStore {
  private constructor(private readonly os: ObjectStore) {}

  static async open(ctx: NatsContext): Promise<NatsBlobStore> {
    return new NatsBlobStore(await openObjectStore(ctx, NAMES.blobBucket));
  }

  async put(data: Buffer): Promise<{ sha256: string; size: number }> {
    const sha256 = createHash('sha256').update(data).digest('hex');
    if (!(await this.has(sha256))) await this.os.putBlob({ name: sha256 }, data);
    return { sha256, size: data.length };
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.size(sha256)) !== undefined;
  }

  async size(sha256: string): Promise<number | undefined> {
    check(sha256);
    const info = await this.os.info(sha256);
    return info && !info.deleted ? info.size : undefined;
  }

  async get(sha256: string): Promise<Buffer | undefined> {
    check(sha256);
    const info = await this.os.info(sha256);
    if (!info || info.deleted) return undefined;
    const bytes = await this.os.getBlob(sha256);
    if (!bytes) return undefined;
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  async delete(sha256: string): Promise<void> {
    check(sha256);
    const info = await this.os.info(sha256);
    if (info && !info.deleted) await this.os.delete(sha256);
  }
}

function check(sha256: string): void {
  if (!SHA256_HEX.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
}
