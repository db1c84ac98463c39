import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import fc from 'fast-check';
import { zipSync } from 'fflate';
import type { FuzzOptions } from './harness.js';
import { deepJson, runs, sometimes } from './harness.js';
import type { FuzzPlatform, FuzzRequest } from './http-support.js';
import { PROTECTED, VICTIM, assertHealthy, checkResponse, send, startFuzzPlatform, surfaceOf, vitals } from './http-support.js';

/**
 * Every surface over HTTP against a real platform (--auth none): random and mutated requests
 * (methods, paths with odd and huge segments and percent-encoding, repeated and odd headers,
 * query strings, bodies that are valid, mutated, truncated, deep, invalid UTF-8 or of the wrong
 * type, chunked, cut off mid-body), one to three at a time. Every answer is below 500 (but a
 * function's own error) and in its surface's error format; afterwards the platform is healthy,
 * serves normal calls on every surface, and its memory and descriptors did not run away.
 */

const NAMES = ['echo', 'mirror', 'iris', 'thrower', VICTIM, 'nope', 'fz-a', 'fz-b', '', 'a'.repeat(70), '__proto__', 'constructor', 'echo:1', 'echo:$LATEST', 'echo%3Alive', 'iris:1', 'echo:constructor', 'echo:toString', 'echo:__proto__', 'iris:hasOwnProperty',
  'arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Aecho', 'arn:aws:lambda:us-east-1:000000000000:function:mirror:$LATEST', '%00', '%zz', '%', '..', '%2e%2e', '\u00fc', '%F0%9F%98%80', ';x', 'x'.repeat(3000), 'a%2Fb'];
const OTHER = ['1', '$LATEST', 'live', 'r1', 'q1', 'nope', '0', '-1', 'a'.repeat(300), '%zz', 'ab12cd34-0000-0000-0000-000000000000', 'e'.repeat(64), '__proto__', 'constructor', 'toString'];

