/**
 * bz2 (joblib compress='bz2'), decoded by the pure-JS 'seek-bzip' package through byte
 * streams we control: reading past the end throws (a truncated file cannot spin) and output
 * is capped.
 */
import Bunzip from 'seek-bzip';
import { corrupt, SklearnLoadError } from '../errors.js';
import { OutputBuffer } from './output.js';

export function bunzip2(input: Uint8Array, maxOut: number): Uint8Array {
  const out = new OutputBuffer(maxOut, input.length * 4);
  let pos = 0;
  const source = {
    readByte(): number {
      if (pos >= input.length) throw corrupt('truncated bz2 stream');
      return input[pos++]!;
    },
    read(buffer: Uint8Array, offset: number, length: number): number {
      if (pos >= input.length) return -1;
      const n = Math.min(length, input.length - pos);
      buffer.set(input.subarray(pos, pos + n), offset);
      pos += n;
      return n;
    },
    eof: (): boolean => pos >= input.length,
    seek(p: number): void {
      pos = p;
    },
  };
  try {
    Bunzip.decode(source, out, true);
  } catch (e) {
    if (e instanceof SklearnLoadError) throw e;
    throw corrupt(`corrupt bz2 stream: ${e instanceof Error ? e.message : String(e)}`);
  }
  return out.result();
}
