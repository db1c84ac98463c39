/**
 * A growable output buffer for the pure-JS decoders, refusing to grow past the configured
 * decompressed-size cap (decompression bombs fail fast instead of exhausting memory).
 */
import { limit } from '../errors.js';

export class OutputBuffer {
  buf: Uint8Array;
  pos = 0;

  constructor(
    private readonly max: number,
    initial = 64 * 1024,
  ) {
    this.buf = new Uint8Array(Math.max(1, Math.min(initial, max)));
  }

  /** Makes room for n more bytes. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    if (need > this.max) throw limit(`decompressed data exceeds the limit of ${this.max} bytes`);
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(Math.min(size, this.max));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  writeByte(b: number): void {
    if (this.pos >= this.buf.length) this.ensure(1);
    this.buf[this.pos++] = b;
  }

  result(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}
