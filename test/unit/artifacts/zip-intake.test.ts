import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import type { Zippable } from 'fflate';
import { extractZip, safeEntryPath } from '../../../src/artifacts/zip-intake.js';
import { DEFAULT_BUNDLE_LIMITS } from '../../../src/artifacts/limits.js';
import { ModelfnError } from '../../../src/shared/errors.js';
import { removeTree } from '../../support/platform.js';

const UNIX = 3;
const file = (text: string, mode = 0o100644): Zippable[string] => [Buffer.from(text), { os: UNIX, attrs: (mode << 16) >>> 0 }];

async function extract(zip: Uint8Array, limits = DEFAULT_BUNDLE_LIMITS) {
  const dir = join(await mkdtemp(join(tmpdir(), 'modelfn-zip-')), 'out');
  try {
    return { dir, result: await extractZip(Buffer.from(zip), dir, limits) };
  } catch (err) {
    await removeTree(join(dir, '..'));
    throw err;
  }
}

function rejects(promise: Promise<unknown>, pattern: RegExp) {
  return assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ModelfnError, `expected a ModelfnError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

test('a normal bundle unpacks read-only and keeps the executable bit', async () => {
  const zip = zipSync({ 'index.js': file('exports.handler = 1'), 'bin/bootstrap': file('#!/bin/sh', 0o100755), 'lib/': [new Uint8Array(0), { os: UNIX, attrs: (0o040755 << 16) >>> 0 }] });
  const { dir, result } = await extract(zip);
  assert.equal(result.entries.filter((e) => !e.directory).length, 2);
  assert.equal(await readFile(join(dir, 'index.js'), 'utf8'), 'exports.handler = 1');
  assert.equal((await stat(join(dir, 'bin/bootstrap'))).mode & 0o777, 0o555);
  assert.equal((await stat(join(dir, 'index.js'))).mode & 0o777, 0o444);
  assert.equal((await stat(dir)).mode & 0o222, 0, 'folders are read-only too');
  await removeTree(join(dir, '..'));
});

test('entries that escape the folder are refused, naming the entry', async () => {
  await rejects(extract(zipSync({ '../evil.js': file('x') })), /"\.\.\/evil\.js" escapes the bundle folder/);
  await rejects(extract(zipSync({ 'a/../../evil.js': file('x') })), /"a\/\.\.\/\.\.\/evil\.js" escapes/);
  await rejects(extract(zipSync({ '/etc/passwd': file('x') })), /"\/etc\/passwd" has an absolute path/);
  await rejects(extract(zipSync({ 'C:/x.js': file('x') })), /absolute path/);
  await rejects(extract(zipSync({ 'a\\..\\b.js': file('x') })), /backslashes/);
});

test('symbolic links are refused, naming the entry', async () => {
  await rejects(extract(zipSync({ 'link': [Buffer.from('/etc/passwd'), { os: UNIX, attrs: (0o120777 << 16) >>> 0 }] })), /"link" is a symbolic link/);
});

test('a zip bomb (extreme compression ratio) is refused', async () => {
  const zip = zipSync({ 'zeros.bin': [new Uint8Array(20 * 1024 * 1024), { level: 9 }] });
  await rejects(extract(zip), /"zeros\.bin" has a suspicious compression ratio/);
});

test('bundles over the unpacked or zipped limits are refused', async () => {
  const limits = { ...DEFAULT_BUNDLE_LIMITS, maxUnpackedBytes: 1000, maxZippedBytes: 100_000 };
  await rejects(extract(zipSync({ 'a.txt': [Buffer.alloc(600, 'a'), { level: 0 }], 'b.txt': [Buffer.alloc(600, 'b'), { level: 0 }] }), limits), /unpacks to more than 1000 bytes \(limit reached at entry "b\.txt"\)/);
  const random = Buffer.alloc(200_000);
  for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761) >>> 24;
  await assert.rejects(extract(zipSync({ 'r.bin': [random, { level: 0 }] }), limits), (err: unknown) => err instanceof ModelfnError && err.code === 'PAYLOAD_TOO_LARGE');
});

test('entries sharing compressed bytes (overlapping zip bomb) are refused', async () => {
  const zip = Buffer.from(zipSync({ 'a.txt': [Buffer.alloc(1000, 'x'), { level: 0 }] }));
  // Duplicate the central directory record under another name pointing at the same data.
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const cdOffset = zip.readUInt32LE(eocd + 16);
  const cdSize = zip.readUInt32LE(eocd + 12);
  const record = Buffer.from(zip.subarray(cdOffset, cdOffset + cdSize));
  const copy = Buffer.from(record);
  copy.write('b', 46); // rename a.txt -> b.txt
  const end = Buffer.from(zip.subarray(eocd));
  end.writeUInt16LE(2, 8);
  end.writeUInt16LE(2, 10);
  end.writeUInt32LE(cdSize * 2, 12);
  const bomb = Buffer.concat([zip.subarray(0, cdOffset + cdSize), copy, end]);
  await rejects(extract(bomb), /overlaps another entry's data/);
});

test('duplicate names, garbage and empty archives are refused', async () => {
  await rejects(extract(Buffer.from('this is not a zip at all')), /not a valid zip archive/);
  await rejects(extract(Buffer.alloc(0)), /not a valid zip archive/);
});

test('safeEntryPath normalises harmless paths', () => {
  assert.equal(safeEntryPath('a/./b.js'), 'a/b.js');
  assert.equal(safeEntryPath('dir/'), 'dir');
  assert.throws(() => safeEntryPath(''), /empty name/);
  assert.throws(() => safeEntryPath('a\0b'), /NUL/);
});
