import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RequestSigner } from '../../src/cli/signer.js';
import type { FuzzOptions } from './harness.js';
import { runs } from './harness.js';
import type { FuzzPlatform, FuzzRequest } from './http-support.js';
import { assertHealthy, checkResponse, send, startFuzzPlatform, surfaceOf } from './http-support.js';

/**
 * A platform with authentication (the default of a real one): requests signed by the CLI's
 * signer (the AWS SDK's) with odd paths, queries and bodies must verify end to end over HTTP;
 * the same requests with their SigV4 headers forged, mutated, duplicated or dropped must get a
 * 403 in the surface's own format (never a 5xx, never accepted); the dashboard's sign-in takes
 * any JSON without a 5xx.
 */

const SIGNATURE_FAILURES = ['InvalidSignatureException', 'IncompleteSignatureException', 'MissingAuthenticationTokenException', 'UnrecognizedClientException'];
const SIGNED_CODES = ['INVALID_SIGNATURE', 'INCOMPLETE_SIGNATURE', 'MISSING_AUTHENTICATION', 'UNRECOGNIZED_CLIENT'];

/** Read-mostly endpoints of every signed surface (a write would change the targets). */
const ENDPOINTS = [
  'GET /2015-03-31/functions', 'GET /2015-03-31/functions/{n}', 'GET /2015-03-31/functions/{n}/configuration', 'POST /2015-03-31/functions/{n}/invocations',
  'GET /2015-03-31/functions/{n}/aliases', 'GET /2015-03-31/functions/{n}/versions', 'GET /2016-08-19/account-settings', 'GET /2021-10-31/functions/{n}/urls',
  'GET /_modelfn/v1/functions', 'GET /_modelfn/v1/functions/{n}', 'GET /_modelfn/v1/routes', 'GET /_modelfn/v1/functions/{n}/logs', 'GET /_modelfn/v1/queues', 'GET /_modelfn/v1/cost',
  'GET /v2/models/{n}', 'POST /v2/models/{n}/infer', 'GET /v1/models/{n}', 'POST /v1/models/{n}:predict', 'POST /signed',
];
const NAMES = ['echo', 'iris', 'mirror', 'nope', 'echo:$LATEST', 'echo:constructor', 'a b', 'ü', '%', "it's", '(x)', '*'];
const queryPair = fc.tuple(
  fc.oneof(fc.constantFrom('since', 'limit', 'Qualifier', 'MaxItems', 'toString', 'constructor', 'a b', 'x+y', '~', '%'), fc.string({ maxLength: 6 })),
  fc.oneof(fc.constantFrom('1h', '5', 'a b', 'x+y', 'ü', '', '=', '&', '%zz', '%20'), fc.string({ maxLength: 8 })),
);
const IRIS_OIP = JSON.stringify({ inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP64', data: [5.1, 3.5, 1.4, 0.2] }] });

/** A signed request as the CLI builds it: a URL whose search params were set by URLSearchParams. */
const signedInput = fc.record({
  endpoint: fc.constantFrom(...ENDPOINTS),
  name: fc.constantFrom(...NAMES),
  query: fc.array(queryPair, { maxLength: 3 }),
  body: fc.oneof(fc.constant(''), fc.constant('{}'), fc.constant(IRIS_OIP), fc.constant('{"instances":[[1,2,3,4]]}'), fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v))),
  /** Routes and the model protocols also take execute-api, as API Gateway's IAM authorizer does. */
  executeApi: fc.boolean(),
});

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('drop' as const), header: fc.constantFrom('authorization', 'x-amz-date', 'x-amz-content-sha256') }),
  fc.record({ kind: fc.constant('set' as const), header: fc.constantFrom('authorization', 'x-amz-date', 'x-amz-content-sha256', 'date'), value: fc.oneof(fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 120 }), fc.constantFrom('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA256 Credential=', 'UNSIGNED-PAYLOAD', '20000101T000000Z', '99999999T999999Z', 'Thu, 01 Jan 1970 00:00:00 GMT', '')) }),
  fc.record({ kind: fc.constant('twice' as const), header: fc.constantFrom('authorization', 'x-amz-date', 'host') }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('body' as const) }),
  fc.record({ kind: fc.constant('path' as const) }),
);

interface Built {
  readonly url: URL;
  readonly method: string;
  readonly body: Buffer | undefined;
  readonly headers: Record<string, string>;
}

async function build(fp: FuzzPlatform, input: { endpoint: string; name: string; query: Array<[string, string]>; body: string; executeApi: boolean }): Promise<Built> {
  const [method, template] = input.endpoint.split(' ') as [string, string];
  const url = new URL(`${fp.url}${template.replace('{n}', encodeURIComponent(input.name))}`);
  for (const [k, v] of input.query) url.searchParams.append(k, v);
  const body = method === 'GET' ? undefined : Buffer.from(input.body);
  const headers = { 'content-type': 'application/json' };
  const service = template === '/signed' || (input.executeApi && template.startsWith('/v')) ? 'execute-api' : undefined;
  const signed = await new RequestSigner(fp.credentials!, 'us-east-1', service).sign(method, url, headers, body);
  return { url, method, body, headers: { ...headers, ...signed } };
}

