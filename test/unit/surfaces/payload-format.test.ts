import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PayloadV1 } from '../../../src/surfaces/routes/apigw-v1.js';
import { PayloadV2 } from '../../../src/surfaces/routes/apigw-v2.js';
import type { HttpRequestInfo } from '../../../src/surfaces/routes/http-request.js';
import { mapOutcome } from '../../../src/surfaces/routes/payload-format.js';
import type { RouteBinding } from '../../../src/surfaces/routes/route-table.js';

const request = (overrides: Partial<HttpRequestInfo> = {}): HttpRequestInfo => ({
  method: 'POST',
  rawPath: '/items/42',
  rawQuery: 'a=1&a=2&b=x%20y',
  rawHeaders: ['Host', 'api.example.com', 'Content-Type', 'application/json', 'X-Multi', 'one', 'X-Multi', 'two', 'Cookie', 'c1=v1; c2=v2', 'User-Agent', 'test-agent'],
  body: Buffer.from('{"name":"x"}'),
  sourceIp: '127.0.0.1',
  protocol: 'HTTP/1.1',
  host: 'api.example.com',
  requestId: 'req-1',
  timeEpoch: Date.UTC(2020, 2, 12, 19, 3, 58),
  accountId: '123456789012',
  ...overrides,
});

const binding = (format: '1.0' | '2.0'): RouteBinding => ({
  functionName: 'fn',
  route: { method: 'POST', path: '/items/{id}', payloadFormat: format },
  routeKey: 'POST /items/{id}',
  payloadFormat: format,
});

test('payload 2.0: raw path and query, joined headers, cookies, parameters, request context', () => {
  const event = JSON.parse(new PayloadV2().buildEvent(request(), binding('2.0'), { id: '42' }).toString());
  assert.equal(event.version, '2.0');
  assert.equal(event.routeKey, 'POST /items/{id}');
  assert.equal(event.rawPath, '/items/42');
  assert.equal(event.rawQueryString, 'a=1&a=2&b=x%20y');
  assert.deepEqual(event.queryStringParameters, { a: '1,2', b: 'x y' });
  assert.equal(event.headers['x-multi'], 'one,two');
  assert.equal(event.headers.cookie, undefined);
  assert.deepEqual(event.cookies, ['c1=v1', 'c2=v2']);
  assert.deepEqual(event.pathParameters, { id: '42' });
  assert.equal(event.body, '{"name":"x"}');
  assert.equal(event.isBase64Encoded, false);
  assert.equal(event.requestContext.http.method, 'POST');
  assert.equal(event.requestContext.http.sourceIp, '127.0.0.1');
  assert.equal(event.requestContext.http.userAgent, 'test-agent');
  assert.equal(event.requestContext.requestId, 'req-1');
  assert.equal(event.requestContext.time, '12/Mar/2020:19:03:58 +0000');
  assert.equal(event.requestContext.timeEpoch, Date.UTC(2020, 2, 12, 19, 3, 58));
  assert.equal(event.requestContext.accountId, '123456789012');
  assert.equal(event.requestContext.stage, '$default');
});

test('payload 2.0: binary bodies travel base64; no body, no query, no params means no fields', () => {
  const bin = JSON.parse(new PayloadV2().buildEvent(request({ rawHeaders: ['Content-Type', 'application/octet-stream'], body: Buffer.from([0, 255, 1]) }), binding('2.0'), undefined).toString());
  assert.equal(bin.isBase64Encoded, true);
  assert.equal(Buffer.from(bin.body, 'base64').toString('hex'), '00ff01');
  const empty = JSON.parse(new PayloadV2().buildEvent(request({ rawQuery: '', rawHeaders: [], body: Buffer.alloc(0) }), binding('2.0'), undefined).toString());
  assert.equal('body' in empty, false);
  assert.equal('queryStringParameters' in empty, false);
  assert.equal('pathParameters' in empty, false);
  assert.equal('cookies' in empty, false);
  // Invalid UTF-8 without a content type is binary.
  const bad = JSON.parse(new PayloadV2().buildEvent(request({ rawHeaders: [], body: Buffer.from([0xc3, 0x28]) }), binding('2.0'), undefined).toString());
  assert.equal(bad.isBase64Encoded, true);
});