/** Endpoints per surface as "METHOD path"; {n} a function name, {x} any other parameter, {u} the function URL id. */
const TEMPLATES = [
  // user routes
  'POST /echo', 'GET /r2/{x}', 'PUT /r2/{x}/{x}', 'DELETE /r1/{x}', 'GET /items/{x}', 'GET /items/', 'GET /throw', 'POST /iris', 'PUT /victim', 'GET /nowhere', 'GET /', 'POST /{x}', 'GET //', 'GET /2018-06-01/runtime/invocation/next',
  // Lambda API
  'GET /2015-03-31/functions', 'POST /2015-03-31/functions', 'GET /2015-03-31/functions/{n}', 'DELETE /2015-03-31/functions/{n}', 'GET /2015-03-31/functions/{n}/configuration', 'PUT /2015-03-31/functions/{n}/configuration',
  'POST /2015-03-31/functions/{n}/invocations', 'POST /2015-03-31/functions/{n}/invocations', 'POST /2015-03-31/functions/{n}/invocations', 'PUT /2015-03-31/functions/{n}/code',
  'POST /2015-03-31/functions/{n}/versions', 'GET /2015-03-31/functions/{n}/versions', 'POST /2015-03-31/functions/{n}/aliases', 'GET /2015-03-31/functions/{n}/aliases', 'GET /2015-03-31/functions/{n}/aliases/{x}', 'PUT /2015-03-31/functions/{n}/aliases/{x}', 'DELETE /2015-03-31/functions/{n}/aliases/{x}',
  'POST /2015-03-31/functions/{n}/policy', 'GET /2015-03-31/functions/{n}/policy', 'DELETE /2015-03-31/functions/{n}/policy/{x}', 'GET /2020-06-30/functions/{n}/code-signing-config', 'PUT /2020-06-30/functions/{n}/code-signing-config', 'GET /2021-07-20/functions/{n}/runtime-management-config', 'PUT /2021-07-20/functions/{n}/runtime-management-config', 'GET /2018-10-31/layers', 'GET /2018-10-31/layers/{x}/versions', 'POST /2018-10-31/layers/{x}/versions', 'GET /2018-10-31/layers/{x}/versions/{x}', 'DELETE /2018-10-31/layers/{x}/versions/{x}', 'GET /2017-03-31/tags/{n}', 'POST /2017-03-31/tags/{n}', 'DELETE /2017-03-31/tags/{n}',
  'PUT /2017-10-31/functions/{n}/concurrency', 'GET /2019-09-30/functions/{n}/concurrency', 'DELETE /2017-10-31/functions/{n}/concurrency',
  'PUT /2019-09-30/functions/{n}/provisioned-concurrency', 'GET /2019-09-30/functions/{n}/provisioned-concurrency', 'DELETE /2019-09-30/functions/{n}/provisioned-concurrency',
  'POST /2021-10-31/functions/{n}/url', 'GET /2021-10-31/functions/{n}/url', 'PUT /2021-10-31/functions/{n}/url', 'DELETE /2021-10-31/functions/{n}/url', 'GET /2021-10-31/functions/{n}/urls', 'GET /2016-08-19/account-settings',
  'POST /2015-03-31/event-source-mappings/', 'GET /2015-03-31/event-source-mappings/', 'GET /2015-03-31/event-source-mappings/{x}', 'PUT /2015-03-31/event-source-mappings/{x}', 'DELETE /2015-03-31/event-source-mappings/{x}',
  'PUT /2019-09-25/functions/{n}/event-invoke-config', 'POST /2019-09-25/functions/{n}/event-invoke-config', 'GET /2019-09-25/functions/{n}/event-invoke-config', 'DELETE /2019-09-25/functions/{n}/event-invoke-config', 'GET /2019-09-25/functions/{n}/event-invoke-config/list', 'GET /2022-10-31/x',
  // modelfn API
  'GET /_modelfn/v1/health', 'POST /_modelfn/v1/bundles', 'GET /_modelfn/v1/bundles/{x}', 'GET /_modelfn/v1/functions', 'GET /_modelfn/v1/functions/{n}', 'PUT /_modelfn/v1/functions/{n}', 'DELETE /_modelfn/v1/functions/{n}',
  'GET /_modelfn/v1/functions/{n}/logs', 'GET /_modelfn/v1/routes', 'GET /_modelfn/v1/functions/{n}/schedules', 'PUT /_modelfn/v1/functions/{n}/schedules/{x}', 'DELETE /_modelfn/v1/functions/{n}/schedules/{x}',
  'GET /_modelfn/v1/functions/{n}/async-config', 'PUT /_modelfn/v1/functions/{n}/async-config', 'GET /_modelfn/v1/functions/{n}/invocations', 'GET /_modelfn/v1/invocations/{x}',
  'GET /_modelfn/v1/functions/{n}/dead-letters', 'POST /_modelfn/v1/functions/{n}/dead-letters/redrive', 'GET /_modelfn/v1/queues', 'PUT /_modelfn/v1/queues/{x}', 'GET /_modelfn/v1/queues/{x}', 'DELETE /_modelfn/v1/queues/{x}',
  'POST /_modelfn/v1/queues/{x}/messages', 'POST /_modelfn/v1/queues/{x}/receive', 'GET /_modelfn/v1/queues/{x}/messages', 'DELETE /_modelfn/v1/queues/{x}/messages/{x}', 'POST /_modelfn/v1/queues/{x}/purge',
  'GET /_modelfn/v1/files/{x}', 'POST /_modelfn/v1/batch-jobs', 'GET /_modelfn/v1/batch-jobs/{x}', 'GET /_modelfn/v1/batch-jobs/{x}/output', 'POST /_modelfn/v1/keys', 'GET /_modelfn/v1/keys', 'DELETE /_modelfn/v1/keys/{x}',
  'GET /_modelfn/v1/metering', 'GET /_modelfn/v1/cost', 'GET /_modelfn', 'GET /_modelfn/v2',
  // Open Inference Protocol and KServe V1
  'GET /v2', 'GET /v2/health/live', 'GET /v2/health/ready', 'GET /v2/models/stats', 'GET /v2/models/{n}', 'GET /v2/models/{n}/ready', 'POST /v2/models/{n}/infer', 'POST /v2/models/{n}/infer', 'GET /v2/models/{n}/stats',
  'POST /v2/models/{n}/versions/{x}/infer', 'GET /v2/models/{n}/versions/{x}',
  'GET /v1/models/{n}', 'POST /v1/models/{n}:predict', 'POST /v1/models/{n}:predict', 'POST /v1/models/{n}:explain', 'GET /v1/models/{n}/metadata', 'POST /v1/models/{n}/versions/{x}:predict', 'GET /v1/models/', 'POST /v1/models/{n}:',
  // function URLs, metrics, dashboard
  'GET /lambda-url/{u}', 'POST /lambda-url/{u}/', 'PUT /lambda-url/{u}/{x}/{x}', 'OPTIONS /lambda-url/{u}/x', 'GET /lambda-url/{x}/', 'GET /lambda-url', 'GET /metrics', 'GET /metrics/x',
  'GET /ui', 'GET /ui/', 'GET /ui/index.html', 'GET /ui/assets/{x}', 'GET /ui/assets/../../package.json', 'GET /ui/api/session', 'POST /ui/api/login', 'POST /ui/api/logout', 'GET /ui/api/overview', 'GET /ui/api/cost', 'GET /ui/api/functions/{n}', 'GET /ui/api/{x}',
];
/** Names that exist, most of the time. */
const REAL_NAMES = ['echo', 'mirror', 'iris', 'thrower', VICTIM, 'iris:$LATEST', 'echo:$LATEST'];

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH'];
const QUERY_KEYS = ['Qualifier', 'MaxItems', 'Marker', 'FunctionVersion', 'since', 'until', 'limit', 'requestId', 'proba', 'function', 'step', 'status', '__proto__', 'constructor', 'X-Amz-Signature', 'a b', 'k'];
const QUERY_VALUES = ['1', '-1', '0', 'x', 'constructor', '__proto__', '99999999999999999999', '$LATEST', '1h', '15m', '7d', '2020-01-01', '9999-99-99', 'ALL', '', '%zz', 'a+b', '%00', '1e400', 'NaN', 'live', 'true', 'x'.repeat(2000)];
const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'application/x-amz-json-1.1', 'text/plain', 'application/zip', 'application/octet-stream', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'APPLICATION/JSON', ';', '', 'application/json; charset=latin1', 'image/png'];
const HEADER_NAMES = ['x-amz-invocation-type', 'x-amz-log-type', 'x-amz-client-context', 'traceparent', 'x-amzn-trace-id', 'authorization', 'x-amz-date', 'x-amz-content-sha256', 'cookie', 'origin', 'access-control-request-method', 'accept', 'accept-encoding', 'content-encoding', 'user-agent', 'x-forwarded-proto', 'if-none-match', 'range', 'constructor', '__proto__', 'x-fuzz'];
const HEADER_VALUES = ['RequestResponse', 'Event', 'DryRun', 'Tail', 'None', 'Sometimes', 'e30=', 'bm90IGpzb24=', '!!!', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', '00-00000000000000000000000000000000-0000000000000000-00', 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1', 'Root=;;;',
  'AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=' + '0'.repeat(64), 'Basic Zm9vOmJhcg==', 'modelfn_session=abc.def', 'http://evil.example', 'POST', 'gzip', 'bytes=0-10', '', ' ', 'x'.repeat(4000), '\u00ff\u00fe'];

