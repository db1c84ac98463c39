import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, fixture, invoke, mustDeploy, startPlatform } from '../support/platform.js';
import type { RunningPlatform } from '../support/platform.js';

let p: RunningPlatform;
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function';
const QARN = 'arn:aws:sqs:us-east-1:000000000000';

before(async () => {
  p = await startPlatform({ env: { MODELFN_ASYNC_RETRY_BASE_MS: '100' } });
});

after(async () => {
  await p.cleanup();
});

const lines = (file: string): any[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
const event = (name: string, body: unknown, headers: Record<string, string> = {}) => invoke(p.url, name, body, { 'x-amz-invocation-type': 'Event', ...headers });
const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${p.url}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
};
const deployRecorder = async (name: string, extra: Record<string, string> = {}) => {
  const file = join(p.dataDir, `${name}.jsonl`);
  await mustDeploy(p.url, name, fixture('functions', 'async-recorder'), { environment: { RECORD_FILE: file, ...extra } });
  return file;
};

test('Event invoke answers 202 with a request id once stored, then runs the function once', async () => {
  const file = await deployRecorder('basic');
  const res = await event('basic', { id: 'e1' });
  assert.equal(res.status, 202);
  const requestId = res.headers.get('x-amzn-requestid');
  assert.match(requestId ?? '', /^[0-9a-f-]{36}$/);
  assert.equal(res.body, '');
  const done = await eventually(() => lines(file).find((l) => l.id === 'e1'), 10_000, 'the event to run');
  assert.equal(done.requestId, requestId, 'the function sees the request id the caller got');
  const record = await eventually(async () => {
    const r = await api('GET', `/_modelfn/v1/invocations/${requestId}`);
    return r.json?.status === 'succeeded' ? r.json : undefined;
  }, 5000, 'the record to say succeeded');
  assert.equal(record.attempts, 1);
  assert.equal(record.functionName, 'basic');
  assert.equal(record.kind, 'event');
});

