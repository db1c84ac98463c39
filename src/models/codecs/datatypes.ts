/**
 * Open Inference Protocol tensor datatypes and how each one is held in memory. This folder is
 * shared by the platform and the model host process, so it imports nothing outside itself.
 */

export const DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'] as const;

export type Datatype = (typeof DATATYPES)[number];

/** Tensor contents, flat and row-major. INT64/UINT64 may also arrive as plain numbers (from JSON). */
export type TensorValues =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | number[]
  | boolean[]
  | string[];

export function isDatatype(value: unknown): value is Datatype {
  return typeof value === 'string' && (DATATYPES as readonly string[]).includes(value);
}

export function isNumericDatatype(datatype: Datatype): boolean {
  return datatype !== 'BOOL' && datatype !== 'BYTES';
}

export function isIntegerDatatype(datatype: Datatype): boolean {
  return datatype.startsWith('INT') || datatype.startsWith('UINT');
}

const INT_RANGE: Partial<Record<Datatype, [number, number]>> = {
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
};
const TWO_63 = 2 ** 63;
/** The smallest magnitude that rounds to Infinity in half precision (65504 plus half a step). */
const FP16_OVERFLOW = 65520;

/** Why a JSON element cannot be a value of `datatype`, or undefined when it can. */
export function elementProblem(datatype: Datatype, value: unknown): string | undefined {
  switch (datatype) {
    case 'BOOL':
      return typeof value === 'boolean' ? undefined : 'a boolean (true/false)';
    case 'BYTES':
      return typeof value === 'string' ? undefined : 'a string';
    // A value beyond the datatype's range would arrive in the model as Infinity.
    case 'FP16':
      return typeof value === 'number' && Math.abs(value) < FP16_OVERFLOW ? undefined : 'a finite number in the FP16 range';
    case 'FP32':
      return typeof value === 'number' && Number.isFinite(Math.fround(value)) ? undefined : 'a finite number in the FP32 range';
    case 'FP64':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : 'a finite number';
    default: {
      if (typeof value !== 'number' || !Number.isInteger(value)) return 'an integer';
      // A double holds 2^63 exactly but int64 does not: the 64-bit bounds are exclusive above.
      if (datatype === 'INT64') return value >= -TWO_63 && value < TWO_63 ? undefined : 'an integer in the int64 range';
      if (datatype === 'UINT64') return value >= 0 && value < 2 * TWO_63 ? undefined : 'an integer in the uint64 range';
      const [lo, hi] = INT_RANGE[datatype]!;
      return value >= lo && value <= hi ? undefined : `an integer in ${lo}..${hi}`;
    }
  }
}

/** Copy checked JSON elements into the array type that holds `datatype`. */
export function toValues(datatype: Datatype, elements: readonly unknown[]): TensorValues {
  switch (datatype) {
    case 'BOOL':
      return elements as boolean[];
    case 'BYTES':
      return elements as string[];
    case 'FP16':
      return elements as number[];
    case 'FP32':
      return Float32Array.from(elements as number[]);
    case 'FP64':
      return Float64Array.from(elements as number[]);
    case 'INT8':
      return Int8Array.from(elements as number[]);
    case 'INT16':
      return Int16Array.from(elements as number[]);
    case 'INT32':
      return Int32Array.from(elements as number[]);
    case 'UINT8':
      return Uint8Array.from(elements as number[]);
    case 'UINT16':
      return Uint16Array.from(elements as number[]);
    case 'UINT32':
      return Uint32Array.from(elements as number[]);
    case 'INT64':
      return BigInt64Array.from(elements as number[], (v) => BigInt(v));
    case 'UINT64':
      return BigUint64Array.from(elements as number[], (v) => BigInt(v));
  }
}

/** An empty array of the type that holds `datatype`, `length` long. */
export function allocValues(datatype: Datatype, length: number): TensorValues {
  switch (datatype) {
    case 'BOOL':
      return new Array<boolean>(length).fill(false);
    case 'BYTES':
      return new Array<string>(length).fill('');
    case 'FP16':
      return new Array<number>(length).fill(0);
    case 'FP32':
      return new Float32Array(length);
    case 'FP64':
      return new Float64Array(length);
    case 'INT8':
      return new Int8Array(length);
    case 'INT16':
      return new Int16Array(length);
    case 'INT32':
      return new Int32Array(length);
    case 'UINT8':
      return new Uint8Array(length);
    case 'UINT16':
      return new Uint16Array(length);
    case 'UINT32':
      return new Uint32Array(length);
    case 'INT64':
      return new BigInt64Array(length);
    case 'UINT64':
      return new BigUint64Array(length);
  }
}
