import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deploySpecSchema } from '../../../src/registry/function-spec.js';
import { parseFunctionReference } from '../../../src/registry/arn.js';
import { parseOrThrow } from '../../../src/shared/validation.js';

const code = { sha256: 'a'.repeat(64) };
const parse = (value: unknown) => parseOrThrow(deploySpecSchema, value, 'function configuration');

test('defaults follow Lambda; limits are enforced with the field named', () => {
  const spec = parse({ runtime: 'nodejs20.x', handler: 'index.handler', code });
  assert.equal(spec.memoryMb, 128);
  assert.equal(spec.timeoutSec, 3);
  assert.throws(() => parse({ runtime: 'nodejs20.x', handler: 'index.handler', code, memoryMb: 64 }), /memoryMb: must be between 128 and 10240 MB/);
  assert.throws(() => parse({ runtime: 'nodejs20.x', handler: 'index.handler', code, timeoutSec: 901 }), /timeoutSec: must be between 1 and 900 seconds/);
  assert.throws(() => parse({ runtime: 'nodejs20.x', handler: 'index.handler', code, timeoutSec: 1.5 }), /timeoutSec: must be a whole number/);
  assert.throws(() => parse({ runtime: 'nodejs20.x', handler: 'index.handler', code, memory: 256 }), /unknown field memory/);
  assert.throws(() => parse({ runtime: 'nodejs20.x', handler: 'index handler', code }), /handler: must not contain whitespace/);
});

test('environment variables: names, reserved keys, total size', () => {
  assert.throws(() => parse({ runtime: 'nodejs20.x', handler: 'i.h', code, environment: { AWS_REGION: 'x' } }), /reserved name/);
  assert.throws(() => parse({ runtime: 'nodejs20.x', handler: 'i.h', code, environment: { '1BAD': 'x' } }), /variable names start with a letter/);
  assert.throws(() => parse({ runtime: 'nodejs20.x', handler: 'i.h', code, environment: { BIG: 'x'.repeat(5000) } }), /at most 4096 bytes/);
  assert.deepEqual(parse({ runtime: 'nodejs20.x', handler: 'i.h', code, environment: { GREETING: 'hi' } }).environment, { GREETING: 'hi' });
});

test('routes: methods, params filling whole segments, greedy last', () => {
  const ok = parse({ runtime: 'nodejs20.x', handler: 'i.h', code, routes: [{ method: 'post', path: '/a/{id}/{rest+}' }] });
  assert.deepEqual(ok.routes, [{ method: 'POST', path: '/a/{id}/{rest+}', payloadFormat: '2.0' }]);
  assert.throws(() => parse({ runtime: 'nodejs20.x', handler: 'i.h', code, routes: [{ method: 'BREW', path: '/a' }] }), /method: must be one of/);
  assert.throws(() => parse({ runtime: 'nodejs20.x', handler: 'i.h', code, routes: [{ method: 'GET', path: 'a' }] }), /must start with \//);
  assert.throws(() => parse({ runtime: 'nodejs20.x', handler: 'i.h', code, routes: [{ method: 'GET', path: '/a{id}' }] }), /must fill its whole segment/);
  assert.throws(() => parse({ runtime: 'nodejs20.x', handler: 'i.h', code, routes: [{ method: 'GET', path: '/{p+}/x' }] }), /must be the last segment/);
});

test('function references: names, qualifiers, ARNs', () => {
  const account = { region: 'us-east-1', accountId: '123456789012' };
  assert.deepEqual(parseFunctionReference('fn', account), { name: 'fn' });
  assert.deepEqual(parseFunctionReference('fn:prod', account), { name: 'fn', qualifier: 'prod' });
  assert.deepEqual(parseFunctionReference('arn:aws:lambda:us-east-1:123456789012:function:fn:3', account), { name: 'fn', qualifier: '3' });
  assert.deepEqual(parseFunctionReference('123456789012:function:fn', account), { name: 'fn' });
  assert.throws(() => parseFunctionReference('arn:aws:lambda:eu-west-1:123456789012:function:fn', account), /Function not found/);
  assert.throws(() => parseFunctionReference('bad name', account), /invalid function name/);
  assert.throws(() => parseFunctionReference('a:b:c', account), /invalid function name/);
});
