/**
 * LZMA decoder (the algorithm behind joblib's 'lzma' and 'xz' compressors), written from the
 * LZMA specification (LZMA SDK's lzma-specification.txt). npm has no well-kept pure-JS,
 * synchronous xz decoder (the candidates are native, WASM+async, or try to install native
 * modules at run time), and model loading must stay synchronous and self-contained.
 *
 * The whole output lives in one buffer, which doubles as the dictionary: a match distance is
 * valid iff it stays inside the bytes produced since the last dictionary reset. Every read
 * of input is bounds-checked and output is capped (OutputBuffer), so corrupt data errors out.
 */
import { corrupt } from '../errors.js';
import type { OutputBuffer } from './output.js';

const PROB_INIT = 1024;
const TOP = 1 << 24;

class RangeDecoder {
  private range = 0xffffffff;
  private code = 0;
  pos: number;

  constructor(
    private readonly buf: Uint8Array,
    start: number,
    private readonly end: number,
  ) {
    this.pos = start;
    if (this.next() !== 0) throw corrupt('corrupt LZMA data: bad range coder start');
    for (let i = 0; i < 4; i++) this.code = this.code * 256 + this.next();
    if (this.code === this.range) throw corrupt('corrupt LZMA data: bad range coder start');
  }

  private next(): number {
    if (this.pos >= this.end) throw corrupt('truncated LZMA data');
    return this.buf[this.pos++]!;
  }

  get finishedOk(): boolean {
    return this.code === 0;
  }

  bit(probs: Uint16Array, i: number): number {
    const p = probs[i]!;
    const bound = (this.range >>> 11) * p;
    let bit: number;
    if (this.code < bound) {
      this.range = bound;
      probs[i] = p + ((2048 - p) >>> 5);
      bit = 0;
    } else {
      this.range -= bound;
      this.code -= bound;
      probs[i] = p - (p >>> 5);
      bit = 1;
    }
    if (this.range < TOP) {
      this.range *= 256;
      this.code = this.code * 256 + this.next();
    }
    return bit;
  }

  direct(numBits: number): number {
    let res = 0;
    for (let i = 0; i < numBits; i++) {
      this.range = this.range >>> 1;
      let b = 0;
      if (this.code >= this.range) {
        this.code -= this.range;
        b = 1;
      }
      res = res * 2 + b;
      if (this.range < TOP) {
        this.range *= 256;
        this.code = this.code * 256 + this.next();
      }
    }
    return res;
  }

  tree(probs: Uint16Array, base: number, numBits: number): number {
    let m = 1;
    for (let i = 0; i < numBits; i++) m = (m << 1) + this.bit(probs, base + m);
    return m - (1 << numBits);
  }

  reverseTree(probs: Uint16Array, base: number, numBits: number): number {
    let m = 1;
    let sym = 0;
    for (let i = 0; i < numBits; i++) {
      const b = this.bit(probs, base + m);
      m = (m << 1) + b;
      sym |= b << i;
    }
    return sym;
  }
}

class LenDecoder {
  private readonly choice = new Uint16Array(2);
  private readonly low = new Uint16Array(16 << 3);
  private readonly mid = new Uint16Array(16 << 3);
  private readonly high = new Uint16Array(256);
  reset(): void {
    for (const a of [this.choice, this.low, this.mid, this.high]) a.fill(PROB_INIT);
  }
  decode(rc: RangeDecoder, posState: number): number {
    if (rc.bit(this.choice, 0) === 0) return rc.tree(this.low, posState << 3, 3);
    if (rc.bit(this.choice, 1) === 0) return 8 + rc.tree(this.mid, posState << 3, 3);
    return 16 + rc.tree(this.high, 0, 8);
  }
}

export interface LzmaProps {
  lc: number;
  lp: number;
  pb: number;
}

export function parseProps(d: number): LzmaProps {
  if (d >= 9 * 5 * 5) throw corrupt(`corrupt LZMA properties byte 0x${d.toString(16)}`);
  return { lc: d % 9, lp: Math.floor(d / 9) % 5, pb: Math.floor(d / 45) };
}

/** Decoder state that persists across LZMA2 chunks unless a chunk resets it. */
export class LzmaDecoder {
  private props: LzmaProps = { lc: 0, lp: 0, pb: 0 };
  private literal = new Uint16Array(0x300);
  private readonly isMatch = new Uint16Array(12 << 4);
  private readonly isRep = new Uint16Array(12);
  private readonly isRepG0 = new Uint16Array(12);
  private readonly isRepG1 = new Uint16Array(12);
  private readonly isRepG2 = new Uint16Array(12);
  private readonly isRep0Long = new Uint16Array(12 << 4);
  private readonly posSlot = new Uint16Array(4 << 6);
  private readonly posSpecial = new Uint16Array(115);
  private readonly align = new Uint16Array(16);
  private readonly lenDec = new LenDecoder();
  private readonly repLenDec = new LenDecoder();
  private state = 0;
  private reps = [0, 0, 0, 0];
  /** Output position of the last dictionary reset: matches may not reach before it. */
  dictStart = 0;

