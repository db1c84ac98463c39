import assert from 'node:assert/strict';
import { lstat, mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { zipSync } from 'fflate';
import type { Zippable } from 'fflate';
import type { BundleLimits } from '../../src/artifacts/limits.js';
import { DEFAULT_BUNDLE_LIMITS } from '../../src/artifacts/limits.js';
import { extractZip, inspectZip } from '../../src/artifacts/zip-intake.js';
import { ModelfnError } from '../../src/shared/errors.js';
import { removeTree } from '../support/platform.js';
import type { FuzzOptions } from './harness.js';
import { mutatedBytes, onlyRejects, runs, sometimes } from './harness.js';

/**
 * Zip intake: mutated real zips and hand-crafted hostile ones (lying sizes, overlapping entries,
 * wrong offsets and counts, unknown methods, encryption and data-descriptor flags, zip64 markers,
 * symlinks and special files, escaping names). Inspection and extraction fail only with
 * ModelfnError; what is extracted stays inside its folder, holds only files and folders, and is
 * no bigger than inspection said.
 */

const LIMITS: BundleLimits = { ...DEFAULT_BUNDLE_LIMITS, maxUnpackedBytes: 1 << 20, minRatioCheckBytes: 64 << 10, maxEntries: 200 };
const isBundleError = (e: unknown) => e instanceof ModelfnError && (e.code === 'INVALID_BUNDLE' || e.code === 'PAYLOAD_TOO_LARGE');

const NAMES = ['index.js', 'a/b/c.txt', 'dir/', '../evil', 'a/../../evil', '/etc/passwd', 'C:\\win', 'a\\b', 'nul\u0000byte', '', '.', './', 'a//b', './a', 'ü/ß.js', 'a/./b', '.../x', '..', 'x/..', ' ', 'a'.repeat(300)];
const MODES = [0o100644, 0o100755, 0o040755, 0o120777, 0o010644, 0o060644, 0o140644, 0o104755, 0];

interface RawEntry {
  name: Buffer;
  data: Buffer;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  uncompressedSize: number;
  versionMadeBy: number;
  externalAttributes: number;
  /** Point this entry's central record at another entry's local header (overlap). */
  offsetFrom?: number;
  extra: Buffer;
}

/** A zip written field by field, so every field can lie. */
function rawZip(entries: readonly RawEntry[], options: { countLie?: number; cdOffsetLie?: number; comment?: Buffer; commentLengthLie?: number }): Buffer {
  const locals: Buffer[] = [];
  const offsets: number[] = [];
  let at = 0;
  for (const e of entries) {
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(20, 4);
    h.writeUInt16LE(e.flags, 6);
    h.writeUInt16LE(e.method, 8);
    h.writeUInt32LE(e.crc >>> 0, 14);
    h.writeUInt32LE(e.compressedSize >>> 0, 18);
    h.writeUInt32LE(e.uncompressedSize >>> 0, 22);
    h.writeUInt16LE(e.name.length, 26);
    h.writeUInt16LE(e.extra.length, 28);
    offsets.push(at);
    const local = Buffer.concat([h, e.name, e.extra, e.data]);
    locals.push(local);
    at += local.length;
  }
  const centrals: Buffer[] = [];
  for (const [i, e] of entries.entries()) {
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(e.versionMadeBy, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt16LE(e.flags, 8);
    c.writeUInt16LE(e.method, 10);
    c.writeUInt32LE(e.crc >>> 0, 16);
    c.writeUInt32LE(e.compressedSize >>> 0, 20);
    c.writeUInt32LE(e.uncompressedSize >>> 0, 24);
    c.writeUInt16LE(e.name.length, 28);
    c.writeUInt16LE(e.extra.length, 30);
    c.writeUInt32LE(e.externalAttributes >>> 0, 38);
    c.writeUInt32LE(offsets[e.offsetFrom !== undefined ? e.offsetFrom % entries.length : i]! >>> 0, 42);
    centrals.push(Buffer.concat([c, e.name, e.extra]));
  }
  const cd = Buffer.concat(centrals);
  const comment = options.comment ?? Buffer.alloc(0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  const count = (options.countLie ?? entries.length) & 0xffff;
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE((options.cdOffsetLie ?? at) >>> 0, 16);
  end.writeUInt16LE((options.commentLengthLie ?? comment.length) & 0xffff, 20);
  return Buffer.concat([...locals, cd, end, comment]);
}

/** CRC-32 (zip's), so well-formed raw entries pass yauzl's checks when they mean to. */
function crc32(data: Buffer): number {
  let c = ~0;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

const lie = sometimes(fc.oneof(fc.integer({ min: 0, max: 64 }), fc.constantFrom(0xffffffff, 0x7fffffff, 1 << 30)), 4);
const rawEntry: fc.Arbitrary<RawEntry> = fc
  .record({
    name: fc.oneof(fc.constantFrom(...NAMES), fc.string({ maxLength: 12 })),
    content: fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 300_000 }).map((n) => new Uint8Array(n))),
    deflate: fc.boolean(),
    method: sometimes(fc.constantFrom(1, 12, 14, 93, 99, 0xffff), 6),
    flags: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, fc.constantFrom(0x1, 0x8, 0x800, 0x809, 0x40)),
    compressedLie: lie,
    uncompressedLie: lie,
    crcLie: sometimes(fc.nat(), 5),
    unix: fc.boolean(),
    mode: fc.constantFrom(...MODES),
    offsetFrom: sometimes(fc.nat(), 6),
    zip64: fc.boolean(),
  })
  .map((r) => {
    const content = Buffer.from(r.content);
    const data = r.deflate ? deflateRawSync(content) : content;
    // A zip64 extended-information field claiming enormous sizes (yauzl reads it when a 32-bit field is 0xffffffff).
    const extra = r.zip64 ? Buffer.concat([Buffer.from([0x01, 0x00, 16, 0]), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), Buffer.alloc(8)]) : Buffer.alloc(0);
    return {
      name: Buffer.from(r.name, r.flags & 0x800 ? 'utf8' : 'latin1'),
      data,
      method: r.method ?? (r.deflate ? 8 : 0),
      flags: r.flags,
      crc: r.crcLie ?? crc32(content),
      compressedSize: r.compressedLie ?? (r.zip64 ? 0xffffffff : data.length),
      uncompressedSize: r.uncompressedLie ?? content.length,
      versionMadeBy: r.unix ? 0x031e : 0x0014,
      externalAttributes: r.unix ? (r.mode << 16) >>> 0 : 0,
      extra,
      ...(r.offsetFrom !== undefined ? { offsetFrom: r.offsetFrom } : {}),
    };
  });

