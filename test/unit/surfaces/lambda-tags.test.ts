import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelfnError } from '../../../src/shared/errors.js';
import { parseTags, tagsOf } from '../../../src/surfaces/lambda-api/tag-operations.js';
import type { FunctionDocument } from '../../../src/registry/types.js';

const refused = (value: unknown, message: RegExp) =>
  assert.throws(() => parseTags(value), (err: unknown) => err instanceof ModelfnError && err.code === 'INVALID_PARAMETER' && message.test(err.message));

test('tags within Lambda limits are taken as they are, any script and the allowed punctuation', () => {
  const tags = { team: 'ml', 'cost center': 'r and d', 'owner@x': 'me@example.com', équipe: 'données', 'a:b/c=d+e-f.g_h': '', k: 'v'.repeat(256) };
  assert.deepEqual(parseTags(tags), tags);
  assert.equal(Object.keys(parseTags(Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v'])))).length, 50);
});

test('a tag named __proto__ is a tag, not the object prototype', () => {
  const tags = parseTags(JSON.parse('{"__proto__":"x","a":"b"}'));
  assert.deepEqual(Object.keys(tags), ['__proto__', 'a']);
  assert.equal(Object.getPrototypeOf(tags), Object.prototype);
  const doc = { extensions: { tags: JSON.parse('{"__proto__":"x"}') } } as unknown as FunctionDocument;
  assert.deepEqual(Object.keys(tagsOf(doc)), ['__proto__']);
});

test('tags Lambda refuses are refused, naming the tag', () => {
  refused(['a'], /must be an object/);
  refused(null, /must be an object/);
  refused({ a: 1 }, /value of tag "a" must be a string/);
  refused(Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])), /at most 50 tags, not 51/);
  refused({ '': 'v' }, /must be 1-128 characters/);
  refused({ ['k'.repeat(129)]: 'v' }, /must be 1-128 characters/);
  refused({ 'AWS:owner': 'v' }, /reserved/);
  refused({ 'a#b': 'v' }, /tag key "a#b" may hold only/);
  refused({ a: 'v'.repeat(257) }, /at most 256 characters/);
  refused({ a: 'r&d' }, /value of tag "a" may hold only/);
});

test('a document without tags, or with a malformed tags extension, has none', () => {
  assert.deepEqual(tagsOf({ extensions: {} } as unknown as FunctionDocument), {});
  assert.deepEqual(tagsOf({ extensions: { tags: 'x' } } as unknown as FunctionDocument), {});
  assert.deepEqual(tagsOf({ extensions: { tags: { a: 'b', n: 1 } } } as unknown as FunctionDocument), { a: 'b' });
});
