import { createWriteStream } from 'node:fs';
import { mkdir, chmod } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import yauzl from 'yauzl';
import type { Entry, ZipFile } from 'yauzl';
import { ModelfnError } from '../shared/errors.js';
import type { BundleLimits } from './limits.js';

export interface BundleEntry {
  /** Normalised relative path inside the bundle. */
  readonly path: string;
  readonly size: number;
  readonly executable: boolean;
  readonly directory: boolean;
}

export interface InspectedBundle {
  readonly entries: readonly BundleEntry[];
  readonly unpackedBytes: number;
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const MADE_BY_UNIX = 3;

function invalid(message: string): ModelfnError {
  return new ModelfnError('INVALID_BUNDLE', message);
}

/**
 * Check a zip without trusting anything in it: every name stays inside the bundle folder, no
 * symlinks or special files, sizes and compression ratios within limits, no two entries sharing
 * compressed bytes (overlapping-entry zip bombs). Nothing is written.
 */
export async function inspectZip(zip: Buffer, limits: BundleLimits): Promise<{ zipfile: ZipFile; entries: Entry[]; inspected: InspectedBundle }> {
  if (zip.length > limits.maxZippedBytes) {
    throw new ModelfnError(
      'PAYLOAD_TOO_LARGE',
      `bundle is ${zip.length} bytes zipped; the limit is ${limits.maxZippedBytes} bytes`,
    );
  }
  let zipfile: ZipFile;
  try {
    // decodeStrings:false so that we validate raw names ourselves and name the entry in the error.
    zipfile = await yauzl.fromBufferPromise(zip, { lazyEntries: true, decodeStrings: false, validateEntrySizes: true, autoClose: false });
  } catch (err) {
    throw invalid(`bundle is not a valid zip archive: ${(err as Error).message}`);
  }
  const entries: Entry[] = [];
  const bundleEntries: BundleEntry[] = [];
  const seen = new Set<string>();
  let unpacked = 0;
  try {
    for await (const entry of readEntries(zipfile)) {
      if (entries.length >= limits.maxEntries) throw invalid(`bundle has more than ${limits.maxEntries} entries`);
      const rawName = entry.fileName as unknown as Buffer;
      const utf8 = (entry.generalPurposeBitFlag & 0x800) !== 0;
      const name = rawName.toString(utf8 ? 'utf8' : 'latin1');
      const path = safeEntryPath(name);
      const mode = entry.versionMadeBy >> 8 === MADE_BY_UNIX ? entry.externalFileAttributes >>> 16 : 0;
      const type = mode & S_IFMT;
      if (type === S_IFLNK) throw invalid(`entry ${JSON.stringify(name)} is a symbolic link; bundles may hold only files and folders`);
      if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) throw invalid(`entry ${JSON.stringify(name)} is not a regular file or folder`);
      const directory = name.endsWith('/') || type === S_IFDIR;
      if (entry.isEncrypted()) throw invalid(`entry ${JSON.stringify(name)} is encrypted`);
      if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
        throw invalid(`entry ${JSON.stringify(name)} uses compression method ${entry.compressionMethod}; only stored and deflate are supported`);
      }
      if (seen.has(path)) throw invalid(`entry ${JSON.stringify(name)} appears twice`);
      seen.add(path);
      if (!directory) {
        unpacked += entry.uncompressedSize;
        if (unpacked > limits.maxUnpackedBytes) {
          throw invalid(`bundle unpacks to more than ${limits.maxUnpackedBytes} bytes (limit reached at entry ${JSON.stringify(name)})`);
        }
        if (
          entry.uncompressedSize >= limits.minRatioCheckBytes &&
          entry.uncompressedSize > entry.compressedSize * limits.maxCompressionRatio
        ) {
          throw invalid(
            `entry ${JSON.stringify(name)} has a suspicious compression ratio (${entry.compressedSize} -> ${entry.uncompressedSize} bytes); refusing a possible zip bomb`,
          );
        }
      }
      entries.push(entry);
      bundleEntries.push({ path, size: directory ? 0 : entry.uncompressedSize, executable: (mode & 0o111) !== 0, directory });
    }
    rejectOverlaps(entries);
  } catch (err) {
    zipfile.close();
    if (err instanceof ModelfnError) throw err;
    throw invalid(`bundle is not a valid zip archive: ${(err as Error).message}`);
  }
  return { zipfile, entries, inspected: { entries: bundleEntries, unpackedBytes: unpacked } };
}

