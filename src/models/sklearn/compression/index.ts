/**
 * Recognises joblib's compressed containers by their magic bytes (joblib/compressor.py) and
 * returns the raw pickle stream. Plain pickles pass through untouched.
 *
 *   'ZF' + hex length   joblib < 0.10 zlib file     0x78        zlib (joblib 'zlib')
 *   1f 8b               gzip                        'BZh'       bz2
 *   fd 37 7a 58 5a 00   xz                          5d 00 00    lzma "alone"
 */
import { gunzipSync, inflateSync } from 'node:zlib';
import { corrupt, limit, SklearnLoadError } from '../errors.js';
import { bunzip2 } from './bzip2.js';
import { unlzmaAlone, unxz } from './xz.js';

export type Container = 'pickle' | 'zlib' | 'gzip' | 'bz2' | 'xz' | 'lzma' | 'lz4' | 'joblib-zf';

const startsWith = (b: Uint8Array, prefix: readonly number[]): boolean => prefix.every((x, i) => b[i] === x);

export function detectContainer(b: Uint8Array): Container {
  if (startsWith(b, [0x5a, 0x46])) return 'joblib-zf';
  if (b[0] === 0x78) return 'zlib';
  if (startsWith(b, [0x1f, 0x8b])) return 'gzip';
  if (startsWith(b, [0x42, 0x5a, 0x68])) return 'bz2';
  if (startsWith(b, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return 'xz';
  if (startsWith(b, [0x5d, 0x00, 0x00])) return 'lzma';
  if (startsWith(b, [0x04, 0x22, 0x4d, 0x18])) return 'lz4';
  return 'pickle';
}

/** Node's zlib enforces the cap itself (maxOutputLength) and reports it as a RangeError. */
function nodeZlib(fn: typeof inflateSync, data: Uint8Array, max: number, what: string): Uint8Array {
  try {
    const out = fn(data, { maxOutputLength: max });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    if (e instanceof RangeError || (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw limit(`decompressed ${what} data exceeds the limit of ${max} bytes`);
    }
    throw corrupt(`corrupt ${what} stream: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** joblib < 0.10: 'ZF' + hex(len) left-justified to 19 chars (+ optional space) + zlib data. */
function joblibZf(b: Uint8Array, max: number): Uint8Array {
  const header = new TextDecoder('latin1').decode(b.subarray(2, 21)).trim();
  if (!/^0x[0-9a-fA-F]+$/.test(header)) throw corrupt(`corrupt joblib ZF header ${JSON.stringify(header)}`);
  const length = parseInt(header, 16);
  if (length > max) throw limit(`joblib ZF file declares ${length} bytes, over the limit of ${max}`);
  const start = b[21] === 0x20 ? 22 : 21;
  const out = nodeZlib(inflateSync, b.subarray(start), max, 'zlib');
  if (out.length !== length) throw corrupt(`joblib ZF file declares ${length} bytes but holds ${out.length}`);
  return out;
}

export function decompress(b: Uint8Array, maxOut: number): { container: Container; data: Uint8Array } {
  const container = detectContainer(b);
  switch (container) {
    case 'pickle':
      return { container, data: b };
    case 'zlib':
      return { container, data: nodeZlib(inflateSync, b, maxOut, 'zlib') };
    case 'gzip':
      return { container, data: nodeZlib(gunzipSync, b, maxOut, 'gzip') };
    case 'bz2':
      return { container, data: bunzip2(b, maxOut) };
    case 'xz':
      return { container, data: unxz(b, maxOut) };
    case 'lzma':
      return { container, data: unlzmaAlone(b, maxOut) };
    case 'joblib-zf':
      return { container, data: joblibZf(b, maxOut) };
    case 'lz4':
      throw new SklearnLoadError('UNSUPPORTED_FORMAT', 'lz4-compressed joblib files are not supported (use zlib, gzip, bz2, xz or lzma)');
    default:
      throw new SklearnLoadError('UNSUPPORTED_FORMAT', `unknown container ${String(container)}`);
  }
}