/** Request bodies: valid for some endpoint, mutated, truncated, deep, not UTF-8, a zip, big. */
function bodies(fp: FuzzPlatform): fc.Arbitrary<Buffer | undefined> {
  const tinyZip = Buffer.from(zipSync({ 'index.js': Buffer.from('exports.handler = async (e) => e;') }));
  const valid: unknown[] = [
    { runtime: 'nodejs20.x', handler: 'index.handler', code: { sha256: fp.echoSha } },
    { runtime: 'nodejs20.x', handler: 'index.handler', code: { sha256: fp.echoSha }, routes: [{ method: 'GET', path: '/fz/{id}' }], keepAliveSec: 0 },
    { runtime: 'nodejs20.x', handler: 'index.handler', code: { sha256: fp.echoSha }, routes: [{ method: 'GET', path: '/a*b' }] },
    { FunctionName: 'fz-a', Runtime: 'nodejs20.x', Role: 'arn:aws:iam::000000000000:role/x', Handler: 'index.handler', Code: { ZipFile: tinyZip.toString('base64') } },
    { Name: 'live', FunctionVersion: '$LATEST', RoutingConfig: { AdditionalVersionWeights: { '1': 0.5 } } },
    { ReservedConcurrentExecutions: 0 }, { ReservedConcurrentExecutions: 5 }, { ProvisionedConcurrentExecutions: 1 },
    { AuthType: 'NONE', Cors: { AllowOrigins: ['*'] } }, { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
    { EventSourceArn: 'arn:aws:sqs:us-east-1:000000000000:q1', FunctionName: 'victim', BatchSize: 2 },
    { expression: 'rate(5 minutes)' }, { expression: 'rate(99999999 days)' }, { expression: 'cron(* * L * ? *)' }, { expression: 'cron(0 12 * * ? *)', input: '{}' },
    { StatementId: 's1', Action: 'lambda:InvokeFunction', Principal: 's3.amazonaws.com', SourceArn: 'arn:aws:s3:::b', SourceAccount: '123456789012' },
    { StatementId: '__proto__', Action: 'lambda:*', Principal: '*', FunctionUrlAuthType: 'NONE', RevisionId: 'x' }, { Tags: { team: 'ml', __proto__x: 'y' } },
    { UpdateRuntimeOn: 'Auto' }, { UpdateRuntimeOn: 'Manual', RuntimeVersionArn: 'x' }, { CodeSigningConfigArn: 'arn:aws:lambda:us-east-1:000000000000:code-signing-config:csc-1' },
    { DeadLetterConfig: { TargetArn: 'arn:aws:sqs:us-east-1:000000000000:q1' }, Layers: [] }, { DeadLetterConfig: { TargetArn: '' } }, { Layers: ['arn:aws:lambda:us-east-1:000000000000:layer:x:1'] },
    { body: 'hello' }, { messages: [{ body: 'x' }] }, { maxMessages: 5 },
    { function: 'echo', input: { sha256: 'e'.repeat(64) } }, { description: 'k' }, { accessKeyId: 'x', secretAccessKey: 'y' },
    { inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP64', data: [5.1, 3.5, 1.4, 0.2] }] }, { instances: [[1, 2, 3, 4]] }, { inputs: [[1, 2, 3, 4]] }, [[5.1, 3.5, 1.4, 0.2]],
    { modelfn: 'modelfn.infer/1', inputs: [null] }, { inputs: [{ name: 'input', shape: [1e300, 0], datatype: 'FP64', data: [] }] }, { statusCode: 200 },
    null, 0, 'text', [], {},
  ];
  const text = (v: unknown) => Buffer.from(JSON.stringify(v));
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    { weight: 6, arbitrary: fc.constantFrom(...valid).map(text) },
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...valid), fc.jsonValue({ maxDepth: 2 }), fc.nat()).map(([v, junk, at]) => text(replaceLeaf(v, junk, at))) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map(text) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...valid).map(text), fc.nat()).map(([b, at]) => b.subarray(0, at % (b.length + 1))) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)) },
    { weight: 1, arbitrary: fc.constantFrom(Buffer.from([0xff, 0xfe, 0x7b, 0x7d]), Buffer.from('{"a":"\udc00"}'), Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]), Buffer.from('\ufeff{}')) },
    { weight: 1, arbitrary: fc.constantFrom(Buffer.from(deepJson(50_000, 'array')), Buffer.from(deepJson(20_000, 'object')), Buffer.from(`{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[${deepJson(30_000, 'array')},1,2,3]}]}`), Buffer.from(`[[${deepJson(30_000, 'array')},1,2,3]]`)) },
    { weight: 1, arbitrary: fc.constantFrom(tinyZip, tinyZip.subarray(0, 30), Buffer.alloc(1 << 20, 0x61), Buffer.alloc(0)) },
  );
}

