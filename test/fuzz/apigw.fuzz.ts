import assert from 'node:assert/strict';
import { validateHeaderName, validateHeaderValue } from 'node:http';
import fc from 'fast-check';
import { routeSpecSchema } from '../../src/registry/function-spec.js';
import type { RouteSpec } from '../../src/registry/types.js';
import { routeKey, routeShape } from '../../src/registry/types.js';
import { PayloadV1 } from '../../src/surfaces/routes/apigw-v1.js';
import { PayloadV2 } from '../../src/surfaces/routes/apigw-v2.js';
import type { HttpRequestInfo } from '../../src/surfaces/routes/http-request.js';
import type { MappedResponse, PayloadFormatCodec } from '../../src/surfaces/routes/payload-format.js';
import { mapOutcome } from '../../src/surfaces/routes/payload-format.js';
import { RouteTable } from '../../src/surfaces/routes/route-table.js';
import type { RouteBinding } from '../../src/surfaces/routes/route-table.js';
import type { FuzzOptions } from './harness.js';
import { headerValueString, latin1String, runs, tokenString } from './harness.js';

/**
 * API Gateway payload formats 1.0 and 2.0 and the route table: any request Node can deliver
 * becomes a valid JSON event that carries the request faithfully; any result a function returns
 * maps to a response Node can write (status 100-599, legal header names and values) or to the
 * 502 a function's own error gets; any route the deploy schema accepts compiles, and matching
 * never throws.
 */

const CODECS: readonly PayloadFormatCodec[] = [new PayloadV1(), new PayloadV2()];

/** Names that are also Object.prototype members: header, query and JSON keys must not trip on them. */
const PROTO_NAMES = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'prototype'];
const keyName = fc.oneof({ weight: 3, arbitrary: tokenString(10) }, { weight: 1, arbitrary: fc.constantFrom(...PROTO_NAMES, 'Content-Type', 'Cookie', 'Host', 'set-cookie') });

const contentType = fc.option(
  fc.oneof(
    fc.constantFrom('application/json', 'text/plain; charset=utf-8', 'application/octet-stream', 'image/png', 'application/vnd.api+json', 'multipart/form-data; boundary=x', 'APPLICATION/JSON', ' text/html ', ''),
    headerValueString(30),
  ),
  { nil: undefined },
);

const bodyBytes = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.string({ maxLength: 100 }).map((s) => new Uint8Array(Buffer.from(s))),
  fc.constantFrom(Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xc0, 0xaf]), Buffer.from('{"a":'), Buffer.from([0xff, 0xfe, 0x00])).map((b) => new Uint8Array(b)),
);

