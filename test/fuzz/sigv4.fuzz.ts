import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import fc from 'fast-check';
import { SigV4Authenticator } from '../../src/auth/authenticator.js';
import type { AccessKey, KeyStore } from '../../src/auth/access-keys.js';
import { SigV4Error, canonicalHeaders, canonicalQuery, canonicalRequest, canonicalUri, parseAmzDate, parseAuthorization } from '../../src/auth/sigv4.js';
import { RequestSigner } from '../../src/cli/signer.js';
import { ManualClock } from '../../src/shared/clock.js';
import { ModelfnError } from '../../src/shared/errors.js';
import type { FuzzOptions } from './harness.js';
import { headerValueString, latin1String, onlyThrows, runs, tokenString } from './harness.js';

/**
 * SigV4, server side: the Authorization parser and the canonicalisation never throw anything but
 * their own errors on any header or target Node can hand them; the authenticator answers every
 * forged, mutated or garbage request with one of its four 403 codes; and whatever the AWS SDK's
 * signer (the CLI's) signs, the platform verifies.
 */

const KEY: AccessKey = { accessKeyId: 'AKIDFUZZ', secretAccessKey: 'fuzz/secret+KEY', tenant: 'default', admin: true, createdAt: '', revoked: false, description: '' };
const keys: KeyStore = { get: (id) => (id === KEY.accessKeyId ? KEY : undefined), list: () => [KEY], create: async () => KEY, revoke: async () => false };
const AUTH_CODES = new Set(['MISSING_AUTHENTICATION', 'INCOMPLETE_SIGNATURE', 'UNRECOGNIZED_CLIENT', 'INVALID_SIGNATURE']);

const isAuthError = (err: unknown) => err instanceof ModelfnError && AUTH_CODES.has(err.code) && err.status === 403;

/** An IncomingMessage as far as the authenticator reads one; repeated headers as Node folds them. */
function fakeRequest(method: string, rawHeaders: readonly string[]): IncomingMessage {
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    const known = headers[name];
    if (name === 'set-cookie') headers[name] = [...((known as string[] | undefined) ?? []), value];
    else if (known === undefined) headers[name] = value;
    else if (['authorization', 'host', 'date', 'content-type', 'user-agent'].includes(name)) continue; // Node keeps the first
    else headers[name] = `${known as string}, ${value}`;
  }
  return { method, headers, rawHeaders } as unknown as IncomingMessage;
}

async function sign(method: string, url: URL, headers: Record<string, string>, body: Buffer, service = 'lambda'): Promise<string[]> {
  const signed = await new RequestSigner(KEY, 'us-east-1', service).sign(method, url, headers, body);
  return Object.entries({ host: url.host, ...headers, ...signed }).flatMap(([k, v]) => [k, v]);
}

const pathSegment = fc.oneof(
  fc.string({ minLength: 1, maxLength: 10 }).map((s) => encodeURIComponent(s)),
  fc.constantFrom('functions', 'f', '2015-03-31', 'invocations', 'a%2Fb', 'name:1', '~x', 'x*', "it's", '(a)'),
);
const queryPart = fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 8 }));
const extraHeader = fc.tuple(
  tokenString(12).filter((n) => !['host', 'authorization', 'x-amz-date', 'x-amz-content-sha256', 'content-length', 'transfer-encoding', 'connection', 'expect', 'date'].includes(n.toLowerCase())),
  headerValueString(30).map((v) => v.trim()),
);