/** Replace one leaf of a JSON value (depth-first order) with junk. */
function replaceLeaf(value: unknown, junk: unknown, at: number): unknown {
  let n = 0;
  const count = (v: unknown): void => {
    n++;
    if (typeof v === 'object' && v !== null) for (const c of Object.values(v)) count(c);
  };
  count(value);
  let target = at % n;
  const walk = (v: unknown): unknown => {
    if (target-- === 0) return junk;
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, c]) => [k, walk(c)]));
    return v;
  };
  return walk(value);
}

/** Results the mirror function returns: response descriptions, hostile and plain. */
const mirrorResult = fc.oneof(
  fc.record({
    statusCode: fc.oneof(fc.integer({ min: 100, max: 599 }), fc.constantFrom('200', 100, 101, 199, 0, -1, 600, 99999, null, '2OO')),
    headers: fc.oneof(fc.dictionary(fc.oneof(fc.constantFrom('content-type', 'x-a', 'bad name', 'x\u00e9', 'constructor', '__proto__', 'transfer-encoding', 'content-length', 'set-cookie'), fc.string({ maxLength: 6 })), fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('a\r\nx-injected: 1', '\u0100', { toString: 1 }, 5, true, null, ['a', 'b'])), { maxKeys: 4 }), fc.jsonValue({ maxDepth: 1 })),
    body: fc.oneof(fc.string({ maxLength: 40 }), fc.jsonValue({ maxDepth: 2 })),
    isBase64Encoded: fc.oneof(fc.boolean(), fc.jsonValue({ maxDepth: 0 })),
    cookies: fc.oneof(fc.array(fc.oneof(fc.string({ maxLength: 8 }), fc.constant({ toString: 1 })), { maxLength: 2 }), fc.jsonValue({ maxDepth: 0 })),
    multiValueHeaders: fc.dictionary(fc.constantFrom('x-m', 'bad name'), fc.array(fc.oneof(fc.string({ maxLength: 5 }), fc.constant('a\nb')), { maxLength: 2 }), { maxKeys: 2 }),
  }, { requiredKeys: ['statusCode'] }),
  fc.jsonValue({ maxDepth: 2 }),
);

