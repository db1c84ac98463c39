import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelfnError } from '../shared/errors.js';
import type { BlobStore } from './blob-store.js';
import { SHA256_HEX } from './blob-store.js';
import type { BundleLimits } from './limits.js';
import { extractZip } from './zip-intake.js';

/**
 * Unpacked, read-only code trees keyed by bundle hash: unpacked/<sha256>/. A tree is extracted into
 * a temporary folder and renamed into place, so a crash never leaves a half tree under a real name.
 * Concurrent requests for the same bundle share one extraction.
 */
export class BundleCache {
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(
    private readonly root: string,
    private readonly blobs: BlobStore,
    private readonly limits: BundleLimits,
  ) {}

  /** Remove temporary folders left by a crash. */
  async recover(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    for (const name of await readdir(this.root)) {
      if (name.startsWith('.tmp-')) await forceRemove(join(this.root, name));
    }
  }

  dirOf(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return join(this.root, sha256);
  }

  /** The unpacked tree of a stored bundle, extracting it on first use. */
  ensure(sha256: string): Promise<string> {
    const existing = this.inflight.get(sha256);
    if (existing) return existing;
    const work = this.unpack(sha256).finally(() => this.inflight.delete(sha256));
    this.inflight.set(sha256, work);
    return work;
  }

  /** Validate and unpack bytes already known to hash to sha256 (deploy path: no re-read). */
  async unpackBytes(sha256: string, zip: Buffer): Promise<string> {
    const dir = this.dirOf(sha256);
    if (await isDir(dir)) return dir;
    const tmp = join(this.root, `.tmp-${randomBytes(6).toString('hex')}`);
    try {
      await extractZip(zip, tmp, this.limits);
      await rename(tmp, dir);
    } catch (err) {
      await forceRemove(tmp);
      // Another extraction of the same bundle won the rename: its tree is identical.
      if (await isDir(dir)) return dir;
      throw err;
    }
    return dir;
  }

  async remove(sha256: string): Promise<void> {
    await forceRemove(this.dirOf(sha256));
  }

  private async unpack(sha256: string): Promise<string> {
    const dir = this.dirOf(sha256);
    if (await isDir(dir)) return dir;
    const zip = await this.blobs.get(sha256);
    if (!zip) throw new ModelfnError('INVALID_PARAMETER', `code bundle ${sha256} is not in the blob store; upload it first`);
    return this.unpackBytes(sha256, zip);
  }
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Trees are read-only; make them writable again so they can be removed. */
async function forceRemove(path: string): Promise<void> {
  const makeWritable = async (p: string): Promise<void> => {
    try {
      const s = await stat(p);
      if (s.isDirectory()) {
        await chmod(p, 0o755);
        for (const child of await readdir(p)) await makeWritable(join(p, child));
      }
    } catch {
      /* already gone */
    }
  };
  await makeWritable(path);
  await rm(path, { recursive: true, force: true });
}
