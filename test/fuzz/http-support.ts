import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { Agent, IncomingHttpHeaders } from 'node:http';
import { readFile } from 'node:fs/promises';
import { zipSync } from 'fflate';
import { fromPackageRoot } from '../../src/shared/paths.js';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { readCredentialsFile } from '../../src/auth/credentials-file.js';
import { RequestSigner } from '../../src/cli/signer.js';
import type { Credentials } from '../../src/cli/signer.js';
import { fixture, processVitals, startPlatform } from '../support/platform.js';
import type { ProcessVitals, RunningPlatform, StartOptions } from '../support/platform.js';
import { LAMBDA_API_PREFIXES } from '../../src/surfaces/lambda-api/lambda-api-surface.js';
import { zipDirectory } from '../../src/artifacts/zip-directory.js';

/**
 * A real platform for the over-HTTP fuzz families, with functions behind every kind of route,
 * and the oracles every answer is held to.
 */

/** Functions a fuzzed request may call but never change or delete (they are the targets). */
export const PROTECTED = ['echo', 'mirror', 'thrower', 'iris'];
/** Takes whatever a fuzzed write does to a function (delete, concurrency 0, new code). */
export const VICTIM = 'victim';

const MIRROR = `exports.handler = async (event) => {
  const text = event.isBase64Encoded ? Buffer.from(event.body || '', 'base64').toString('utf8') : (event.body || '');
  try { return JSON.parse(text); } catch { return { statusCode: 200, body: text }; }
};`;
const THROWER = `exports.handler = async () => { throw new Error('the function failed on purpose'); };`;

export interface FuzzPlatform {
  readonly platform: RunningPlatform;
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** A function URL id of echo (AuthType NONE). */
  readonly urlId: string;
  /** sha256 of an uploaded Node bundle (for deploy specs that succeed). */
  readonly echoSha: string;
  /** fetch, signed when the platform requires it. */
  readonly call: Call;
  /** The admin key (platforms with authentication). */
  readonly credentials?: Credentials;
}

async function mustOk(res: Response, what: string): Promise<Response> {
  if (res.status >= 300) throw new Error(`${what}: ${res.status} ${await res.text()}`);
  return res;
}

/** fetch, signed with the platform's admin key when it has one (as the CLI signs). */
export type Call = (url: string, init?: { method?: string; body?: Buffer | string; headers?: Record<string, string> }) => Promise<Response>;

export function callerFor(credentials: Credentials | undefined): Call {
  const signer = credentials ? new RequestSigner(credentials, 'us-east-1') : undefined;
  return async (url, init = {}) => {
    const body = init.body === undefined ? undefined : Buffer.from(init.body);
    const headers = init.headers ?? {};
    const signed = signer ? await signer.sign(init.method ?? 'GET', new URL(url), headers, body) : {};
    return fetch(url, { method: init.method ?? 'GET', ...(body ? { body } : {}), headers: { ...headers, ...signed } });
  };
}

