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
