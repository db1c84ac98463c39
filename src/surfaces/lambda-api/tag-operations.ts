import { z } from 'zod';
import { ModelfnError } from '../../shared/errors.js';
import { functionArn, parseFunctionReference } from '../../registry/arn.js';
import type { Registry } from '../../registry/registry.js';
import type { FunctionDocument } from '../../registry/types.js';
import { sendJson } from '../../server/http/respond.js';
import type { LambdaApiSurface } from './lambda-api-surface.js';
import { jsonBody } from './request.js';

/** Lambda's limits on a function's tags (the TagResource reference). */
const MAX_TAGS = 50;
const MAX_KEY_LENGTH = 128;
const MAX_VALUE_LENGTH = 256;
/** Letters, digits and spaces in any script, and _ . : / = + - @. */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

export type Tags = Readonly<Record<string, string>>;

/**
 * A request's Tags member: an object of strings, copied key by key from the parsed JSON (a schema
 * library's record would drop a key named __proto__ without a word; here it is a tag like any
 * other), then checked against Lambda's rules.
 */
export function parseTags(value: unknown): Tags {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ModelfnError('INVALID_PARAMETER', 'Tags must be an object of tag keys to string values');
  const entries = Object.entries(value);
  for (const [k, v] of entries) {
    if (typeof v !== 'string') throw new ModelfnError('INVALID_PARAMETER', `the value of tag ${JSON.stringify(k)} must be a string`);
  }
  return checkTags(tagMap(entries as Array<[string, string]>));
}

/** A function's tags, kept in its document's extensions (tags belong to the function, not to a version). */
export function tagsOf(doc: FunctionDocument): Tags {
  const stored = doc.extensions.tags;
  if (typeof stored !== 'object' || stored === null) return {};
  return tagMap(Object.entries(stored).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** Tags as Lambda accepts them, else InvalidParameterValueException naming the first bad one. */
function checkTags(tags: Tags): Tags {
  const keys = Object.keys(tags);
  if (keys.length > MAX_TAGS) throw new ModelfnError('INVALID_PARAMETER', `a function can have at most ${MAX_TAGS} tags, not ${keys.length}`);
  for (const key of keys) {
    const value = tags[key]!;
    if (key.length < 1 || key.length > MAX_KEY_LENGTH) throw new ModelfnError('INVALID_PARAMETER', `tag key ${JSON.stringify(key.slice(0, 40))} must be 1-${MAX_KEY_LENGTH} characters long`);
    if (/^aws:/i.test(key)) throw new ModelfnError('INVALID_PARAMETER', `tag key ${JSON.stringify(key)}: keys beginning with aws: are reserved`);
    if (!TAG_TEXT.test(key)) throw new ModelfnError('INVALID_PARAMETER', `tag key ${JSON.stringify(key)} may hold only letters, digits, spaces and _ . : / = + - @`);
    if (value.length > MAX_VALUE_LENGTH) throw new ModelfnError('INVALID_PARAMETER', `the value of tag ${JSON.stringify(key)} must be at most ${MAX_VALUE_LENGTH} characters long`);
    if (!TAG_TEXT.test(value)) throw new ModelfnError('INVALID_PARAMETER', `the value of tag ${JSON.stringify(key)} may hold only letters, digits, spaces and _ . : / = + - @`);
  }
  return tags;
}

/** A copy of tags built key by key: a key named __proto__ is a tag, not the object's prototype. */
function tagMap(entries: Iterable<[string, string]>): Record<string, string> {
  const map: Record<string, string> = {};
  for (const [k, v] of entries) Object.defineProperty(map, k, { value: v, enumerable: true, writable: true, configurable: true });
  return map;
}

const tagResourceSchema = z.object({ Tags: z.unknown() }).passthrough();

/** ListTags, TagResource, UntagResource: tags of functions, addressed by their unqualified ARN. */
export function registerTagOperations(api: LambdaApiSurface, registry: Registry): void {
  const account = registry.account;
  const functionOf = (arn: string): FunctionDocument => {
    if (!arn.startsWith('arn:')) throw new ModelfnError('INVALID_PARAMETER', `Resource must be a function ARN, not ${JSON.stringify(arn)}`);
    const { name, qualifier } = parseFunctionReference(arn, account);
    if (qualifier !== undefined) throw new ModelfnError('INVALID_PARAMETER', `tags belong to a function, not to a version or alias: use ${functionArn(account, name)}`);
    const doc = registry.get(name);
    if (!doc) throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: ${functionArn(account, name)}`);
    return doc;
  };
  const save = (name: string, change: (tags: Tags) => Tags) =>
    registry.update(name, (d) => {
      if (!d) throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: ${functionArn(account, name)}`);
      return { ...d, extensions: { ...d.extensions, tags: checkTags(change(tagsOf(d))) } };
    });

  api.operation('GET', '/2017-03-31/tags/:arn', async (_req, res, p) => {
    sendJson(res, 200, { Tags: tagsOf(functionOf(p.arn!)) });
  });

  api.operation('POST', '/2017-03-31/tags/:arn', async (req, res, p) => {
    const added = parseTags((await jsonBody(req, tagResourceSchema, 1024 * 1024)).Tags);
    const doc = functionOf(p.arn!);
    await save(doc.name, (tags) => tagMap([...Object.entries(tags), ...Object.entries(added)]));
    res.writeHead(204);
    res.end();
  });

  api.operation('DELETE', '/2017-03-31/tags/:arn', async (_req, res, p, query) => {
    const keys = query.getAll('tagKeys');
    if (keys.length === 0) throw new ModelfnError('INVALID_PARAMETER', 'tagKeys is required: name the tags to remove');
    const doc = functionOf(p.arn!);
    await save(doc.name, (tags) => tagMap(Object.entries(tags).filter(([k]) => !keys.includes(k))));
    res.writeHead(204);
    res.end();
  });
}