/** Make a path the Node client will send (it refuses control characters and spaces), latin1 kept raw. */
function wire(path: string): string {
  let out = '';
  for (const c of path) {
    const code = c.codePointAt(0)!;
    out += code <= 0x20 || code === 0x7f || code > 0xff ? (code >= 0xd800 && code <= 0xdfff ? '%3F' : encodeURIComponent(c)) : c;
  }
  return out;
}

/** Writes to the target functions go to the victim instead: they must stay to be called. */
function guard(method: string, path: string): string {
  if (method === 'GET' || method === 'HEAD' || /\/invocations(\?|$)/.test(path) || /(infer|:predict)(\?|$)/.test(path)) return path;
  const surface = surfaceOf(path);
  if (surface !== 'admin' && surface !== 'lambda-api') return path;
  const q = path.indexOf('?');
  const query = q < 0 ? '' : path.slice(q);
  return (q < 0 ? path : path.slice(0, q))
    .split('/')
    .map((seg) => {
      let decoded = seg;
      try {
        decoded = decodeURIComponent(seg);
      } catch {
        /* keep */
      }
      return PROTECTED.some((p) => decoded === p || decoded.startsWith(`${p}:`) || decoded.endsWith(`:${p}`) || decoded.includes(`function:${p}`)) ? VICTIM : seg;
    })
    .join('/') + query;
}