async function deploy(call: Call, url: string, name: string, zip: Buffer, spec: Record<string, unknown>): Promise<void> {
  const upload = await mustOk(await call(`${url}/_modelfn/v1/bundles`, { method: 'POST', body: zip, headers: { 'content-type': 'application/zip' } }), `upload ${name}`);
  const { sha256 } = (await upload.json()) as { sha256: string };
  await mustOk(await call(`${url}/_modelfn/v1/functions/${name}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ runtime: 'nodejs20.x', handler: 'index.handler', ...spec, code: { sha256 } }) }), `deploy ${name}`);
}

/**
 * Start a platform and deploy the targets: routes in both payload formats, a model, a function
 * URL. With auth, every set-up call is signed with the admin key the platform wrote.
 */
export async function startFuzzPlatform(options: StartOptions = {}): Promise<FuzzPlatform> {
  const platform = await startPlatform(options);
  try {
    const url = platform.url;
    const credentials = options.auth ? await readCredentialsFile(join(platform.dataDir, 'credentials')) : undefined;
    const call = callerFor(credentials);
    const echoZip = await zipDirectory(fixture('functions', 'echo'));
    await deploy(call, url, 'echo', echoZip, { routes: [{ method: 'POST', path: '/echo' }, { method: 'ANY', path: '/r2/{proxy+}' }, { method: 'ANY', path: '/r1/{proxy+}', payloadFormat: '1.0' }, { method: 'GET', path: '/items/{id}' }, { method: 'POST', path: '/signed', auth: 'aws_iam' }] });
    await deploy(call, url, VICTIM, echoZip, { routes: [{ method: 'PUT', path: '/victim' }] });
    await deploy(call, url, 'mirror', Buffer.from(zipSync({ 'index.js': Buffer.from(MIRROR) })), { routes: [{ method: 'POST', path: '/mirror' }, { method: 'POST', path: '/mirror1', payloadFormat: '1.0' }] });
    await deploy(call, url, 'thrower', Buffer.from(zipSync({ 'index.js': Buffer.from(THROWER) })), { routes: [{ method: 'GET', path: '/throw' }] });
    const model = await readFile(fromPackageRoot('examples', 'iris-joblib', 'model.joblib'));
    await deploy(call, url, 'iris', Buffer.from(zipSync({ 'model.joblib': model })), { runtime: 'model', handler: 'model.joblib', memoryMb: 256, routes: [{ method: 'POST', path: '/iris' }] });
    const echoSha = createHash('sha256').update(echoZip).digest('hex');
    const fnUrl = (await (await mustOk(await call(`${url}/2021-10-31/functions/echo/url`, { method: 'POST', body: JSON.stringify({ AuthType: 'NONE' }), headers: { 'content-type': 'application/json' } }), 'function url')).json()) as { FunctionUrl: string };
    const urlId = /\/lambda-url\/([^/]+)\//.exec(fnUrl.FunctionUrl)![1]!;
    const u = new URL(url);
    return { platform, url, host: u.hostname, port: Number(u.port), urlId, echoSha, call, ...(credentials ? { credentials } : {}) };
  } catch (err) {
    await platform.cleanup();
    throw err;
  }
}

/** One request as the fuzzer sends it. */
export interface FuzzRequest {
  readonly method: string;
  /** On the wire: percent-encoded as needed, with the query. */
  readonly path: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body?: Buffer;
  /** Send the body chunked, in this many pieces. */
  readonly chunks?: number;
  /** Hang up after this many body bytes (an early disconnect): no answer is expected. */
  readonly abortAfter?: number;
  /** What the mirror function is told to return (its own status may be a 5xx). */
  readonly mirrorResult?: unknown;
  /** The status a regression case must get. */
  readonly expect?: number;
}

export interface FuzzResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

const lastOnSocket = new WeakMap<object, string>();

/** Send one request; undefined when the fuzzer hung up on purpose. Rejects on a hang (timeoutMs). */
export function send(fp: FuzzPlatform, req: FuzzRequest, agent: Agent | false, timeoutMs = 20_000): Promise<FuzzResponse | undefined> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of req.headers) {
      const known = headers[k];
      headers[k] = known === undefined ? v : [...(Array.isArray(known) ? known : [known]), v];
    }
    const chunked = req.chunks !== undefined && req.body !== undefined;
    if (req.body !== undefined && !chunked && req.abortAfter === undefined) headers['content-length'] = String(req.body.length);
    // Node's client frames a body in chunks by default only for POST/PUT/PATCH; GET, HEAD, DELETE and
    // OPTIONS would send it bare, which is the client's malformed request, not the platform's.
    if (chunked) headers['transfer-encoding'] = 'chunked';
    if (req.abortAfter !== undefined && req.body !== undefined) headers['content-length'] = String(req.body.length + 10);
    const r = httpRequest({ host: fp.host, port: fp.port, method: req.method, path: req.path, headers, agent, setHost: !req.headers.some(([k]) => k.toLowerCase() === 'host') });
    const timer = setTimeout(() => {
      r.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms to ${req.method} ${req.path.slice(0, 200)}`));
    }, timeoutMs);
    let previous = '';
    r.on('socket', (socket) => {
      previous = lastOnSocket.get(socket) ?? '(new connection)';
      lastOnSocket.set(socket, `${req.method} ${req.path.slice(0, 200)} ${JSON.stringify(req.headers)} body ${req.body?.length ?? 'none'} chunks ${req.chunks ?? '-'}`);
    });
    r.on('error', (err) => {
      clearTimeout(timer);
      if (req.abortAfter !== undefined) resolve(undefined);
      else reject(new Error(`${req.method} ${req.path.slice(0, 200)}: ${err.message} (previous request on this connection: ${previous})`));
    });
    r.on('response', (res) => {
      // Streams (log follow, live dashboard) stay open: their 200 and headers are the answer.
      if (res.statusCode === 200 && /event-stream|ndjson/.test(String(res.headers['content-type']))) {
        clearTimeout(timer);
        res.destroy();
        resolve({ status: 200, headers: res.headers, body: Buffer.alloc(0) });
        return;
      }
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('error', () => undefined);
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) });
      });
    });
    if (req.abortAfter !== undefined) {
      r.write(req.body?.subarray(0, req.abortAfter) ?? Buffer.alloc(0));
      setTimeout(() => {
        clearTimeout(timer);
        r.destroy();
        resolve(undefined);
      }, 5);
      return;
    }
    if (chunked) {
      const body = req.body!;
      const size = Math.max(1, Math.ceil(body.length / req.chunks!));
      for (let at = 0; at < body.length; at += size) r.write(body.subarray(at, at + size));
      r.end();
    } else r.end(req.body);
  });
}

const PREFIXES: Array<[string, string]> = [
  ['/_modelfn', 'admin'],
  ['/lambda-url', 'function-urls'],
  ['/v1/models', 'v1'],
  ['/v2', 'oip'],
  ['/metrics', 'metrics'],
  ['/ui', 'dashboard'],
  ...LAMBDA_API_PREFIXES.map((p): [string, string] => [p, 'lambda-api']),
];

