import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, invoke, mustDeploy, removeTree, startPlatform } from '../support/platform.js';
import type { RunningPlatform } from '../support/platform.js';

let p: RunningPlatform;

before(async () => {
  p = await startPlatform();
  await mustDeploy(p.url, 'echo', fixture('functions', 'echo'), {
    memoryMb: 256,
    timeoutSec: 10,
    environment: { GREETING: 'hi' },
    routes: [
      { method: 'POST', path: '/echo/{id}' },
    ],
  });
  await mustDeploy(p.url, 'esm', fixture('functions', 'echo-esm'));
  await mustDeploy(p.url, 'cb', fixture('functions', 'callback'));
  await mustDeploy(p.url, 'http', fixture('functions', 'http-response'), { routes: [{ method: 'ANY', path: '/http' }, { method: 'GET', path: '/http1', payloadFormat: '1.0' }] });
});

after(async () => {
  await p.cleanup();
});

test('Invoke returns the raw result; context and environment are Lambda\'s', async () => {
  const res = await invoke(p.url, 'echo', { name: 'x' });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-amz-executed-version'), '$LATEST');
  assert.equal(res.headers.get('x-amz-function-error'), null);
  const body = res.json() as Record<string, any>;
  assert.deepEqual(body.event, { name: 'x' });
  assert.equal(body.context.functionName, 'echo');
  assert.equal(body.context.functionVersion, '$LATEST');
  assert.equal(body.context.memoryLimitInMB, '256');
  assert.equal(body.context.invokedFunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:echo');
  assert.equal(body.context.awsRequestId, res.headers.get('x-amzn-requestid'));
  assert.equal(body.context.logGroupName, '/aws/lambda/echo');
  assert.match(body.context.logStreamName, /^\d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]+$/);
  assert.ok(body.context.remaining > 9000 && body.context.remaining <= 10_000);
  assert.equal(body.env.AWS_LAMBDA_FUNCTION_NAME, 'echo');
  assert.equal(body.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, '256');
  assert.equal(body.env.AWS_REGION, 'us-east-1');
  assert.equal(body.env._HANDLER, 'index.handler');
  assert.equal(body.env.GREETING, 'hi');
  assert.equal(body.env.MODELFN_HOME, undefined, 'nothing of the platform\'s environment leaks in');
  assert.equal(body.cwd, body.env.LAMBDA_TASK_ROOT);
  if (p.sandboxed) assert.equal(body.env.TMPDIR, '/tmp', 'a sandbox has its own /tmp');
  else assert.ok(body.env.TMPDIR.startsWith(join(p.dataDir, 'instances')), 'each instance has its own temp dir');
});

test('module-level code runs once per instance; the handler serves many calls', async () => {
  const a = (await invoke(p.url, 'echo', {})).json() as { initAt: number; pid: number; invocations: number };
  const b = (await invoke(p.url, 'echo', {})).json() as { initAt: number; pid: number; invocations: number };
  assert.equal(a.pid, b.pid);
  assert.equal(a.initAt, b.initAt);
  assert.equal(b.invocations, a.invocations + 1);
});

test('ESM and callback-style handlers work', async () => {
  const esm = (await invoke(p.url, 'esm', { a: 1 })).json() as { esm: boolean; event: unknown };
  assert.equal(esm.esm, true);
  assert.deepEqual(esm.event, { a: 1 });
  assert.deepEqual((await invoke(p.url, 'cb', { b: 2 })).json(), { style: 'callback', got: { b: 2 } });
  const failed = await invoke(p.url, 'cb', { fail: 'nope' });
  assert.equal(failed.headers.get('x-amz-function-error'), 'Unhandled');
  assert.match((failed.json() as { errorMessage: string }).errorMessage, /callback failure: nope/);
});

test('an empty Invoke payload is the event {}; DryRun answers 204 without running', async () => {
  const res = await fetch(`${p.url}/2015-03-31/functions/echo/invocations`, { method: 'POST' });
  assert.deepEqual(((await res.json()) as { event: unknown }).event, {});
  const dry = await fetch(`${p.url}/2015-03-31/functions/echo/invocations`, { method: 'POST', headers: { 'x-amz-invocation-type': 'DryRun' } });
  assert.equal(dry.status, 204);
});

