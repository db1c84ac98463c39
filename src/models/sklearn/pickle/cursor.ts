/**
 * Bounds-checked reading over an in-memory byte stream. Every length the file declares is
 * compared with what is actually left before any slice is taken, so a huge declared length
 * fails with a precise message instead of an allocation.
 */
import { corrupt, limit } from '../errors.js';

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

export class Cursor {
  pos: number;
  private readonly view: DataView;

  constructor(
    readonly buf: Uint8Array,
    pos = 0,
  ) {
    this.pos = pos;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number, what: string): void {
    if (n > this.remaining) {
      throw corrupt(`truncated stream: ${what} needs ${n} bytes at offset ${this.pos}, only ${this.remaining} left`);
    }
  }

  u8(what = 'byte'): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  i32(what: string): number {
    this.need(4, what);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** 8-byte little-endian unsigned length; anything past 2^53 is necessarily bogus here. */
  u64(what: string): number {
    this.need(8, what);
    const lo = this.view.getUint32(this.pos, true);
    const hi = this.view.getUint32(this.pos + 4, true);
    if (hi >= 0x200000) throw limit(`declared ${what} length ${(BigInt(hi) << 32n) | BigInt(lo)} is absurd (offset ${this.pos})`);
    this.pos += 8;
    return hi * 0x1_0000_0000 + lo;
  }

  f64be(what: string): number {
    this.need(8, what);
    const v = this.view.getFloat64(this.pos, false);
    this.pos += 8;
    return v;
  }

  /** A view (no copy) of the next n bytes, after checking the declared length. */
  bytes(n: number, what: string): Uint8Array {
    if (n > this.remaining) {
      throw corrupt(`truncated stream or bogus length: ${what} declares length ${n} at offset ${this.pos}, only ${this.remaining} bytes left`);
    }
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  utf8(n: number, what: string): string {
    return utf8.decode(this.bytes(n, what));
  }

  latin1(n: number, what: string): string {
    return latin1.decode(this.bytes(n, what));
  }

  /** A '\n'-terminated line (text opcodes), without the newline, capped at maxLen bytes. */
  line(what: string, maxLen: number): string {
    const end = this.buf.indexOf(0x0a, this.pos);
    if (end < 0) throw corrupt(`truncated stream: ${what} line at offset ${this.pos} has no newline`);
    if (end - this.pos > maxLen) throw limit(`${what} line at offset ${this.pos} is longer than ${maxLen} bytes`);
    const s = latin1.decode(this.buf.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }
}