/** The surface the gateway gives a raw path to (longest prefix; else user routes). */
export function surfaceOf(path: string): string {
  const raw = path.split('?')[0]!;
  let best: [string, string] | undefined;
  for (const entry of PREFIXES) {
    const [p] = entry;
    if ((raw === p || (raw.startsWith(p) && raw[p.length] === '/')) && (!best || p.length > best[0].length)) best = entry;
  }
  return best?.[1] ?? 'routes';
}

function json(body: Buffer): any {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** What the fuzzer asked the mirror function to answer, as the route maps it (its own 5xx is allowed). */
function mirrorStatus(result: unknown): number | undefined {
  if (typeof result !== 'object' || result === null || Array.isArray(result)) return undefined;
  const s = (result as { statusCode?: unknown }).statusCode;
  const n = typeof s === 'string' && /^\d{3}$/.test(s) ? Number(s) : s;
  return typeof n === 'number' ? n : undefined;
}

/**
 * The oracles for one answer: never a 5xx but a function's own error (502 on routes and URLs,
 * a status the function chose) and the intended 429/503; errors in the surface's own format.
 */
export function checkResponse(req: FuzzRequest, res: FuzzResponse): void {
  const where = `${req.method} ${req.path.slice(0, 300)} -> ${res.status} ${res.body.toString('utf8').slice(0, 300)}`;
  if (req.expect !== undefined) assert.equal(res.status, req.expect, `expected ${req.expect}: ${where}`);
  const surface = surfaceOf(req.path);
  const toFunction = surface === 'routes' || surface === 'function-urls';
  if (res.status >= 500) {
    const own = toFunction && (res.status === 502 || (req.mirrorResult !== undefined && mirrorStatus(req.mirrorResult) === res.status));
    assert.ok(own || res.status === 503 || (res.status === 504 && toFunction), `a 5xx the platform made: ${where}`);
  }
  assert.ok(res.status >= 200 || res.status === 101, `a ${res.status} as the final answer: ${where}`);
  if (req.method === 'HEAD' || res.status < 400 || res.status === 417 || (toFunction && req.mirrorResult !== undefined)) return;
  // Node's parser refused the request itself (e.g. a non-ASCII byte in the target): the gateway's bare 400.
  if (isParserRefusal(res)) return;
  const body = json(res.body);
  switch (surface) {
    case 'lambda-api':
      assert.ok(typeof res.headers['x-amzn-errortype'] === 'string', `AWS errors carry X-Amzn-ErrorType: ${where}`);
      assert.ok(body && typeof body.message === 'string' && typeof body.Type === 'string', `AWS error body {Type, message}: ${where}`);
      break;
    case 'oip':
    case 'v1':
      if (res.body.length > 0) assert.ok(body && typeof body.error === 'string', `model protocol error {error}: ${where}`);
      break;
    case 'routes':
      // The platform's own refusals are {message, code}; a model function behind a route answers {error}.
      assert.ok(body && ((typeof body.message === 'string' && typeof body.code === 'string') || typeof body.error === 'string'), `route error {message, code} or a model's {error}: ${where}`);
      break;
    default:
      assert.ok(body && typeof body.message === 'string' && typeof body.code === 'string', `modelfn error {message, code}: ${where}`);
  }
}

/** The gateway's answer to what Node's HTTP parser refuses: 400 (408, 431), no body, connection closed. */
export function isParserRefusal(res: FuzzResponse): boolean {
  return [400, 408, 431].includes(res.status) && res.body.length === 0 && res.headers.connection === 'close';
}

/** The platform's RSS, open descriptors and TCP sockets (support/platform.ts processVitals). */
export function vitals(fp: FuzzPlatform): Promise<ProcessVitals> {
  return processVitals(fp.platform.proc.pid!);
}

/** After a run: alive, serving normal calls on every surface, nothing logged as unhandled. */
export async function assertHealthy(fp: FuzzPlatform): Promise<void> {
  const health = await fetch(`${fp.url}/_modelfn/v1/health`);
  assert.equal(health.status, 200, 'health');
  const invoke = await fp.call(`${fp.url}/2015-03-31/functions/echo/invocations`, { method: 'POST', body: '{"after":"fuzz"}' });
  assert.equal(invoke.status, 200, `Invoke after the run: ${await invoke.text()}`);
  const route = await fetch(`${fp.url}/echo`, { method: 'POST', body: '{}' });
  assert.equal(route.status, 200, 'route after the run');
  const infer = await fp.call(`${fp.url}/v2/models/iris/infer`, { method: 'POST', body: JSON.stringify({ inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP64', data: [5.1, 3.5, 1.4, 0.2] }] }) });
  assert.equal(infer.status, 200, `OIP after the run: ${await infer.text()}`);
  const out = fp.platform.output();
  assert.ok(!/unhandled error in surface|uncaught|unhandledRejection/i.test(out), `the platform logged an unhandled error:\n${out.split('\n').filter((l) => /unhandled|uncaught/i.test(l)).slice(0, 5).join('\n')}`);
}
