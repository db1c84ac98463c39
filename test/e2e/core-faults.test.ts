import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, invoke, mustDeploy, startPlatform } from '../support/platform.js';
import type { RunningPlatform } from '../support/platform.js';

let p: RunningPlatform;

before(async () => {
  p = await startPlatform();
  await mustDeploy(p.url, 'faults', fixture('functions', 'faults'), { memoryMb: 128, timeoutSec: 2, routes: [{ method: 'POST', path: '/faults' }] });
  await mustDeploy(p.url, 'bystander', fixture('functions', 'echo'));
  await mustDeploy(p.url, 'init-throws', fixture('functions', 'init-throws'));
  await mustDeploy(p.url, 'syntax-error', fixture('functions', 'syntax-error'));
  await mustDeploy(p.url, 'no-handler', fixture('functions', 'no-handler'));
  await mustDeploy(p.url, 'bad-module', fixture('functions', 'echo'), { handler: 'missing.handler' });
});

after(async () => {
  await p.cleanup();
});

async function fault(action: string, extra: Record<string, unknown> = {}) {
  const res = await invoke(p.url, 'faults', { action, ...extra });
  assert.equal(res.status, 200, 'function errors are 200 on Invoke');
  assert.equal(res.headers.get('x-amz-function-error'), 'Unhandled');
  const error = res.json() as { errorType: string; errorMessage: string; stackTrace?: string[] };
  // The platform and other functions keep serving after every fault.
  assert.equal((await invoke(p.url, 'faults', { action: 'ok' })).status, 200);
  assert.deepEqual(((await invoke(p.url, 'bystander', { still: 'here' })).json() as { event: unknown }).event, { still: 'here' });
  return error;
}

test('a thrown error becomes Lambda error JSON with its type and stack', async () => {
  const error = await fault('throw');
  assert.equal(error.errorType, 'TypeError');
  assert.equal(error.errorMessage, 'bad thing happened');
  assert.ok(Array.isArray(error.stackTrace) && error.stackTrace.some((l) => l.includes('index.js')));
  const thrown = await fault('string-throw');
  assert.equal(thrown.errorMessage, 'plain string');
});

test('the same fault through a route is a 502', async () => {
  const res = await fetch(`${p.url}/faults`, { method: 'POST', body: JSON.stringify({ action: 'throw' }) });
  assert.equal(res.status, 502);
  const body = (await res.json()) as { code: string; message: string };
  assert.equal(body.code, 'FUNCTION_ERROR');
  assert.equal(JSON.stringify(body).includes('at '), false, 'no stack trace on a route');
});

test('process.exit and a crash fail only their invocation; the instance is replaced', async () => {
  const first = (await invoke(p.url, 'faults', { action: 'ok' })).json() as { proc: string };
  const exit = await fault('exit');
  assert.equal(exit.errorType, 'Runtime.ExitError');
  assert.match(exit.errorMessage, /Runtime exited with error: exit status 3/);
  const crash = await fault('crash');
  assert.equal(crash.errorType, 'Runtime.ExitError');
  assert.match(crash.errorMessage, /signal: SIGSEGV/);
  const after = (await invoke(p.url, 'faults', { action: 'ok' })).json() as { proc: string };
  assert.notEqual(first.proc, after.proc);
});

test('an unhandled rejection fails the invocation', async () => {
  const error = await fault('reject-later');
  assert.equal(error.errorType, 'Runtime.UnhandledPromiseRejection');
  assert.match(error.errorMessage, /nobody catches me/);
});

test('an infinite loop is stopped at the timeout', async () => {
  const started = Date.now();
  const error = await fault('loop');
  assert.equal(error.errorType, 'Sandbox.Timedout');
  assert.match(error.errorMessage, /Task timed out after 2\.00 seconds/);
  assert.ok(Date.now() - started < 8000);
});

test('memory beyond the function\'s size fails the invocation (heap and native)', async () => {
  const heap = await fault('oom-heap');
  assert.match(heap.errorType, /^Runtime\.(ExitError|OutOfMemory)$/);
  const native = await fault('oom-native');
  assert.equal(native.errorType, 'Runtime.OutOfMemory');
  assert.match(native.errorMessage, /memory size 128 MB exceeded/);
});

test('a result that is not JSON-serialisable is a marshal error', async () => {
  assert.equal((await fault('bigint')).errorType, 'Runtime.MarshalError');
  assert.equal((await fault('circular')).errorType, 'Runtime.MarshalError');
});

test('a result over 6 MB is refused as Lambda does', async () => {
  const error = await fault('big', { bytes: 7 * 1024 * 1024 });
  assert.equal(error.errorType, 'Function.ResponseSizeTooLarge');
});

test('init failures report Lambda\'s error types', async () => {
  const check = async (name: string, type: string, message: RegExp) => {
    const res = await invoke(p.url, name);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-amz-function-error'), 'Unhandled');
    const error = res.json() as { errorType: string; errorMessage: string };
    assert.equal(error.errorType, type, `${name}: ${JSON.stringify(error)}`);
    assert.match(error.errorMessage, message);
  };
  await check('init-throws', 'Error', /cannot load the model at init/);
  await check('syntax-error', 'Runtime.UserCodeSyntaxError', /SyntaxError/);
  await check('no-handler', 'Runtime.HandlerNotFound', /index\.handler is undefined or not exported/);
  await check('bad-module', 'Runtime.ImportModuleError', /Cannot find module 'missing'/);
  assert.equal((await invoke(p.url, 'bystander')).status, 200);
});

test('function output is logged with the request id, between START and REPORT', async () => {
  const res = await invoke(p.url, 'faults', { action: 'log', lines: 2 });
  const id = res.headers.get('x-amzn-requestid')!;
  let messages: string[] = [];
  for (let i = 0; i < 50 && !messages.some((m) => m.startsWith('REPORT')); i++) {
    await new Promise((r) => setTimeout(r, 100));
    const logs = (await (await fetch(`${p.url}/_modelfn/v1/functions/faults/logs?requestId=${id}`)).json()) as { records: Array<{ message: string }> };
    messages = logs.records.map((r) => r.message);
  }
  assert.match(messages[0]!, new RegExp(`^START RequestId: ${id} Version: \\$LATEST`));
  assert.ok(messages.some((m) => new RegExp(`\\t${id}\\tINFO\\tline 0$`).test(m)));
  assert.ok(messages.some((m) => new RegExp(`\\t${id}\\tERROR\\tan error line$`).test(m)));
  assert.ok(messages.includes('raw stdout'));
  assert.ok(messages.includes('raw stderr'));
  assert.match(messages.at(-1)!, /^REPORT RequestId: .*Duration: .* ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB/);
  const tail = await invoke(p.url, 'faults', { action: 'log', lines: 1 }, { 'x-amz-log-type': 'Tail' });
  const log = Buffer.from(tail.headers.get('x-amz-log-result')!, 'base64').toString();
  assert.match(log, /START RequestId/);
  assert.match(log, /INFO\tline 0/);
  assert.match(log, /REPORT RequestId/);
});
