/**
 * JSON text for model answers. JSON.stringify throws on BigInt (int64 tensors come back from
 * ONNX Runtime as BigInt64Array); here a bigint is written as its exact decimal digits, which is
 * valid JSON for any size. Typed arrays become JSON arrays.
 */
export function stringifyJson(value: unknown): string {
  return write(value) ?? 'null';
}

function write(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return 'null';
  if (ArrayBuffer.isView(value)) {
    if (value instanceof BigInt64Array || value instanceof BigUint64Array) return `[${value.join(',')}]`;
    if (value instanceof DataView) return 'null';
    return JSON.stringify(Array.from(value as unknown as ArrayLike<number>));
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += write(value[i]) ?? 'null';
    }
    return `${out}]`;
  }
  let out = '{';
  let first = true;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const text = write(v);
    if (text === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += `${JSON.stringify(k)}:${text}`;
  }
  return `${out}}`;
}

/** Whether every int64 element fits a double exactly (then plain numbers are fine). */
export function allSafe(values: BigInt64Array | BigUint64Array): boolean {
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  for (const v of values) if (v > max || v < -max) return false;
  return true;
}