const requestInfo: fc.Arbitrary<HttpRequestInfo> = fc
  .record({
    method: fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH'), tokenString(8)),
    rawPath: fc.oneof(latin1String({ maxLength: 60 }).map((p) => `/${p}`), fc.constantFrom('/', '//', '/%zz', '/a/../b', '/%2e%2e/x', '/%00', '/ü')),
    rawQuery: fc.oneof(latin1String({ maxLength: 60 }), fc.array(fc.tuple(keyName, latin1String({ maxLength: 8 })), { maxLength: 5 }).map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&'))),
    headers: fc.array(fc.tuple(keyName, headerValueString(30)), { maxLength: 8 }),
    contentType,
    body: bodyBytes,
    host: headerValueString(20),
  })
  .map((r) => ({
    method: r.method,
    rawPath: r.rawPath,
    rawQuery: r.rawQuery,
    rawHeaders: [...r.headers.flat(), ...(r.contentType !== undefined ? ['Content-Type', r.contentType] : [])],
    body: Buffer.from(r.body),
    sourceIp: '127.0.0.1',
    protocol: 'HTTP/1.1',
    host: r.host,
    requestId: 'fuzz-request',
    timeEpoch: 1_700_000_000_000,
    accountId: '000000000000',
  }));

function bindingFor(format: '1.0' | '2.0'): RouteBinding {
  return { functionName: 'f', route: { method: 'ANY', path: '/{proxy+}', payloadFormat: format }, routeKey: 'ANY /{proxy+}', payloadFormat: format, greedyParam: 'proxy' };
}

/** What a function can return: any JSON, and response descriptions with hostile parts. */
const hostileValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom({ toString: 1 }, { valueOf: 'x', toString: null }, [{ toString: 1 }], '\r\nx-injected: 1', 'a\u0000b', 'ünï', '\u2028', 'x'.repeat(300)),
);
const responseDescription = fc.record(
  {
    statusCode: fc.oneof(fc.integer({ min: -10, max: 1000 }), fc.constantFrom('200', '404', '099', '1e2', ' 200', 200.5, null, true, [200], { toString: 1 })),
    headers: fc.oneof(fc.dictionary(keyName, hostileValue, { maxKeys: 5 }), fc.dictionary(latin1String({ maxLength: 10 }), hostileValue, { maxKeys: 3 }), hostileValue),
    multiValueHeaders: fc.oneof(fc.dictionary(keyName, fc.array(hostileValue, { maxLength: 3 }), { maxKeys: 4 }), hostileValue),
    cookies: fc.oneof(fc.array(hostileValue, { maxLength: 3 }), hostileValue),
    body: hostileValue,
    isBase64Encoded: fc.oneof(fc.boolean(), hostileValue),
  },
  { requiredKeys: [] },
);
const resultPayload = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v))),
  responseDescription.map((v) => Buffer.from(JSON.stringify(v))),
  fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)),
  fc.constantFrom(' {', '{"statusCode": 200, "body": "x"', '\ufeff{}', '{"statusCode":200,"headers":{"a":"b"},"body":"\\ud800"}').map((s) => Buffer.from(s)),
);

/** The response must be one Node's ServerResponse can write: a final status and legal headers. */
function assertWritable(mapped: MappedResponse): void {
  assert.ok(Number.isInteger(mapped.status) && mapped.status >= 100 && mapped.status <= 599, `status ${mapped.status}`);
  assert.ok(Buffer.isBuffer(mapped.body));
  for (const [name, value] of Object.entries(mapped.headers)) {
    validateHeaderName(name);
    for (const v of Array.isArray(value) ? value : [value]) validateHeaderValue(name, v);
  }
}

/** Route specs as a client sends them; those the schema accepts must compile into the table. */
const routePath = fc.oneof(
  fc.constantFrom('$default', '/a', '/a/{id}', '/a/{key}', '/b/{__proto__}', '/c/{constructor}', '/a/{proxy+}', '/a/{rest+}', '/{x}/{y}', '/{y}/{x}', '/a*b', '/*', '/a/*', '/a:b', '/:a', '/a/:b/c', '/a(b)', '/%zz', '/a%2Fb', '/a/{id}/b', '/files/{name}.json', '/a.b', '/~x'),
  fc
    .array(fc.oneof(fc.string({ unit: fc.constantFrom(...'abc09._~!$&\'()*,;=:@%+-'), minLength: 1, maxLength: 6 }), fc.constantFrom('{id}', '{p+}', '{a_b}')), { minLength: 1, maxLength: 4 })
    .map((segs) => `/${segs.join('/')}`),
);
const routeSpec = fc.record({
  method: fc.constantFrom('GET', 'POST', 'ANY', 'put', 'DELETE'),
  path: routePath,
  payloadFormat: fc.constantFrom('1.0', '2.0'),
});

