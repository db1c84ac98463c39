import type { IncomingMessage } from 'node:http';
import type { z } from 'zod';
import { ModelfnError } from '../../shared/errors.js';
import { describeIssues } from '../../shared/validation.js';
import { readBody } from '../../server/http/body.js';

/** A Lambda API JSON body, validated; AWS answers bad ones with InvalidParameterValueException. */
export async function jsonBody<T extends z.ZodType>(req: IncomingMessage, schema: T, limit: number): Promise<z.infer<T>> {
  const body = await readBody(req, limit);
  let value: unknown = {};
  if (body.length > 0) {
    const type = (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim();
    if (type !== 'application/json' && type !== 'application/x-amz-json-1.1' && type !== 'binary/octet-stream' && type !== 'application/octet-stream') {
      throw new ModelfnError('UNSUPPORTED_MEDIA_TYPE', `The content type ${type} is not supported; send application/json`);
    }
    try {
      value = JSON.parse(body.toString('utf8')) as unknown;
    } catch (err) {
      throw new ModelfnError('INVALID_JSON', `Could not parse request body into json: ${(err as Error).message}`);
    }
  }
  const result = schema.safeParse(value);
  if (!result.success) throw new ModelfnError('INVALID_PARAMETER', describeIssues(result.error.issues));
  return result.data;
}

/** MaxItems: 1..10000, default 50. */
export function maxItems(query: URLSearchParams): number {
  const raw = query.get('MaxItems');
  if (raw === null) return 50;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new ModelfnError('INVALID_PARAMETER', `MaxItems must be between 1 and 10000, not ${raw}`);
  return n;
}