/**
 * Validate and write a bundle into dest (which must not exist yet). Files are written read-only:
 * instances share one unpacked tree, so none may change it for the others.
 */
export async function extractZip(zip: Buffer, dest: string, limits: BundleLimits): Promise<InspectedBundle> {
  const { zipfile, entries, inspected } = await inspectZip(zip, limits);
  try {
    await mkdir(dest, { recursive: true });
    const dirs = new Set<string>([dest]);
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      const info = inspected.entries[i]!;
      const target = join(dest, info.path);
      if (info.directory) {
        await mkdir(target, { recursive: true });
        dirs.add(target);
        continue;
      }
      await mkdir(dirname(target), { recursive: true });
      dirs.add(dirname(target));
      const stream = await zipfile.openReadStreamPromise(entry);
      // validateEntrySizes makes yauzl fail if the data inflates beyond the declared size,
      // and the counter below is a second, independent bound on what reaches the disk.
      await pipeline(stream, byteLimit(info.size, info.path), createWriteStream(target, { mode: info.executable ? 0o555 : 0o444 }));
    }
    // Folders become read-only last (deepest first), after everything inside them is written.
    for (const dir of [...dirs].sort((a, b) => b.length - a.length)) await chmod(dir, 0o555);
  } catch (err) {
    if (err instanceof ModelfnError) throw err;
    throw invalid(`bundle could not be unpacked: ${(err as Error).message}`);
  } finally {
    zipfile.close();
  }
  return inspected;
}

/** A normalised relative path, or an error naming the entry that tries to leave the folder. */
export function safeEntryPath(name: string): string {
  const quoted = JSON.stringify(name);
  if (name.length === 0) throw invalid('bundle has an entry with an empty name');
  if (name.includes('\0')) throw invalid(`entry ${quoted} has a NUL byte in its name`);
  if (name.includes('\\')) throw invalid(`entry ${quoted} uses backslashes; zip paths use /`);
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw invalid(`entry ${quoted} has an absolute path`);
  const segments = name.split('/');
  if (segments.includes('..')) throw invalid(`entry ${quoted} escapes the bundle folder (..)`);
  const normal = posix.normalize(name).replace(/\/+$/, '');
  if (normal === '.' || normal === '' || normal.startsWith('../')) throw invalid(`entry ${quoted} has an invalid path`);
  return normal;
}

function rejectOverlaps(entries: readonly Entry[]): void {
  const files = entries
    .filter((e) => e.compressedSize > 0)
    .map((e) => ({ start: e.relativeOffsetOfLocalHeader, end: e.relativeOffsetOfLocalHeader + 30 + e.compressedSize, e }))
    .sort((a, b) => a.start - b.start);
  for (let i = 1; i < files.length; i++) {
    if (files[i]!.start < files[i - 1]!.end) {
      const name = (files[i]!.e.fileName as unknown as Buffer).toString('utf8');
      throw invalid(`entry ${JSON.stringify(name)} overlaps another entry's data; refusing a possible zip bomb`);
    }
  }
}

async function* readEntries(zipfile: ZipFile): AsyncGenerator<Entry> {
  for (;;) {
    const next = await new Promise<Entry | null>((resolve, reject) => {
      const onEntry = (entry: Entry) => { cleanup(); resolve(entry); };
      const onEnd = () => { cleanup(); resolve(null); };
      const onError = (err: Error) => { cleanup(); reject(err); };
      const cleanup = () => {
        zipfile.off('entry', onEntry);
        zipfile.off('end', onEnd);
        zipfile.off('error', onError);
      };
      zipfile.on('entry', onEntry);
      zipfile.on('end', onEnd);
      zipfile.on('error', onError);
      zipfile.readEntry();
    });
    if (next === null) return;
    yield next;
  }
}

function byteLimit(limit: number, path: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > limit) done(invalid(`entry ${JSON.stringify(path)} inflates beyond its declared size`));
      else done(null, chunk);
    },
  });
}