function isSignatureFailure(res: { status: number; headers: Record<string, unknown>; body: Buffer }): boolean {
  if (res.status !== 403) return false;
  if (SIGNATURE_FAILURES.includes(String(res.headers['x-amzn-errortype']))) return true;
  const text = res.body.toString('utf8');
  return SIGNED_CODES.some((c) => text.includes(c)) || /signature|Authentication|security token|Authorization header|Credential/i.test(text);
}

export async function fuzzHttpAuth(options: FuzzOptions): Promise<void> {
  const fp = await startFuzzPlatform({ auth: true });
  try {
    // 1. Signed by the CLI's signer: verified end to end, whatever the path, query and body hold.
    await fc.assert(
      fc.asyncProperty(signedInput, async (input) => {
        const b = await build(fp, input);
        const req: FuzzRequest = { method: b.method, path: b.url.pathname + b.url.search, headers: Object.entries(b.headers), ...(b.body ? { body: b.body } : {}) };
        const res = (await send(fp, req, false))!;
        assert.ok(!isSignatureFailure(res), `a request the CLI signed was refused: ${req.method} ${req.path} -> ${res.status} ${res.body.toString('utf8').slice(0, 300)}`);
        checkResponse(req, res);
      }),
      {
        ...runs(options),
        // Regressions: a space in a query value ('+' on the wire), a parameter named toString.
        examples: [[{ endpoint: 'GET /_modelfn/v1/functions/{n}/logs', name: 'echo', query: [['since', '1 h'], ['toString', 'a b']], body: '', executeApi: false }]],
      },
    );

    // 2. The same with its signature tampered with: a 403 in the surface's format, never accepted.
    await fc.assert(
      fc.asyncProperty(signedInput, fc.array(mutation, { minLength: 1, maxLength: 3 }), async (input, mutations) => {
        const b = await build(fp, input);
        let headers: Array<[string, string]> = Object.entries(b.headers);
        let body = b.body;
        let path = b.url.pathname + b.url.search;
        let changed = false;
        for (const m of mutations) {
          const i = headers.findIndex(([k]) => k === ('header' in m ? m.header : 'authorization'));
          if (m.kind === 'drop' && i >= 0) { headers = headers.filter((_, j) => j !== i); changed = true; }
          else if (m.kind === 'set' && i >= 0 && headers[i]![1] !== m.value) { headers[i] = [m.header, m.value]; changed = true; }
          // A second, identical Authorization changes nothing (Node keeps the first): not a forgery.
          else if (m.kind === 'twice' && i >= 0) { headers.push([m.header, m.header === 'host' ? 'evil.example' : headers[i]![1]]); changed ||= m.header !== 'authorization'; }
          else if (m.kind === 'flip' && i >= 0) {
            const sig = headers[i]![1];
            const at = sig.lastIndexOf('Signature=') + 10 + (m.at % 64);
            const c = sig[at] === '0' ? '1' : '0';
            headers[i] = ['authorization', sig.slice(0, at) + c + sig.slice(at + 1)];
            changed = true;
          } else if (m.kind === 'body') { body = Buffer.concat([body ?? Buffer.alloc(0), Buffer.from(' ')]); changed = true; }
          else if (m.kind === 'path') { path = path.replace(/(\/[^/?]*)(\?|$)/, '$1x$2'); changed = true; }
        }
        // Changed = different from what was signed (a second identical Authorization is no change:
        // Node keeps the first); a drop after a duplicate can restore the original.
        const seen = new Set<string>();
        const effective = headers.filter(([k, v]) => k !== 'authorization' || (!seen.has(v) && seen.add(v)));
        const sorted = (h: Array<[string, string]>) => JSON.stringify(h.map(([k, v]) => `${k}: ${v}`).sort());
        changed = sorted(effective) !== sorted(Object.entries(b.headers)) || path !== b.url.pathname + b.url.search || !(body ?? Buffer.alloc(0)).equals(b.body ?? Buffer.alloc(0));
        const req: FuzzRequest = { method: b.method, path, headers, ...(body ? { body } : {}) };
        const res = (await send(fp, req, false))!;
        checkResponse(req, res);
        const surface = surfaceOf(path);
        if (changed && res.status < 300) assert.fail(`a tampered request was accepted: ${req.method} ${path} ${JSON.stringify(mutations)} -> ${res.status}`);
        if (changed && surface === 'lambda-api' && res.status === 403) assert.ok(isSignatureFailure(res));
      }),
      runs(options),
    );

    // 3. Dashboard sign-in and sessions: any JSON, any cookie, never a 5xx.
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.record({ accessKeyId: fc.jsonValue({ maxDepth: 1 }), secretAccessKey: fc.jsonValue({ maxDepth: 1 }) })), fc.string({ maxLength: 60 }), async (creds, cookie) => {
        const login = (await send(fp, { method: 'POST', path: '/ui/api/login', headers: [['content-type', 'application/json']], body: Buffer.from(JSON.stringify(creds)) }, false))!;
        checkResponse({ method: 'POST', path: '/ui/api/login', headers: [] }, login);
        const cookieValue = `modelfn_session=${encodeURIComponent(cookie)}`;
        const overview = (await send(fp, { method: 'GET', path: '/ui/api/overview', headers: [['cookie', cookieValue]] }, false))!;
        assert.ok(overview.status === 401 || overview.status === 200, `overview with a made-up cookie: ${overview.status}`);
      }),
      { ...runs(options, 0.05), examples: [[null, ''], [[], ''], ['x', 'a.b.c']] },
    );
    await assertHealthy(fp);
  } finally {
    await fp.platform.cleanup();
  }
}