function requests(fp: FuzzPlatform): fc.Arbitrary<FuzzRequest> {
  const segment = fc.oneof(fc.constantFrom(...OTHER), fc.string({ maxLength: 12 }), fc.constantFrom('%2F', '%2e', '.', '..', '%', '%%', '%c0%af', '%ff', '\u00e9', '*', ':', '{id}', 'x'.repeat(9000)));
  const path = fc
    .tuple(fc.constantFrom(...TEMPLATES), fc.array(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...REAL_NAMES) }, fc.constantFrom(...NAMES), segment), { minLength: 4, maxLength: 4 }), fc.array(segment, { minLength: 4, maxLength: 4 }), sometimes(fc.constantFrom('/', '//', '/.', '%2F'), 8, ''))
    .map(([t, names, others, tail]) => {
      let i = 0;
      let j = 0;
      const [method, template] = t.split(' ') as [string, string];
      const filled = template.replace(/\{n\}/g, () => names[i++ % 4]!).replace(/\{x\}/g, () => others[j++ % 4]!).replace(/\{u\}/g, fp.urlId);
      return { method, path: filled + tail };
    });
  const query = fc.oneof(
    { weight: 3, arbitrary: fc.constant('') },
    { weight: 2, arbitrary: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...QUERY_KEYS), fc.string({ maxLength: 6 })), fc.oneof(fc.constantFrom(...QUERY_VALUES), fc.string({ maxLength: 6 }))), { minLength: 1, maxLength: 4 }).map((pairs) => `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`) },
    { weight: 1, arbitrary: fc.constantFrom('?', '?&&', '?=', '?a', '?%', '?a=%zz', '?' + 'q=1&'.repeat(500)) },
  );
  const header = fc.tuple(fc.constantFrom(...HEADER_NAMES), fc.oneof(fc.constantFrom(...HEADER_VALUES), fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 30 })));
  return fc
    .record({
      method: sometimes(fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...METHODS) }, { weight: 1, arbitrary: fc.constantFrom('PROPFIND', 'get', 'M-SEARCH', 'PURGE', 'LINK') }), 4),
      endpoint: path,
      query,
      headers: fc.array(header, { maxLength: 4 }),
      contentType: sometimes(fc.constantFrom(...CONTENT_TYPES), 2),
      body: bodies(fp),
      chunks: sometimes(fc.integer({ min: 1, max: 5 }), 5),
      abortAfter: sometimes(fc.nat(64), 15),
      mirror: sometimes(fc.tuple(fc.constantFrom('/mirror', '/mirror1'), mirrorResult), 5),
    })
    .map((r): FuzzRequest => {
      if (r.mirror) {
        const [p, result] = r.mirror;
        return { method: 'POST', path: p, headers: [['content-type', 'application/json']], body: Buffer.from(JSON.stringify(result)), mirrorResult: result };
      }
      const method = r.method ?? r.endpoint.method;
      const path = guard(method, wire(r.endpoint.path + r.query));
      const headers: Array<[string, string]> = [...r.headers];
      if (r.contentType !== undefined) headers.push(['content-type', r.contentType]);
      return {
        method,
        path,
        headers,
        ...(r.body !== undefined ? { body: r.body } : {}),
        ...(r.chunks !== undefined ? { chunks: r.chunks } : {}),
        ...(r.abortAfter !== undefined ? { abortAfter: r.abortAfter } : {}),
      };
    });
}

const JSON_TYPE: Array<[string, string]> = [['content-type', 'application/json']];
const bodyOf = (v: unknown) => Buffer.from(JSON.stringify(v));
const mirror = (path: string, result: unknown): FuzzRequest => ({ method: 'POST', path, headers: JSON_TYPE, body: bodyOf(result), mirrorResult: result, expect: 502 });

