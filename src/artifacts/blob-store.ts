/**
 * Content-addressed storage for code bundles and models: a blob's name is the hex sha256 of its
 * bytes, so writes are idempotent and a bundle can be shared by every version that uses it.
 * Embedded: files under the data directory. Cluster: JetStream Object Store.
 */
export interface BlobStore {
  /** Store bytes (idempotent); returns their sha256. */
  put(data: Buffer): Promise<{ sha256: string; size: number }>;
  has(sha256: string): Promise<boolean>;
  /** Size in bytes, or undefined when the blob is unknown. */
  size(sha256: string): Promise<number | undefined>;
  /** The bytes, or undefined when the blob is unknown. */
  get(sha256: string): Promise<Buffer | undefined>;
  delete(sha256: string): Promise<void>;
}

export const SHA256_HEX = /^[0-9a-f]{64}$/;
