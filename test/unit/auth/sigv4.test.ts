import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import fc from 'fast-check';
import { SigV4Authenticator } from '../../../src/auth/authenticator.js';
import type { AccessKey, KeyStore } from '../../../src/auth/access-keys.js';
import { canonicalQuery, canonicalUri, parseAuthorization, signature } from '../../../src/auth/sigv4.js';
import { RequestSigner } from '../../../src/cli/signer.js';
import { ManualClock } from '../../../src/shared/clock.js';
import { ModelfnError } from '../../../src/shared/errors.js';

const KEY: AccessKey = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', tenant: 'default', admin: true, createdAt: '', revoked: false, description: '' };
const keys: KeyStore = { get: (id) => (id === KEY.accessKeyId ? KEY : undefined), list: () => [KEY], create: async () => KEY, revoke: async () => false };

test('the SigV4 test suite vector get-vanilla', () => {
  // GET / with host and x-amz-date, from the AWS Signature Version 4 test suite.
  const canonical = 'GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
  const sig = signature(KEY.secretAccessKey, { date: '20150830', region: 'us-east-1', service: 'service' }, '20150830T123600Z', canonical);
  assert.equal(sig, '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
});

test('canonical URI double-encodes; canonical query sorts and encodes', () => {
  assert.equal(canonicalUri('/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af/invocations'), '/2015-03-31/functions/arn%253Aaws%253Alambda%253Aus-east-1%253A1%253Afunction%253Af/invocations');
  assert.equal(canonicalUri('/a/./b/../c//d/'), '/a/c/d/');
  assert.equal(canonicalUri('/'), '/');
  assert.equal(canonicalQuery('b=2&a=1&a=0&c=x%20y&d'), 'a=0&a=1&b=2&c=x%20y&d=');
  assert.equal(canonicalQuery('k=%7E%21'), 'k=~%21');
});

test('malformed Authorization headers are refused with a reason', () => {
  assert.throws(() => parseAuthorization('Basic abc'), /AWS4-HMAC-SHA256/);
  assert.throws(() => parseAuthorization('AWS4-HMAC-SHA256 Credential=AK/2015/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=00'), /Credential should be scoped/);
});

function fakeRequest(method: string, headers: Record<string, string>): IncomingMessage {
  const rawHeaders = Object.entries(headers).flatMap(([k, v]) => [k, v]);
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method, headers: lower, rawHeaders } as unknown as IncomingMessage;
}

async function signedRequest(method: string, path: string, query: string, body: Buffer, extraHeaders: Record<string, string> = {}, service = 'lambda') {
  const url = new URL(`http://127.0.0.1:8080${path}${query ? `?${query}` : ''}`);
  const signer = new RequestSigner(KEY, 'us-east-1', service);
  const headers = await signer.sign(method, url, { 'content-type': 'application/json', ...extraHeaders }, body);
  return fakeRequest(method, { Host: url.host, ...headers });
}

test('requests signed by the AWS SDK signer verify; any change to them does not', async () => {
  const clock = new ManualClock(Date.now());
  const auth = new SigV4Authenticator(keys, 'us-east-1', clock);
  const segment = fc.string({ minLength: 1, maxLength: 12 }).map((s) => encodeURIComponent(s));
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
      fc.array(segment, { minLength: 1, maxLength: 4 }),
      fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 6 }), fc.string({ maxLength: 6 })), { maxLength: 3 }),
      fc.uint8Array({ maxLength: 200 }),
      async (method, segments, params, bodyBytes) => {
        const path = `/${segments.join('/')}`;
        const query = params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
        const body = Buffer.from(bodyBytes);
        const req = await signedRequest(method, path, query, body);
        const principal = auth.authenticate({ req, rawPath: path, rawQuery: query, body }, ['lambda']);
        assert.equal(principal.accessKeyId, KEY.accessKeyId);
        const tampered = Buffer.concat([body, Buffer.from('x')]);
        assert.throws(() => auth.authenticate({ req, rawPath: path, rawQuery: query, body: tampered }, ['lambda']), /signature|x-amz-content-sha256/);
        assert.throws(() => auth.authenticate({ req, rawPath: `${path}x`, rawQuery: query, body }, ['lambda']), /signature we calculated does not match/);
      },
    ),
    { numRuns: 60, seed: 42 },
  );
});

test('expired, future, unknown-key, wrong-region, wrong-service and unsigned requests are 403 in AWS terms', async () => {
  const clock = new ManualClock(Date.now());
  const auth = new SigV4Authenticator(keys, 'us-east-1', clock);
  const body = Buffer.from('{}');
  const req = await signedRequest('POST', '/2015-03-31/functions/f/invocations', '', body);
  const check = (fn: () => unknown, code: string, message: RegExp) =>
    assert.throws(fn, (err: unknown) => err instanceof ModelfnError && err.code === code && message.test(err.message));
  const call = (r: IncomingMessage = req, services = ['lambda']) => () => auth.authenticate({ req: r, rawPath: '/2015-03-31/functions/f/invocations', rawQuery: '', body }, services);
  call()();
  clock.advance(16 * 60 * 1000);
  check(call(), 'INVALID_SIGNATURE', /^Signature expired: \d{8}T\d{6}Z is now earlier than/);
  clock.advance(-32 * 60 * 1000);
  check(call(), 'INVALID_SIGNATURE', /Signature not yet current/);
  clock.advance(16 * 60 * 1000);
  check(call(req, ['modelfn']), 'INVALID_SIGNATURE', /scoped to correct service/);
  check(call(fakeRequest('POST', { Host: 'x' })), 'MISSING_AUTHENTICATION', /Missing Authentication Token/);
  const other = new SigV4Authenticator({ ...keys, get: () => undefined }, 'us-east-1', clock);
  check(() => other.authenticate({ req, rawPath: '/2015-03-31/functions/f/invocations', rawQuery: '', body }, ['lambda']), 'UNRECOGNIZED_CLIENT', /security token included in the request is invalid/);
  const wrongRegion = new SigV4Authenticator(keys, 'eu-west-1', clock);
  check(() => wrongRegion.authenticate({ req, rawPath: '/2015-03-31/functions/f/invocations', rawQuery: '', body }, ['lambda']), 'INVALID_SIGNATURE', /valid region/);
});