test('payload 2.0 results: no statusCode means JSON 200 as is; a statusCode describes the response', () => {
  const codec = new PayloadV2();
  const plain = codec.mapResult(Buffer.from('{"hello":"world"}'));
  assert.equal(plain.status, 200);
  assert.equal(plain.headers['content-type'], 'application/json');
  assert.equal(plain.body.toString(), '{"hello":"world"}');
  assert.equal(codec.mapResult(Buffer.from('"text"')).body.toString(), '"text"');
  assert.equal(codec.mapResult(Buffer.from('[1,2]')).body.toString(), '[1,2]');
  const described = codec.mapResult(Buffer.from(JSON.stringify({ statusCode: 201, headers: { 'X-A': 'b', 'Content-Length': '999' }, cookies: ['a=1', 'b=2'], body: 'made' })));
  assert.equal(described.status, 201);
  assert.equal(described.headers['x-a'], 'b');
  assert.equal(described.headers['content-length'], undefined, 'framing headers are the gateway\'s');
  assert.deepEqual(described.headers['set-cookie'], ['a=1', 'b=2']);
  assert.equal(described.body.toString(), 'made');
  const binary = codec.mapResult(Buffer.from(JSON.stringify({ statusCode: 200, isBase64Encoded: true, body: Buffer.from([1, 2, 3]).toString('base64') })));
  assert.deepEqual([...binary.body], [1, 2, 3]);
  assert.equal(codec.mapResult(Buffer.from(JSON.stringify({ statusCode: 'abc' }))).status, 502);
  assert.equal(codec.mapResult(Buffer.from(JSON.stringify({ statusCode: 200, isBase64Encoded: true, body: '***' }))).status, 502);
});

test('payload 1.0: multi-value headers and query, resource and path parameters', () => {
  const event = JSON.parse(new PayloadV1().buildEvent(request(), binding('1.0'), { id: '42' }).toString());
  assert.equal(event.version, '1.0');
  assert.equal(event.resource, '/items/{id}');
  assert.equal(event.path, '/items/42');
  assert.equal(event.httpMethod, 'POST');
  assert.deepEqual(event.multiValueHeaders['X-Multi'], ['one', 'two']);
  assert.equal(event.headers['X-Multi'], 'two');
  assert.deepEqual(event.multiValueQueryStringParameters, { a: ['1', '2'], b: ['x y'] });
  assert.deepEqual(event.queryStringParameters, { a: '2', b: 'x y' });
  assert.deepEqual(event.pathParameters, { id: '42' });
  assert.equal(event.requestContext.identity.sourceIp, '127.0.0.1');
  assert.equal(event.body, '{"name":"x"}');
  const empty = JSON.parse(new PayloadV1().buildEvent(request({ rawQuery: '', body: Buffer.alloc(0) }), binding('1.0'), undefined).toString());
  assert.equal(empty.queryStringParameters, null);
  assert.equal(empty.pathParameters, null);
  assert.equal(empty.body, null);
});

test('payload 1.0 results must describe the response; multi-value headers are kept', () => {
  const codec = new PayloadV1();
  const ok = codec.mapResult(Buffer.from(JSON.stringify({ statusCode: 202, headers: { 'X-One': '1' }, multiValueHeaders: { 'X-Many': ['a', 'b'] }, body: 'x' })));
  assert.equal(ok.status, 202);
  assert.deepEqual(ok.headers['x-many'], ['a', 'b']);
  assert.equal(ok.headers['x-one'], '1');
  assert.equal(codec.mapResult(Buffer.from('{"hello":"world"}')).status, 502);
  assert.equal(codec.mapResult(Buffer.from('"x"')).status, 502);
});

test('a function error on a route is a 502 with a stable code and no stack', () => {
  const mapped = mapOutcome(new PayloadV2(), {
    requestId: 'r',
    executedVersion: '$LATEST',
    result: { ok: false, error: { errorType: 'TypeError', errorMessage: 'secret detail', stackTrace: ['at x'] } },
    durationMs: 1,
    billedDurationMs: 1,
    maxMemoryUsedMb: 1,
  });
  assert.equal(mapped.status, 502);
  const body = JSON.parse(mapped.body.toString());
  assert.deepEqual(body, { message: 'Internal Server Error', code: 'FUNCTION_ERROR', errorType: 'TypeError' });
});

/**
 * The event as an object, the way API Gateway documents it: the codec writes its JSON by hand
 * (no object in V8's dictionary mode per request), and must give exactly JSON.stringify of this.
 */