export async function fuzzSigv4(options: FuzzOptions): Promise<void> {
  // 1. The parser and canonicalisation on anything Node can deliver (latin1 text).
  fc.assert(
    fc.property(
      fc.oneof(
        latin1String({ maxLength: 200 }),
        fc.tuple(latin1String({ maxLength: 40 }), latin1String({ maxLength: 40 }), latin1String({ maxLength: 80 })).map(
          ([c, s, sig]) => `AWS4-HMAC-SHA256 Credential=${c}, SignedHeaders=${s}, Signature=${sig}`,
        ),
      ),
      latin1String({ maxLength: 120 }),
      latin1String({ maxLength: 120 }),
      fc.array(fc.tuple(latin1String({ maxLength: 12 }), latin1String({ maxLength: 40 })), { maxLength: 6 }),
      (header, rawPath, rawQuery, headerPairs) => {
        const parsed = onlyThrows(() => parseAuthorization(header), (e) => e instanceof SigV4Error, 'parseAuthorization');
        if (parsed) {
          assert.equal(parsed.signature.length, 64);
          assert.ok(/^\d{8}$/.test(parsed.date));
        }
        const rawHeaders = headerPairs.flat();
        const signed = parsed?.signedHeaders ?? headerPairs.map(([n]) => n.toLowerCase());
        const canonical = canonicalRequest({ method: 'POST', rawPath, rawQuery, rawHeaders, payloadHash: 'UNSIGNED-PAYLOAD' }, signed);
        assert.equal(typeof canonical, 'string');
        assert.ok(canonicalUri(rawPath).startsWith('/'));
        assert.equal(typeof canonicalQuery(rawQuery), 'string');
        assert.equal(typeof canonicalHeaders(rawHeaders, signed), 'string');
        const d = parseAmzDate(rawPath);
        assert.ok(d === undefined || Number.isFinite(d));
      },
    ),
    runs(options),
  );

  // 2. Forged and mutated requests: one of the four 403s, never another error, never accepted.
  const clock = new ManualClock(Date.now());
  const auth = new SigV4Authenticator(keys, 'us-east-1', clock);
  const base = await sign('POST', new URL('http://127.0.0.1:8080/2015-03-31/functions/f/invocations'), { 'content-type': 'application/json' }, Buffer.from('{}'));
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('replace' as const), header: fc.constantFrom('authorization', 'x-amz-date', 'x-amz-content-sha256', 'host', 'date'), value: headerValueString(120) }),
    fc.record({ kind: fc.constant('drop' as const), header: fc.constantFrom('authorization', 'x-amz-date', 'x-amz-content-sha256', 'host') }),
    fc.record({ kind: fc.constant('duplicate' as const), header: fc.constantFrom('authorization', 'x-amz-date', 'x-amz-content-sha256', 'host'), value: headerValueString(60) }),
    fc.record({
      kind: fc.constant('field' as const),
      field: fc.constantFrom('Credential', 'SignedHeaders', 'Signature'),
      value: fc.oneof(latin1String({ maxLength: 80 }), fc.constantFrom('AKIDFUZZ/20260115/us-east-1/lambda/aws4_request', 'AKIDFUZZ/20260115/us-east-1/lambda', 'x/20260115/us-east-1/lambda/aws4_request', 'host;;x-amz-date', '', ';', '0'.repeat(64), 'g'.repeat(64), 'constructor;__proto__;host')),
    }),
    fc.record({ kind: fc.constant('date' as const), value: fc.constantFrom('20260115T120000Z', '99999999T999999Z', '00000000T000000Z', '20261315T250000Z', 'Thu, 01 Jan 1970 00:00:00 GMT', 'Fri, 31 Dec 9999 23:59:59 GMT', '+275760-09-13T00:00:00Z', 'garbage', '') }),
  );
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.uint8Array({ maxLength: 64 }), fc.constantFrom('POST', 'GET', 'PUT', 'DELETE', 'post', 'X'), (mutations, body, method) => {
      let raw = [...base];
      for (const m of mutations) {
        const idx = raw.findIndex((v, i) => i % 2 === 0 && v.toLowerCase() === ('header' in m ? m.header : m.kind === 'field' ? 'authorization' : 'x-amz-date'));
        if (m.kind === 'replace' && idx >= 0) raw[idx + 1] = m.value;
        else if (m.kind === 'drop' && idx >= 0) raw = [...raw.slice(0, idx), ...raw.slice(idx + 2)];
        else if (m.kind === 'duplicate') raw = [...raw, m.header, m.value];
        else if (m.kind === 'date' && idx >= 0) raw[idx + 1] = m.value;
        else if (m.kind === 'field' && idx >= 0) raw[idx + 1] = raw[idx + 1]!.replace(new RegExp(`${m.field}=[^,]*`), `${m.field}=${m.value.replace(/,/g, '')}`);
      }
      clock.set(Date.now());
      const req = fakeRequest(method, raw);
      const body2 = Buffer.from(body);
      const tampered = body2.length > 0 && !body2.equals(Buffer.from('{}'));
      const principal = onlyThrows(
        () => auth.authenticate({ req, rawPath: '/2015-03-31/functions/f/invocations', rawQuery: '', body: body2 }, ['lambda']),
        isAuthError,
        'authenticate',
      );
      // A request whose signed parts changed must never pass (mutations that keep them intact may).
      if (principal && tampered) assert.fail('a request with a different body was accepted');
    }),
    runs(options),
  );

  // 3. Round trip with the AWS SDK signer the CLI uses: whatever it signs, the platform verifies;
  //    any change to method, path, query or a signed header makes it fail with a 403 code.
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
      fc.array(pathSegment, { minLength: 1, maxLength: 5 }),
      fc.boolean(),
      fc.array(queryPart, { maxLength: 4 }),
      fc.uniqueArray(extraHeader, { maxLength: 4, selector: ([n]) => n.toLowerCase() }),
      fc.uint8Array({ maxLength: 256 }),
      fc.constantFrom('lambda', 'modelfn'),
      async (method, segments, trailingSlash, params, headers, bodyBytes, service) => {
        const url = new URL(`http://127.0.0.1:8080/${segments.join('/')}${trailingSlash ? '/' : ''}`);
        for (const [k, v] of params) url.searchParams.append(k, v);
        const body = Buffer.from(bodyBytes);
        const raw = await sign(method, url, { 'content-type': 'application/json', ...Object.fromEntries(headers) }, body, service);
        const rawPath = url.pathname;
        const rawQuery = url.search.slice(1);
        const check = (m: string, path: string, query: string, hdrs: readonly string[]) => auth.authenticate({ req: fakeRequest(m, hdrs), rawPath: path, rawQuery: query, body }, [service]);
        clock.set(Date.now());
        const principal = check(method, rawPath, rawQuery, raw);
        assert.equal(principal.accessKeyId, KEY.accessKeyId);
        const refused = (fn: () => unknown, what: string) => assert.throws(fn, isAuthError, what);
        refused(() => check(method === 'GET' ? 'POST' : 'GET', rawPath, rawQuery, raw), 'another method');
        refused(() => check(method, `${rawPath}x`, rawQuery, raw), 'another path');
        refused(() => check(method, rawPath, `${rawQuery}${rawQuery ? '&' : ''}zz=1`, raw), 'another query');
        const ct = raw.findIndex((v, i) => i % 2 === 0 && v === 'content-type');
        refused(() => check(method, rawPath, rawQuery, raw.map((v, i) => (i === ct + 1 ? 'text/plain' : v))), 'another signed header');
      },
    ),
    {
      ...runs(options, 0.25),
      // Regressions found by this property (kept as fixed examples):
      // - a space in a query parameter: the CLI sent '+' but signed '%20' (fixed in src/cli/signer.ts);
      // - a parameter named like an Object.prototype member (toString) broke the CLI's query map;
      // - a header value with a 0xA0 byte next to a space: the platform trimmed it as whitespace.
      examples: [
        ['GET', ['functions'], false, [[' ', 'a b']], [], new Uint8Array(0), 'lambda'],
        ['GET', ['functions'], false, [['toString', ''], ['constructor', 'x']], [], new Uint8Array(0), 'lambda'],
        ['GET', ['functions'], false, [], [['x-fuzz', '!\u00a0 !\u00a0']], new Uint8Array(0), 'lambda'],
      ],
    },
  );
}
