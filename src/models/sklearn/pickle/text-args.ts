/**
 * Argument decoding for the pickle opcodes whose operands are text or variable-length
 * integers (protocol 0 INT/LONG/FLOAT/STRING/UNICODE, and LONG1/LONG4). Pure functions.
 */
import { corrupt } from '../errors.js';

export function parseTextInt(s: string, what: string): number | bigint | boolean {
  if (s === '00') return false; // protocol 0 spelling of booleans
  if (s === '01') return true;
  const t = s.endsWith('L') ? s.slice(0, -1) : s;
  if (!/^[-+]?\d+$/.test(t)) throw corrupt(`${what} has invalid integer text ${JSON.stringify(s.slice(0, 40))}`);
  const b = BigInt(t);
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
}

export function parseTextFloat(s: string): number {
  const t = s.trim().toLowerCase();
  if (t === 'nan') return NaN;
  if (t === 'inf' || t === '+inf') return Infinity;
  if (t === '-inf') return -Infinity;
  const v = Number(t);
  if (Number.isNaN(v)) throw corrupt(`FLOAT has invalid text ${JSON.stringify(s.slice(0, 40))}`);
  return v;
}

/** Two's-complement little-endian integer of LONG1/LONG4. */
export function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  if (bytes[bytes.length - 1]! & 0x80) v -= 1n << BigInt(bytes.length * 8);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Python 2 `STRING` opcode: a quoted repr. Only the escapes repr() emits are handled. */
export function unquote(s: string): string {
  const q = s[0];
  if ((q !== "'" && q !== '"') || s.length < 2 || s[s.length - 1] !== q) throw corrupt('STRING opcode argument is not quoted');
  return s.slice(1, -1).replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_m, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8) & 0xff);
    return ({ n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' } as Record<string, string>)[e] ?? `\\${e}`;
  });
}

/** Python's raw-unicode-escape (protocol 0 UNICODE opcode). */
export function rawUnicodeEscape(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, u4?: string, u8?: string) =>
    String.fromCodePoint(parseInt((u4 ?? u8)!, 16)),
  );
}