test('a route delivers an API Gateway 2.0 event', async () => {
  const res = await fetch(`${p.url}/echo/42?q=1&q=2`, { method: 'POST', body: '{"n":1}', headers: { 'content-type': 'application/json', cookie: 'a=b', 'x-thing': 'y' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json');
  assert.ok(res.headers.get('x-amzn-requestid'));
  const { event } = (await res.json()) as { event: Record<string, any> };
  assert.equal(event.version, '2.0');
  assert.equal(event.routeKey, 'POST /echo/{id}');
  assert.equal(event.rawPath, '/echo/42');
  assert.equal(event.rawQueryString, 'q=1&q=2');
  assert.deepEqual(event.queryStringParameters, { q: '1,2' });
  assert.deepEqual(event.pathParameters, { id: '42' });
  assert.deepEqual(event.cookies, ['a=b']);
  assert.equal(event.headers['x-thing'], 'y');
  assert.equal(event.body, '{"n":1}');
  assert.equal(event.isBase64Encoded, false);
  assert.equal(event.requestContext.http.method, 'POST');
  assert.equal(event.requestContext.http.sourceIp, '127.0.0.1');
  assert.equal(typeof event.requestContext.timeEpoch, 'number');
  const binary = await fetch(`${p.url}/echo/7`, { method: 'POST', body: new Uint8Array([0, 1, 2, 255]), headers: { 'content-type': 'application/octet-stream' } });
  const ev = ((await binary.json()) as { event: { body: string; isBase64Encoded: boolean } }).event;
  assert.equal(ev.isBase64Encoded, true);
  assert.deepEqual([...Buffer.from(ev.body, 'base64')], [0, 1, 2, 255]);
});

test('a route asking for payload format 1.0 gets one', async () => {
  const res = await fetch(`${p.url}/http1?mode=echo&x=1&x=2`);
  const event = (await res.json()) as Record<string, any>;
  assert.equal(event.version, '1.0');
  assert.equal(event.resource, '/http1');
  assert.equal(event.httpMethod, 'GET');
  assert.equal(event.pathParameters, null);
  assert.deepEqual(event.multiValueQueryStringParameters, { mode: ['echo'], x: ['1', '2'] });
  assert.deepEqual(event.queryStringParameters, { mode: 'echo', x: '2' });
});

test('results map back to HTTP per the payload format', async () => {
  const plain = await fetch(`${p.url}/http?mode=plain`);
  assert.equal(plain.status, 200);
  assert.deepEqual(await plain.json(), { hello: 'world', path: '/http' });
  assert.equal(await (await fetch(`${p.url}/http?mode=string`)).text(), '"just a string"');
  const status = await fetch(`${p.url}/http?mode=status`, { method: 'PUT' });
  assert.equal(status.status, 201);
  assert.equal(status.headers.get('x-custom'), 'yes');
  assert.deepEqual(status.headers.getSetCookie(), ['a=1', 'b=2; Path=/']);
  assert.equal(await status.text(), 'created');
  const binary = await fetch(`${p.url}/http?mode=binary`);
  assert.deepEqual([...new Uint8Array(await binary.arrayBuffer())], [0, 1, 2, 255]);
  const bad = await fetch(`${p.url}/http?mode=bad-status`);
  assert.equal(bad.status, 502);
  assert.equal(((await bad.json()) as { code: string }).code, 'FUNCTION_ERROR');
  const v1 = await fetch(`${p.url}/http1?mode=v1`);
  assert.equal(v1.status, 202);
  assert.equal(v1.headers.get('x-many'), 'a, b');
  const v1plain = await fetch(`${p.url}/http1?mode=plain`);
  assert.equal(v1plain.status, 502, 'format 1.0 needs a statusCode');
});

test('a redeploy serves new code to new calls while a call in flight finishes on the old code', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'modelfn-redeploy-'));
  try {
    const source = (version: string) =>
      `exports.handler = async (event) => { await new Promise((r) => setTimeout(r, event.ms || 0)); return { version: '${version}', proc: process.pid + '@' + require('node:fs').readlinkSync('/proc/self/ns/pid') }; };`;
    await writeFile(join(dir, 'index.js'), source('v1'));
    await mustDeploy(p.url, 'versioned', dir);
    // Warm first, so the slow call below is running on v1 (not still cold-starting) when v2 lands.
    assert.equal(((await invoke(p.url, 'versioned', {})).json() as { version: string }).version, 'v1');
    const slow = invoke(p.url, 'versioned', { ms: 1500 });
    await new Promise((r) => setTimeout(r, 300));
    await writeFile(join(dir, 'index.js'), source('v2'));
    await mustDeploy(p.url, 'versioned', dir);
    const fresh = (await invoke(p.url, 'versioned', {})).json() as { version: string; proc: string };
    const old = (await slow).json() as { version: string; proc: string };
    assert.equal(old.version, 'v1');
    assert.equal(fresh.version, 'v2');
    assert.notEqual(old.proc, fresh.proc);
  } finally {
    await removeTree(dir);
  }
});

test('rm removes the function and its routes', async () => {
  await mustDeploy(p.url, 'gone', fixture('functions', 'echo'), { routes: [{ method: 'GET', path: '/gone' }] });
  assert.equal((await fetch(`${p.url}/gone`)).status, 200);
  assert.equal((await fetch(`${p.url}/_modelfn/v1/functions/gone`, { method: 'DELETE' })).status, 204);
  assert.equal((await fetch(`${p.url}/gone`)).status, 404);
  assert.equal((await invoke(p.url, 'gone')).status, 404);
  assert.equal((await fetch(`${p.url}/_modelfn/v1/functions/gone`, { method: 'DELETE' })).status, 404);
});
