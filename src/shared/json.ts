import { ModelfnError } from './errors.js';

/** Parse a request body as JSON, failing with a precise 400 that says where the text broke. */
export function parseJsonBody(body: Buffer | string, what = 'request body'): unknown {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new ModelfnError('INVALID_JSON', `${what} is not valid JSON: ${detail}`);
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * map[key] when the map holds that key itself. Documents keep user-named entries (aliases,
 * versions, schedules, mappings, URL and async configs) in plain objects, where a lookup of
 * "constructor", "toString" or "__proto__" would otherwise find Object.prototype's members.
 */
export function own<T>(map: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

/**
 * JSON.stringify(text), a third cheaper for the short, plain strings the request path writes
 * (ids, names, header values): those are quoted as they are, anything that needs escaping (quote,
 * backslash, control characters, surrogates: well-formed JSON.stringify escapes lone ones) goes
 * to JSON.stringify itself. Same bytes either way (a unit test holds them equal).
 */
export function jsonString(text: string): string {
  if (text.length > 96) return JSON.stringify(text);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(text);
  }
  return `"${text}"`;
}

/** JSON.stringify of a number (non-finite ones are null in JSON). */
export function jsonNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}