test('function errors are retried MaximumRetryAttempts times; a failing event then goes to the DLQ and the on-failure destination', async () => {
  const file = await deployRecorder('flaky');
  // Succeeds on the third attempt: two retries (the default).
  const ok = await event('flaky', { id: 'twice', failTimes: 2 });
  await eventually(() => lines(file).find((l) => l.id === 'twice'), 10_000, 'the third attempt');
  const okRecord = await eventually(async () => {
    const r = await api('GET', `/_modelfn/v1/invocations/${ok.headers.get('x-amzn-requestid')}`);
    return r.json?.status === 'succeeded' ? r.json : undefined;
  }, 5000, 'succeeded record');
  assert.equal(okRecord.attempts, 3);
  assert.equal(okRecord.functionErrors, 2);

  assert.equal((await api('PUT', '/_modelfn/v1/queues/flaky-dlq', {})).status, 201);
  assert.equal((await api('PUT', '/_modelfn/v1/queues/flaky-failures', {})).status, 201);
  const cfg = await fetch(`${p.url}/2019-09-25/functions/flaky/event-invoke-config`, {
    method: 'PUT',
    body: JSON.stringify({ MaximumRetryAttempts: 1, DestinationConfig: { OnFailure: { Destination: `${QARN}:flaky-failures` } } }),
  });
  assert.equal(cfg.status, 200);
  const dlq = await api('PUT', '/_modelfn/v1/functions/flaky/async-config', { deadLetterQueue: 'flaky-dlq' });
  assert.equal(dlq.status, 200);
  assert.equal(dlq.json.deadLetterConfig.TargetArn, `${QARN}:flaky-dlq`);

  const bad = await event('flaky', { id: 'never', failTimes: 99 });
  const requestId = bad.headers.get('x-amzn-requestid')!;
  const failed = await eventually(async () => {
    const r = await api('GET', `/_modelfn/v1/invocations/${requestId}`);
    return r.json?.status === 'failed' ? r.json : undefined;
  }, 10_000, 'the event to fail for good');
  assert.equal(failed.attempts, 2, 'one try and one retry');
  assert.equal(failed.detail.condition, 'RetriesExhausted');
  assert.equal(failed.error.type, 'Error');
  const dead = await api('GET', '/_modelfn/v1/functions/flaky/dead-letters');
  assert.equal(dead.json.messages.length, 1);
  assert.deepEqual(JSON.parse(dead.json.messages[0].body), { id: 'never', failTimes: 99 });
  assert.equal(dead.json.messages[0].attributes.RequestID, requestId);
  assert.match(dead.json.messages[0].attributes.ErrorMessage, /failing attempt 2 of never/);
  const failure = await api('POST', '/_modelfn/v1/queues/flaky-failures/receive', { maxMessages: 10 });
  assert.equal(failure.json.messages.length, 1);
  const record = JSON.parse(failure.json.messages[0].body);
  assert.equal(record.version, '1.0');
  assert.equal(record.requestContext.requestId, requestId);
  assert.equal(record.requestContext.functionArn, `${ARN}:flaky:$LATEST`);
  assert.equal(record.requestContext.condition, 'RetriesExhausted');
  assert.equal(record.requestContext.approximateInvokeCount, 2);
  assert.deepEqual(record.requestPayload, { id: 'never', failTimes: 99 });
  assert.equal(record.responseContext.statusCode, 200);
  assert.equal(record.responseContext.executedVersion, '$LATEST');
  assert.equal(record.responseContext.functionError, 'Unhandled');
  assert.equal(record.responsePayload.errorType, 'Error');

  // Re-drive: the dead letter runs again (and fails again, back into the DLQ).
  const redrive = await api('POST', '/_modelfn/v1/functions/flaky/dead-letters/redrive', {});
  assert.deepEqual(redrive.json, { redriven: 1 });
  await eventually(async () => (await api('GET', '/_modelfn/v1/functions/flaky/dead-letters')).json.messages.length === 1 || undefined, 10_000, 'the redriven event back in the DLQ');
  // The record's final state is written next to the dead letter, not before it: wait for both.
  await eventually(async () => (await api('GET', '/_modelfn/v1/functions/flaky/invocations?status=failed')).json.invocations.length === 2 || undefined, 5000, 'two failed invocations');
});

test('many events retried at once all reach a final state (retry timers are never lost)', async () => {
  const file = await deployRecorder('many');
  const n = 120;
  await Promise.all(Array.from({ length: n }, (_, i) => event('many', { id: `m${i}`, failTimes: 1 })));
  await eventually(() => new Set(lines(file).map((l) => l.id)).size === n || undefined, 20_000, `all ${n} events after one retry each`);
});

test('on-success destinations chain functions: A -> B -> C is configuration', async () => {
  const fileC = await deployRecorder('pipe-c', { STEP: 'C' });
  await deployRecorder('pipe-b', { STEP: 'B' });
  await deployRecorder('pipe-a', { STEP: 'A' });
  for (const [from, to] of [['pipe-a', 'pipe-b'], ['pipe-b', 'pipe-c']]) {
    const res = await fetch(`${p.url}/2019-09-25/functions/${from}/event-invoke-config`, {
      method: 'PUT',
      body: JSON.stringify({ DestinationConfig: { OnSuccess: { Destination: `${ARN}:${to}` } } }),
    });
    assert.equal(res.status, 200, await res.text());
  }
  const start = await event('pipe-a', { id: 'p1' });
  assert.equal(start.status, 202);
  const last = await eventually(() => lines(fileC)[0], 10_000, 'C to run');
  assert.deepEqual(last.path, ['A', 'B', 'C']);
});