export async function fuzzApigw(options: FuzzOptions): Promise<void> {
  // 1. Event builders: valid JSON that carries the request (body bytes, path, query string) exactly.
  fc.assert(
    fc.property(requestInfo, fc.constantFrom(0, 1), fc.option(fc.dictionary(tokenString(6), latin1String({ maxLength: 10 }), { maxKeys: 3 }), { nil: undefined }), (request, which, params) => {
      const codec = CODECS[which]!;
      const event = JSON.parse(codec.buildEvent(request, bindingFor(codec.version), params).toString('utf8')) as Record<string, any>;
      const body = event.body === null || event.body === undefined ? Buffer.alloc(0) : event.isBase64Encoded ? Buffer.from(event.body as string, 'base64') : Buffer.from(event.body as string, 'utf8');
      assert.ok(body.equals(request.body), 'the event body must decode to the request body byte for byte');
      if (codec.version === '2.0') {
        assert.equal(event.rawPath, request.rawPath);
        assert.equal(event.rawQueryString, request.rawQuery);
        for (const [name, value] of Object.entries(event.headers as Record<string, unknown>)) {
          assert.equal(typeof value, 'string', `header ${name}`);
          const sent = [];
          for (let i = 0; i < request.rawHeaders.length; i += 2) if (request.rawHeaders[i]!.toLowerCase() === name) sent.push(request.rawHeaders[i + 1]);
          assert.equal(value, sent.join(','), `header ${name} must join exactly what was sent`);
        }
        for (const [name, value] of Object.entries((event.queryStringParameters ?? {}) as Record<string, unknown>)) {
          const sent = new URLSearchParams(request.rawQuery).getAll(name);
          assert.equal(value, sent.join(','), `query parameter ${name}`);
        }
      } else {
        assert.equal(event.path, request.rawPath);
        for (const [name, values] of Object.entries(event.multiValueHeaders as Record<string, unknown>)) {
          assert.ok(Array.isArray(values), `multiValueHeaders.${name} must be a list`);
        }
        for (const [name, values] of Object.entries((event.multiValueQueryStringParameters ?? {}) as Record<string, unknown>)) {
          assert.deepEqual(values, new URLSearchParams(request.rawQuery).getAll(name), `query parameter ${name}`);
        }
      }
    }),
    {
      ...runs(options, 0.5),
      // Regressions: header and query names that are Object.prototype members.
      examples: [
        [{ ...BASE_REQUEST, rawHeaders: ['constructor', 'x', '__proto__', 'y', 'toString', 'z'] }, 0, undefined],
        [{ ...BASE_REQUEST, rawHeaders: ['constructor', 'x', '__proto__', 'y', 'toString', 'z'] }, 1, undefined],
        [{ ...BASE_REQUEST, rawQuery: 'constructor=1&__proto__=2&toString=3&hasOwnProperty=4' }, 0, undefined],
        [{ ...BASE_REQUEST, rawQuery: 'constructor=1&__proto__=2&toString=3&hasOwnProperty=4' }, 1, undefined],
      ],
    },
  );

  // 2. Result mappers: never a throw, always a writable response; a malformed description is a 502.
  fc.assert(
    fc.property(resultPayload, fc.constantFrom(0, 1), (payload, which) => {
      const codec = CODECS[which]!;
      const mapped = codec.mapResult(payload);
      assertWritable(mapped);
      const outcome = mapOutcome(codec, { requestId: 'r', executedVersion: '$LATEST', result: { ok: true, payload }, durationMs: 1, billedDurationMs: 1, maxMemoryUsedMb: 1 });
      assertWritable(outcome);
    }),
    {
      ...runs(options),
      examples: [
        [Buffer.from('{"statusCode":200,"headers":{"x":{"toString":1}}}'), 0],
        [Buffer.from('{"statusCode":200,"headers":{"x":{"toString":1}}}'), 1],
        [Buffer.from('{"statusCode":200,"multiValueHeaders":{"x":[{"toString":1}]},"body":""}'), 0],
        [Buffer.from('{"statusCode":200,"cookies":[{"toString":1}]}'), 1],
        [Buffer.from('{"statusCode":200,"headers":{"bad name":"v","x":"a\\r\\nb"}}'), 1],
        [Buffer.from('{"statusCode":200,"headers":{"x":"ü\\u0100"},"body":""}'), 0],
        [Buffer.from('{"statusCode":101,"body":"switch"}'), 1],
      ],
    },
  );

  // 3. Route table: every route the deploy schema accepts compiles; matching any path never throws.
  fc.assert(
    fc.property(fc.array(routeSpec, { minLength: 1, maxLength: 6 }), fc.array(fc.tuple(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'BREW', ''), fc.oneof(latin1String({ maxLength: 40 }).map((p) => `/${p}`), routePath)), { maxLength: 8 }), (specs, probes) => {
      const valid: Array<{ functionName: string; route: RouteSpec }> = [];
      for (const [i, spec] of specs.entries()) {
        const parsed = routeSpecSchema.safeParse(spec);
        if (parsed.success) valid.push({ functionName: `f${i}`, route: parsed.data });
      }
      // Whatever a store holds (older data included), the table compiles: it never throws.
      RouteTable.fromRoutes(valid);
      // As the registry admits them (one claim per route key, one route per shape), none is skipped.
      const routes: typeof valid = [];
      const keys = new Set<string>();
      const shapes = new Set<string>();
      for (const r of valid) {
        if (keys.has(routeKey(r.route)) || shapes.has(routeShape(r.route))) continue;
        keys.add(routeKey(r.route));
        shapes.add(routeShape(r.route));
        routes.push(r);
      }
      const table = RouteTable.fromRoutes(routes);
      assert.deepEqual(table.skipped.map((b) => b.routeKey), []);
      for (const [method, path] of probes) {
        const match = table.match(method, path);
        assert.ok(['found', 'not-found', 'method-not-allowed'].includes(match.kind));
        if (match.kind !== 'found') continue;
        if (match.pathParameters) for (const v of Object.values(match.pathParameters)) assert.notEqual(v, '');
        for (const [, name] of match.binding.route.path.matchAll(/\{([A-Za-z0-9_]+)\+?\}/g)) {
          assert.ok(match.pathParameters && Object.hasOwn(match.pathParameters, name!), `parameter ${name} of ${match.binding.route.path} is missing`);
        }
        // A route without parameters matches only its own path (a literal character is no wildcard).
        const own = match.binding.route.path;
        if (own !== '$default' && !own.includes('{')) assert.equal(safeDecode(path), safeDecode(own), `route ${own} matched ${path}`);
      }
      // A static route matches its own path, as written.
      for (const { route } of routes) {
        if (route.path === '$default' || route.path.includes('{') || route.path.includes('%')) continue;
        const m = table.match(route.method === 'ANY' ? 'GET' : route.method, route.path);
        assert.equal(m.kind, 'found', `route ${route.method} ${route.path} must match its own path`);
      }
    }),
    {
      ...runs(options, 0.5),
      // Regression: '*' is a URL path character the schema accepted, and the router's wildcard.
      examples: [
        [[{ method: 'GET', path: '/a*b', payloadFormat: '2.0' }], []],
        [[{ method: 'GET', path: '/a/*', payloadFormat: '2.0' }], [['GET', '/a/anything']]],
        // Regression: one shape under two route keys made the router throw on every registry change.
        [[{ method: 'PUT', path: '/{y}/{x}', payloadFormat: '1.0' }, { method: 'PUT', path: '/{x}/{y}', payloadFormat: '1.0' }], [['PUT', '/1/2']]],
      ],
    },
  );
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

const BASE_REQUEST: HttpRequestInfo = {
  method: 'POST',
  rawPath: '/x',
  rawQuery: '',
  rawHeaders: [],
  body: Buffer.alloc(0),
  sourceIp: '127.0.0.1',
  protocol: 'HTTP/1.1',
  host: 'h',
  requestId: 'r',
  timeEpoch: 1_700_000_000_000,
  accountId: '000000000000',
};
