/**
 * A minimal protocol-buffers reader: enough to walk an ONNX ModelProto's fields without a
 * schema compiler. Length-delimited fields are returned as views (no copies), so skipping a
 * large initializer costs nothing.
 */

export const WIRE = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

export interface Field {
  readonly number: number;
  readonly wire: number;
  /** Varint value (int64 as a number, exact up to 2^53; negative values as their int64 value). */
  readonly int: number;
  /** Length-delimited payload (wire type 2). */
  readonly bytes: Uint8Array;
  /** Offset of a fixed32/fixed64 value in the message. */
  readonly offset: number;
}

export class ProtobufError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtobufError';
  }
}

const EMPTY = new Uint8Array(0);

/** Every field of one message, in order. */
export function* fields(message: Uint8Array): Generator<Field> {
  let pos = 0;
  while (pos < message.length) {
    const [key, afterKey] = varint(message, pos);
    pos = afterKey;
    const number = Math.floor(key / 8);
    const wire = key % 8;
    if (number === 0) throw new ProtobufError('field number 0');
    switch (wire) {
      case WIRE.varint: {
        const [value, next] = varint(message, pos);
        pos = next;
        yield { number, wire, int: value, bytes: EMPTY, offset: pos };
        break;
      }
      case WIRE.fixed64:
        if (pos + 8 > message.length) throw new ProtobufError('truncated fixed64');
        yield { number, wire, int: 0, bytes: EMPTY, offset: pos };
        pos += 8;
        break;
      case WIRE.bytes: {
        const [length, start] = varint(message, pos);
        const end = start + length;
        if (length < 0 || end > message.length) throw new ProtobufError('length-delimited field runs past the end of its message');
        yield { number, wire, int: 0, bytes: message.subarray(start, end), offset: start };
        pos = end;
        break;
      }
      case WIRE.fixed32:
        if (pos + 4 > message.length) throw new ProtobufError('truncated fixed32');
        yield { number, wire, int: 0, bytes: EMPTY, offset: pos };
        pos += 4;
        break;
      default:
        throw new ProtobufError(`unsupported wire type ${wire}`);
    }
  }
}

/** Read a varint at pos: [value, next position]. 64-bit values keep their int64 sign. */
export function varint(buf: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new ProtobufError('truncated varint');
    const byte = buf[pos++]!;
    if (i === 9 || scale >= 2 ** 49) {
      // Past 53 bits: finish in BigInt so that int64 negatives come out right.
      return bigVarint(buf, pos - i - 1);
    }
    result += (byte & 0x7f) * scale;
    scale *= 128;
    if ((byte & 0x80) === 0) return [result, pos];
  }
  throw new ProtobufError('varint longer than 10 bytes');
}

function bigVarint(buf: Uint8Array, start: number): [number, number] {
  let result = 0n;
  let shift = 0n;
  let pos = start;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new ProtobufError('truncated varint');
    const byte = buf[pos++]!;
    result |= BigInt(byte & 0x7f) << shift;
    shift += 7n;
    if ((byte & 0x80) === 0) return [Number(BigInt.asIntN(64, result)), pos];
  }
  throw new ProtobufError('varint longer than 10 bytes');
}

const decoder = new TextDecoder('utf-8', { fatal: false });

export function text(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Repeated int64: packed (one length-delimited field) or one varint per element. */
export function pushInts(field: Field, out: number[]): void {
  if (field.wire === WIRE.varint) {
    out.push(field.int);
    return;
  }
  let pos = 0;
  while (pos < field.bytes.length) {
    const [value, next] = varint(field.bytes, pos);
    out.push(value);
    pos = next;
  }
}