test('the event invoke config operations have AWS\'s shapes', async () => {
  await deployRecorder('cfg');
  const url = `${p.url}/2019-09-25/functions/cfg/event-invoke-config`;
  const missing = await fetch(url);
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get('x-amzn-errortype'), 'ResourceNotFoundException');
  const put = await fetch(url, { method: 'PUT', body: JSON.stringify({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 3600 }) });
  const putBody = (await put.json()) as any;
  assert.equal(putBody.FunctionArn, `${ARN}:cfg:$LATEST`);
  assert.equal(putBody.MaximumRetryAttempts, 0);
  assert.equal(putBody.MaximumEventAgeInSeconds, 3600);
  assert.equal(typeof putBody.LastModified, 'number');
  const update = (await (await fetch(url, { method: 'POST', body: JSON.stringify({ MaximumRetryAttempts: 2 }) })).json()) as any;
  assert.equal(update.MaximumRetryAttempts, 2);
  assert.equal(update.MaximumEventAgeInSeconds, 3600, 'Update merges');
  const replaced = (await (await fetch(url, { method: 'PUT', body: JSON.stringify({ MaximumRetryAttempts: 1 }) })).json()) as any;
  assert.equal(replaced.MaximumEventAgeInSeconds, undefined, 'Put replaces');
  const list = (await (await fetch(`${url}/list`)).json()) as any;
  assert.equal(list.FunctionEventInvokeConfigs.length, 1);
  assert.equal((await fetch(url, { method: 'DELETE' })).status, 204);
  assert.equal((await fetch(url)).status, 404);
});

test('bad input: unknown function 404 at submit, payload over 1 MB 413, malformed settings 400 naming the field', async () => {
  const unknown = await event('no-such-fn', { x: 1 });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.headers.get('x-amzn-errortype'), 'ResourceNotFoundException');
  await deployRecorder('limits');
  const big = await event('limits', { blob: 'x'.repeat(1024 * 1024) });
  assert.equal(big.status, 413);
  assert.equal(big.headers.get('x-amzn-errortype'), 'RequestTooLargeException');
  const url = `${p.url}/2019-09-25/functions/limits/event-invoke-config`;
  const retries = await fetch(url, { method: 'PUT', body: JSON.stringify({ MaximumRetryAttempts: 3 }) });
  assert.equal(retries.status, 400);
  assert.match(((await retries.json()) as any).message, /MaximumRetryAttempts: must be between 0 and 2/);
  const age = await fetch(url, { method: 'PUT', body: JSON.stringify({ MaximumEventAgeInSeconds: 30 }) });
  assert.match(((await age.json()) as any).message, /MaximumEventAgeInSeconds: must be between 60 and 21600/);
  const dest = await fetch(url, { method: 'PUT', body: JSON.stringify({ DestinationConfig: { OnSuccess: { Destination: 'somewhere' } } }) });
  assert.equal(dest.status, 400);
  assert.match(((await dest.json()) as any).message, /DestinationConfig\.OnSuccess\.Destination/);
  const noFn = await fetch(`${p.url}/2019-09-25/functions/ghost/event-invoke-config`, { method: 'PUT', body: '{}' });
  assert.equal(noFn.status, 404);
  const noQueue = await api('PUT', '/_modelfn/v1/functions/limits/async-config', { deadLetterQueue: 'not-created' });
  assert.equal(noQueue.status, 404);
});

test('a route configured as async answers 202 with the request id and runs the function', async () => {
  const file = join(p.dataDir, 'route.jsonl');
  await mustDeploy(p.url, 'async-route', fixture('functions', 'async-recorder'), {
    environment: { RECORD_FILE: file },
    routes: [{ method: 'POST', path: '/jobs', async: true } as any],
  });
  const res = await fetch(`${p.url}/jobs`, { method: 'POST', body: '{"hello":1}' });
  assert.equal(res.status, 202);
  const body = (await res.json()) as any;
  assert.equal(body.requestId, res.headers.get('x-amzn-requestid'));
  const ran = await eventually(() => lines(file)[0], 10_000, 'the routed event');
  assert.equal(ran.requestId, body.requestId);
});
