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