function referenceV2(r: HttpRequestInfo, b: RouteBinding, pathParameters: Record<string, string> | undefined): string {
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  let cookies: string[] | undefined;
  let userAgent: string | undefined;
  for (let i = 0; i < r.rawHeaders.length; i += 2) {
    const name = r.rawHeaders[i]!.toLowerCase();
    const value = r.rawHeaders[i + 1]!;
    if (name === 'cookie') {
      cookies ??= [];
      for (const c of value.split(';')) if (c.trim() !== '') cookies.push(c.trim());
      continue;
    }
    if (name === 'user-agent' && userAgent === undefined) userAgent = value;
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  let query: Record<string, string> | undefined;
  for (const [k, v] of new URLSearchParams(r.rawQuery)) {
    query ??= Object.create(null) as Record<string, string>;
    query[k] = k in query ? `${query[k]},${v}` : v;
  }
  const ct = headers['content-type'];
  const textual = r.body.length === 0 || ((ct === undefined || /^(text\/|application\/(json|[a-z0-9.+-]*\+json|xml|[a-z0-9.+-]*\+xml|javascript|x-www-form-urlencoded|graphql|x-ndjson|ld\+json)\b)/i.test(ct.trim())) && Buffer.from(r.body.toString('utf8')).equals(r.body));
  const dot = r.host.indexOf('.');
  const d = new Date(r.timeEpoch);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p2 = (n: number) => String(n).padStart(2, '0');
  return JSON.stringify({
    version: '2.0',
    routeKey: b.routeKey,
    rawPath: r.rawPath,
    rawQueryString: r.rawQuery,
    cookies,
    headers,
    queryStringParameters: query,
    requestContext: {
      accountId: r.accountId,
      apiId: 'modelfn',
      domainName: r.host,
      domainPrefix: dot < 0 ? r.host : r.host.slice(0, dot),
      http: { method: r.method, path: r.rawPath, protocol: r.protocol, sourceIp: r.sourceIp, userAgent: userAgent ?? '' },
      requestId: r.requestId,
      routeKey: b.routeKey,
      stage: '$default',
      time: `${p2(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`,
      timeEpoch: r.timeEpoch,
    },
    pathParameters,
    body: r.body.length > 0 ? (textual ? r.body.toString('utf8') : r.body.toString('base64')) : undefined,
    isBase64Encoded: !textual,
  });
}

test('payload 2.0: the event JSON is byte for byte JSON.stringify of the documented event, for hostile and odd requests too', () => {
  const cases: Array<[Partial<HttpRequestInfo>, Record<string, string> | undefined]> = [
    [{}, { id: '42' }],
    [{ rawQuery: '', rawHeaders: [], body: Buffer.alloc(0), host: '' }, undefined],
    [{ rawHeaders: ['__proto__', 'x', 'constructor', 'y', 'toString', 'z', '__PROTO__', 'w'] }, { __proto__: 'p' } as unknown as Record<string, string>],
    [{ rawHeaders: ['X-Quote', 'a "quoted" \\ value\t', 'X-Uni', 'caf\u00e9 \u2028 \ud83d\ude00', 'Cookie', ';; ; a=1 ;', 'Cookie', 'b=2', 'User-Agent', 'first', 'user-agent', 'second'] }, undefined],
    [{ rawQuery: '__proto__=1&x=%22q%22&x=%E2%82%AC&empty=&=novalue&plus=a+b&bad=%ZZ', rawPath: '/p\u00e4th/"x"' }, { a: 'b"c', 'we ird': '\u0000' }],
    [{ body: Buffer.from([0xff, 0x00, 0x80, 0x22]), rawHeaders: ['Content-Type', 'application/octet-stream'] }, undefined],
    [{ body: Buffer.from([0xff, 0xfe]), rawHeaders: [] }, undefined],
    [{ body: Buffer.from('<x a="1"/>'), rawHeaders: ['Content-Type', 'application/xml; charset=utf-8'] }, undefined],
    [{ method: 'GET', host: 'a.b.c', sourceIp: '::1', protocol: 'HTTP/1.0', requestId: 'id"\\', accountId: '000000000000', timeEpoch: 0 }, {}],
  ];
  for (const format of ['2.0'] as const) {
    for (const [overrides, params] of cases) {
      const r = request(overrides);
      const got = new PayloadV2().buildEvent(r, binding(format), params).toString();
      assert.equal(got, referenceV2(r, binding(format), params), JSON.stringify(overrides));
      JSON.parse(got); // and it is JSON
    }
  }
});

test('payload 2.0 results vouched valid JSON map exactly as parsed ones, escaped and nested statusCode included', () => {
  const codec = new PayloadV2();
  const payloads = [
    '{"message":"hello"}',
    '{"statusCode":201,"body":"made"}',
    '{"status\\u0043ode":202,"body":"escaped key"}',
    '{"nested":{"statusCode":500},"x":1}',
    '{"note":"the text \\"statusCode\\" in a value"}',
    '{"a":"statusCode"}',
    '{}',
    '[{"statusCode":200}]',
    '"statusCode"',
    '42',
    'null',
  ];
  for (const text of payloads) {
    const slow = codec.mapResult(Buffer.from(text));
    const fast = codec.mapResult(Buffer.from(text), true);
    assert.deepEqual({ ...fast, body: fast.body.toString() }, { ...slow, body: slow.body.toString() }, text);
  }
  // The escaped spelling is a statusCode all the same.
  assert.equal(codec.mapResult(Buffer.from('{"status\\u0043ode":202,"body":"escaped key"}'), true).status, 202);
});