const crafted = fc
  .tuple(
    fc.array(rawEntry, { minLength: 0, maxLength: 5 }),
    fc.record({ countLie: lie, cdOffsetLie: lie, comment: fc.option(fc.uint8Array({ maxLength: 30 }).map((b) => Buffer.from(b)), { nil: undefined }), commentLengthLie: lie }, { requiredKeys: [] }),
  )
  .map(([entries, options]) => rawZip(entries, options));

/** Well-formed zips (fflate) with hostile names and modes; the seeds for byte mutation. */
const wellFormed = fc
  .dictionary(fc.oneof(fc.constantFrom(...NAMES.filter((n) => n !== '')), fc.string({ minLength: 1, maxLength: 10 })), fc.tuple(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(...MODES), fc.constantFrom(0, 6, 9)), { maxKeys: 5 })
  .map((files) => {
    const zippable: Zippable = {};
    for (const [name, [data, mode, level]] of Object.entries(files)) zippable[name] = [data, { os: 3, attrs: (mode << 16) >>> 0, level: level as 0 | 6 | 9 }];
    return Buffer.from(zipSync(zippable));
  });

const SEEDS = [
  zipSync({ 'index.js': Buffer.from('exports.handler = async () => 1;\n'), 'lib/util.js': Buffer.from('module.exports = {};\n'.repeat(20)) }),
  zipSync({ 'model.joblib': [new Uint8Array(4096).fill(7), { level: 9 }], 'a/': new Uint8Array(0) }),
  zipSync({ 'x.bin': [new Uint8Array(100_000), { level: 9 }] }),
];

/** Everything under dir: no symlinks or special files, total size, every path inside. */
async function walk(root: string, dir = root): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    const rel = relative(root, path);
    assert.ok(rel !== '..' && !rel.startsWith('../') && !isAbsolute(rel), `${path} is outside ${root}`);
    const st = await lstat(path);
    assert.ok(st.isFile() || st.isDirectory(), `${path} is neither a file nor a folder`);
    total += st.isDirectory() ? await walk(root, path) : st.size;
  }
  return total;
}

let accepted = 0;

async function intake(zip: Buffer, extractToo: boolean, scratch: string): Promise<void> {
  const limits = zip.length % 2 === 0 ? LIMITS : DEFAULT_BUNDLE_LIMITS;
  const inspected = await onlyRejects(() => inspectZip(zip, limits), isBundleError, 'inspectZip');
  if (!inspected) return;
  accepted++;
  inspected.zipfile.close();
  assert.ok(inspected.inspected.unpackedBytes <= limits.maxUnpackedBytes);
  if (!extractToo) return;
  const dest = join(scratch, `x${Math.random().toString(36).slice(2)}`);
  try {
    const result = await onlyRejects(() => extractZip(zip, dest, limits), isBundleError, 'extractZip');
    if (result) assert.ok((await walk(dest)) <= result.unpackedBytes, 'more bytes on disk than inspection declared');
  } finally {
    await removeTree(dest);
  }
}

export async function fuzzZipIntake(options: FuzzOptions): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'modelfn-fuzz-zip-'));
  const fdsBefore = (await readdir('/proc/self/fd')).length;
  accepted = 0;
  try {
    await fc.assert(fc.asyncProperty(crafted, fc.boolean(), (zip, x) => intake(zip, x, scratch)), runs(options, 0.5));
    await fc.assert(fc.asyncProperty(wellFormed, fc.boolean(), (zip, x) => intake(zip, x, scratch)), runs(options, 0.25));
    await fc.assert(fc.asyncProperty(mutatedBytes(SEEDS, 6), fc.boolean(), (zip, x) => intake(Buffer.from(zip), x, scratch)), runs(options, 0.5));
    console.log(`zip: ${accepted} of ${Math.round(options.numRuns * 1.25)} zips passed inspection`);
    assert.ok(accepted > 0, 'no generated zip passed inspection: the properties test only refusals');
    // Every refused or extracted zip let go of what it opened.
    const fdsAfter = (await readdir('/proc/self/fd')).length;
    assert.ok(fdsAfter <= fdsBefore + 4, `open file descriptors grew from ${fdsBefore} to ${fdsAfter}`);
  } finally {
    await removeTree(scratch);
  }
}
