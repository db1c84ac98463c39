/**
 * Containers around the LZMA decoder:
 *  - `.lzma` "alone" format (joblib compress='lzma'): 13-byte header, then one LZMA stream;
 *  - `.xz` (joblib compress='xz'): stream header, blocks of LZMA2 chunks, index, footer
 *    (tukaani xz file-format spec). Only the LZMA2 filter is accepted (what Python's lzma
 *    module writes by default); CRC32 checks are verified, CRC64/SHA-256 checks skipped.
 */
import { corrupt, SklearnLoadError } from '../errors.js';
import { crc32 } from './crc32.js';
import { LzmaDecoder, parseProps } from './lzma.js';
import { OutputBuffer } from './output.js';

const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];

export function unlzmaAlone(input: Uint8Array, maxOut: number): Uint8Array {
  if (input.length < 13) throw corrupt('truncated lzma stream header');
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const props = parseProps(input[0]!);
  const lo = view.getUint32(5, true);
  const hi = view.getUint32(9, true);
  const unknown = lo === 0xffffffff && hi === 0xffffffff;
  const size = unknown ? -1 : hi * 0x1_0000_0000 + lo;
  if (size > maxOut) throw new SklearnLoadError('LIMIT', `lzma stream declares ${size} bytes, over the limit of ${maxOut}`);
  const out = new OutputBuffer(maxOut, unknown ? input.length * 4 : Math.max(size, 1));
  const dec = new LzmaDecoder(out);
  dec.setProps(props);
  dec.resetState();
  dec.decode(input, 13, input.length, size);
  return out.result();
}

/** Reads a multibyte xz integer (7 bits per byte, little-endian, at most 9 bytes). */
function varint(buf: Uint8Array, at: { pos: number }, end: number): number {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 9; i++) {
    if (at.pos >= end) throw corrupt('truncated xz integer');
    const b = buf[at.pos++]!;
    v += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return v;
    mul *= 128;
  }
  throw corrupt('corrupt xz integer');
}

function checkSize(type: number): number {
  if (type === 0) return 0;
  return 4 << Math.floor((type - 1) / 3);
}

function decodeLzma2(buf: Uint8Array, start: number, dec: LzmaDecoder, out: OutputBuffer): number {
  let pos = start;
  let needDictReset = true;
  let needProps = true;
  const byte = (): number => {
    if (pos >= buf.length) throw corrupt('truncated xz block');
    return buf[pos++]!;
  };
  for (;;) {
    const control = byte();
    if (control === 0x00) return pos;
    if (control === 0x01 || control === 0x02) {
      if (control === 0x01) {
        dec.dictStart = out.pos;
        needDictReset = false;
      } else if (needDictReset) throw corrupt('corrupt xz data: LZMA2 chunk without dictionary reset');
      const size = ((byte() << 8) | byte()) + 1;
      if (pos + size > buf.length) throw corrupt('truncated xz block');
      out.ensure(size);
      out.buf.set(buf.subarray(pos, pos + size), out.pos);
      out.pos += size;
      pos += size;
      continue;
    }
    if (control < 0x80) throw corrupt(`corrupt xz data: LZMA2 control byte 0x${control.toString(16)}`);
    const unpacked = (control & 0x1f) * 65536 + ((byte() << 8) | byte()) + 1;
    const packed = ((byte() << 8) | byte()) + 1;
    const reset = (control >> 5) & 3;
    if (reset === 3) {
      dec.dictStart = out.pos;
      needDictReset = false;
    } else if (needDictReset) throw corrupt('corrupt xz data: LZMA2 chunk without dictionary reset');
    if (reset >= 2) {
      const props = parseProps(byte());
      if (props.lc + props.lp > 4) throw corrupt('corrupt xz data: LZMA2 lc + lp > 4');
      dec.setProps(props);
      needProps = false;
    } else if (needProps) throw corrupt('corrupt xz data: LZMA2 chunk without properties');
    if (reset >= 1) dec.resetState();
    if (pos + packed > buf.length) throw corrupt('truncated xz block');
    dec.decode(buf, pos, pos + packed, unpacked);
    pos += packed;
  }
}

export function unxz(input: Uint8Array, maxOut: number): Uint8Array {
  const out = new OutputBuffer(maxOut, input.length * 4);
  const dec = new LzmaDecoder(out);
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  let pos = 0;
  while (pos < input.length) {
    // stream header
    if (pos + 12 > input.length || XZ_MAGIC.some((b, i) => input[pos + i] !== b)) throw corrupt('corrupt xz stream header');
    if (crc32(input, pos + 6, pos + 8) !== view.getUint32(pos + 8, true)) throw corrupt('corrupt xz stream header (CRC32 mismatch)');
    const checkType = input[pos + 7]! & 0x0f;
    pos += 12;
    // blocks until the index indicator (0x00)
    for (;;) {
      if (pos >= input.length) throw corrupt('truncated xz stream');
      if (input[pos] === 0) break;
      const blockStart = pos;
      const headerSize = (input[pos]! + 1) * 4;
      if (pos + headerSize > input.length) throw corrupt('truncated xz block header');
      if (crc32(input, pos, pos + headerSize - 4) !== view.getUint32(pos + headerSize - 4, true)) throw corrupt('corrupt xz block header (CRC32 mismatch)');
      const flags = input[pos + 1]!;
      const at = { pos: pos + 2 };
      const hEnd = pos + headerSize - 4;
      if (flags & 0x40) varint(input, at, hEnd);
      if (flags & 0x80) varint(input, at, hEnd);
      if ((flags & 0x03) !== 0) throw new SklearnLoadError('UNSUPPORTED_FORMAT', 'xz filter chains (BCJ, delta) are not supported; only LZMA2');
      const filter = varint(input, at, hEnd);
      if (filter !== 0x21) throw new SklearnLoadError('UNSUPPORTED_FORMAT', `xz filter 0x${filter.toString(16)} is not supported; only LZMA2`);
      varint(input, at, hEnd); // properties size (dictionary size byte): the whole output is the dictionary
      pos += headerSize;
      const blockOutStart = out.pos;
      pos = decodeLzma2(input, pos, dec, out);
      while ((pos - blockStart) % 4 !== 0) {
        if (input[pos++] !== 0) throw corrupt('corrupt xz block padding');
      }
      const n = checkSize(checkType);
      if (pos + n > input.length) throw corrupt('truncated xz block check');
      if (checkType === 1 && crc32(out.buf, blockOutStart, out.pos) !== view.getUint32(pos, true)) throw corrupt('corrupt xz data (CRC32 mismatch)');
      pos += n;
    }
    // index: indicator, record count, records, padding, CRC32
    const at = { pos: pos + 1 };
    const records = varint(input, at, input.length);
    for (let i = 0; i < records; i++) {
      varint(input, at, input.length);
      varint(input, at, input.length);
    }
    while ((at.pos - pos) % 4 !== 0) at.pos++;
    pos = at.pos + 4;
    // footer
    if (pos + 12 > input.length || input[pos + 10] !== 0x59 || input[pos + 11] !== 0x5a) throw corrupt('corrupt xz stream footer');
    pos += 12;
    while (pos < input.length && input[pos] === 0) pos++; // stream padding
  }
  return out.result();
}
