// The pure-JS decoders against container variants Python writes (make_fixtures.py
// write_containers): xz with CRC64 / SHA-256 / CRC32 checks, concatenated xz and bz2 streams,
// lzma-alone with non-default lc/lp/pb. Each must decompress to containers/raw.bin exactly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decompress, detectContainer } from '../../../../src/models/sklearn/compression/index.js';
import { unlzmaAlone } from '../../../../src/models/sklearn/compression/xz.js';
import { fixture } from './helpers.js';

const raw = fixture('containers/raw.bin');

void describe('decompression', () => {
  for (const [file, container] of [
    ['crc64.xz', 'xz'],
    ['sha256.xz', 'xz'],
    ['crc32-extreme.xz', 'xz'],
    ['two-streams.xz', 'xz'],
    ['bz2-two-streams.bz2', 'bz2'],
  ] as const) {
    void it(file, () => {
      const b = fixture(`containers/${file}`);
      assert.equal(detectContainer(b), container);
      const out = decompress(b, 1 << 24).data;
      assert.equal(out.length, raw.length);
      assert.ok(Buffer.from(out).equals(Buffer.from(raw)), 'decompressed bytes differ');
    });
  }
  void it('lzma-alone with lc=0, lp=2, pb=0 (not joblib magic, decoded directly)', () => {
    const out = unlzmaAlone(fixture('containers/lc0-lp2-pb0.lzma'), 1 << 24);
    assert.ok(Buffer.from(out).equals(Buffer.from(raw)));
  });
  void it('detects a corrupted xz payload by its CRC32 check', () => {
    const b = fixture('containers/crc32-extreme.xz');
    b[b.length >> 1]! ^= 0x01; // inside the compressed data: a decoder error or the CRC32 catches it
    assert.throws(() => decompress(b, 1 << 24));
  });
  void it('plain pickles pass through', () => {
    const b = Uint8Array.from([0x80, 0x04, 0x4e, 0x2e]);
    assert.equal(decompress(b, 10).data, b);
  });
});