/** Requests that answered 500 (or a wrong status) before the fixes they led to; each is sent first. */
const REGRESSIONS: FuzzRequest[] = [
  { method: 'GET', path: '/2015-03-31/functions/echo/aliases/__proto__', headers: [], expect: 404 },
  { method: 'GET', path: '/2015-03-31/event-source-mappings/__proto__', headers: [], expect: 404 },
  { method: 'POST', path: '/2015-03-31/functions/echo:constructor/invocations', headers: [], body: Buffer.from('{}'), expect: 404 },
  { method: 'POST', path: '/2015-03-31/functions/echo/invocations?Qualifier=toString', headers: [], body: Buffer.from('{}'), expect: 404 },
  { method: 'GET', path: '/2021-10-31/functions/echo/url?Qualifier=__proto__', headers: [], expect: 404 },
  { method: 'DELETE', path: '/_modelfn/v1/functions/victim/schedules/constructor', headers: [], expect: 404 },
  { method: 'PUT', path: '/_modelfn/v1/functions/victim/schedules/long', headers: JSON_TYPE, body: bodyOf({ expression: 'rate(99999999 days)' }), expect: 400 },
  { method: 'PUT', path: '/_modelfn/v1/functions/victim', headers: JSON_TYPE, body: bodyOf({ runtime: 'nodejs20.x', handler: 'index.handler', code: { sha256: 'e'.repeat(64) }, routes: [{ method: 'GET', path: '/a*b' }] }), expect: 400 },
  { method: 'POST', path: '/mirror1?constructor=1', headers: [['constructor', 'x'], ['__proto__', 'y']], body: bodyOf({ statusCode: 200, body: 'ok' }), expect: 200 },
  mirror('/mirror', { statusCode: 100 }),
  mirror('/mirror1', { statusCode: 200, headers: { x: { toString: 1 } }, body: '' }),
  mirror('/mirror', { statusCode: 200, headers: { 'bad name': 'v' } }),
  mirror('/mirror', { statusCode: 200, headers: { x: 'a\r\nx-injected: 1' } }),
  { method: 'POST', path: '/2015-03-31/functions/iris/invocations', headers: [], body: bodyOf({ modelfn: 'modelfn.infer/1', inputs: [null] }), expect: 200 },
  { method: 'POST', path: '/iris', headers: JSON_TYPE, body: Buffer.from(`[[${deepJson(30_000, 'array')},1,2,3]]`), expect: 400 },
  { method: 'POST', path: '/v2/models/iris/infer', headers: JSON_TYPE, body: bodyOf({ inputs: [{ name: 'input', shape: [1e300, 0], datatype: 'FP64', data: [] }] }), expect: 400 },
];

export async function fuzzHttpSurfaces(options: FuzzOptions): Promise<void> {
  const fp = await startFuzzPlatform();
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  try {
    const before = await vitals(fp);
    let answered = 0;
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(requests(fp), { minLength: 1, maxLength: 3 }), async (batch) => {
        const answers = await Promise.all(batch.map((req) => send(fp, req, req.abortAfter !== undefined ? false : agent)));
        for (const [i, res] of answers.entries()) {
          if (!res) continue;
          answered++;
          const key = `${surfaceOf(batch[i]!.path)} ${res.status}`;
          seen.set(key, (seen.get(key) ?? 0) + 1);
          checkResponse(batch[i]!, res);
        }
      }),
      { ...runs(options), examples: REGRESSIONS.map((r) => [[r]]) },
    );
    agent.destroy();
    await new Promise((r) => setTimeout(r, 500));
    const after = await vitals(fp);
    if (process.env.MODELFN_FUZZ_VERBOSE) console.log([...seen].sort().map(([k, n]) => `${k}: ${n}`).join('\n'));
    console.log(`http-surfaces: ${answered} answers checked; platform RSS ${(before.rssKb / 1024).toFixed(0)} -> ${(after.rssKb / 1024).toFixed(0)} MB, fds ${before.fds} -> ${after.fds}`);
    await assertHealthy(fp);
    assert.ok(after.rssKb < before.rssKb + 200 * 1024, `platform RSS grew from ${before.rssKb} kB to ${after.rssKb} kB`);
    assert.ok(after.fds < before.fds + 100, `platform descriptors grew from ${before.fds} to ${after.fds}`);
  } finally {
    agent.destroy();
    await fp.platform.cleanup();
  }
}