  constructor(private readonly out: OutputBuffer) {}

  setProps(p: LzmaProps): void {
    this.props = p;
    this.literal = new Uint16Array(0x300 << (p.lc + p.lp));
  }

  resetState(): void {
    for (const a of [this.literal, this.isMatch, this.isRep, this.isRepG0, this.isRepG1, this.isRepG2, this.isRep0Long, this.posSlot, this.posSpecial, this.align]) {
      a.fill(PROB_INIT);
    }
    this.lenDec.reset();
    this.repLenDec.reset();
    this.state = 0;
    this.reps = [0, 0, 0, 0];
  }

  /**
   * Decodes until `size` more bytes were produced (size < 0: until the end marker).
   * Returns the input position after the consumed range-coder bytes.
   */
  decode(buf: Uint8Array, start: number, end: number, size: number): number {
    const rc = new RangeDecoder(buf, start, end);
    const out = this.out;
    const { lc, lp, pb } = this.props;
    const pbMask = (1 << pb) - 1;
    const lpMask = (1 << lp) - 1;
    const target = size < 0 ? Infinity : out.pos + size;
    const reps = this.reps;
    let state = this.state;
    while (out.pos < target) {
      const avail = out.pos - this.dictStart;
      const posState = avail & pbMask;
      if (rc.bit(this.isMatch, (state << 4) + posState) === 0) {
        const prev = avail > 0 ? out.buf[out.pos - 1]! : 0;
        const base = 0x300 * (((avail & lpMask) << lc) + (prev >> (8 - lc)));
        let sym = 1;
        if (state >= 7) {
          if (reps[0]! >= avail) throw corrupt('corrupt LZMA data: match distance outside dictionary');
          let matchByte = out.buf[out.pos - reps[0]! - 1]!;
          while (sym < 0x100) {
            const matchBit = (matchByte >> 7) & 1;
            matchByte <<= 1;
            const b = rc.bit(this.literal, base + ((1 + matchBit) << 8) + sym);
            sym = (sym << 1) | b;
            if (matchBit !== b) break;
          }
        }
        while (sym < 0x100) sym = (sym << 1) | rc.bit(this.literal, base + sym);
        out.writeByte(sym - 0x100);
        state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
        continue;
      }
      let len: number;
      if (rc.bit(this.isRep, state) !== 0) {
        if (avail === 0) throw corrupt('corrupt LZMA data: repeat match at stream start');
        if (rc.bit(this.isRepG0, state) === 0) {
          if (rc.bit(this.isRep0Long, (state << 4) + posState) === 0) {
            state = state < 7 ? 9 : 11;
            if (reps[0]! >= avail) throw corrupt('corrupt LZMA data: match distance outside dictionary');
            out.writeByte(out.buf[out.pos - reps[0]! - 1]!);
            continue;
          }
        } else {
          let dist: number;
          if (rc.bit(this.isRepG1, state) === 0) {
            dist = reps[1]!;
          } else {
            if (rc.bit(this.isRepG2, state) === 0) {
              dist = reps[2]!;
            } else {
              dist = reps[3]!;
              reps[3] = reps[2]!;
            }
            reps[2] = reps[1]!;
          }
          reps[1] = reps[0]!;
          reps[0] = dist;
        }
        len = this.repLenDec.decode(rc, posState);
        state = state < 7 ? 8 : 11;
      } else {
        reps[3] = reps[2]!;
        reps[2] = reps[1]!;
        reps[1] = reps[0]!;
        len = this.lenDec.decode(rc, posState);
        state = state < 7 ? 7 : 10;
        const dist = this.distance(rc, len);
        if (dist === 0xffffffff) {
          if (size >= 0 && out.pos < target) throw corrupt('corrupt LZMA data: end marker before the declared size');
          this.state = state;
          return rc.pos;
        }
        reps[0] = dist;
      }
      len += 2;
      const dist = reps[0]! + 1;
      if (dist > out.pos - this.dictStart) throw corrupt('corrupt LZMA data: match distance outside dictionary');
      if (out.pos + len > target) throw corrupt('corrupt LZMA data: match runs past the declared size');
      out.ensure(len);
      const b = out.buf;
      let p = out.pos;
      for (let i = 0; i < len; i++, p++) b[p] = b[p - dist]!;
      out.pos = p;
    }
    this.state = state;
    return rc.pos;
  }

  private distance(rc: RangeDecoder, len: number): number {
    const lenState = len > 3 ? 3 : len;
    const slot = rc.tree(this.posSlot, lenState << 6, 6);
    if (slot < 4) return slot;
    const numDirect = (slot >>> 1) - 1;
    let dist = (2 | (slot & 1)) * 2 ** numDirect;
    if (slot < 14) return dist + rc.reverseTree(this.posSpecial, dist - slot, numDirect);
    dist += rc.direct(numDirect - 4) * 16;
    return dist + rc.reverseTree(this.align, 0, 4);
  }
}
