import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, fixture, mustDeploy, sleep, startPlatform } from '../support/platform.js';
import type { RunningPlatform } from '../support/platform.js';

let p: RunningPlatform;
const QARN = 'arn:aws:sqs:us-east-1:000000000000';

before(async () => {
  p = await startPlatform({ env: { MODELFN_SCHEDULE_SECONDS: '1', MODELFN_ASYNC_RETRY_BASE_MS: '100' } });
});

after(async () => {
  await p.cleanup();
});

const lines = (file: string): any[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${p.url}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
};

test('queues: send, receive with a visibility timeout, delete by receipt, depth, purge', async () => {
  const created = await api('PUT', '/_modelfn/v1/queues/work', { visibilityTimeoutSec: 1 });
  assert.equal(created.status, 201);
  assert.equal(created.json.arn, `${QARN}:work`);
  const sent = await api('POST', '/_modelfn/v1/queues/work/messages', { messages: [{ body: 'a', attributes: { k: 'v' } }, { body: 'b' }] });
  assert.equal(sent.json.messages.length, 2);
  assert.equal(sent.json.messages[0].md5OfBody, '0cc175b9c0f1b6a831c399e269772661');
  const got = await api('POST', '/_modelfn/v1/queues/work/receive', { maxMessages: 10 });
  assert.deepEqual(got.json.messages.map((m: any) => m.body), ['a', 'b']);
  assert.deepEqual(got.json.messages[0].attributes, { k: 'v' });
  const depth = await api('GET', '/_modelfn/v1/queues/work');
  assert.equal(depth.json.messagesInFlight, 2);
  assert.equal((await api('DELETE', `/_modelfn/v1/queues/work/messages/${got.json.messages[0].receiptHandle}`)).status, 204);
  await sleep(1100);
  const again = await api('POST', '/_modelfn/v1/queues/work/receive', { maxMessages: 10, waitTimeSec: 1 });
  assert.deepEqual(again.json.messages.map((m: any) => [m.body, m.receiveCount]), [['b', 2]]);
  assert.deepEqual((await api('POST', '/_modelfn/v1/queues/work/purge')).json, { purged: 1 });
  assert.equal((await api('GET', '/_modelfn/v1/queues')).json.queues.some((q: any) => q.name === 'work'), true);
  assert.equal((await api('DELETE', '/_modelfn/v1/queues/work')).status, 204);
  assert.equal((await api('GET', '/_modelfn/v1/queues/work')).status, 404);
});

test('queue bad input is 400 naming the field', async () => {
  const badName = await api('PUT', '/_modelfn/v1/queues/bad.name', {});
  assert.equal(badName.status, 400);
  assert.match(badName.json.message, /queue name/);
  await api('PUT', '/_modelfn/v1/queues/q2', {});
  const tooMany = await api('POST', '/_modelfn/v1/queues/q2/receive', { maxMessages: 11 });
  assert.equal(tooMany.status, 400);
  assert.match(tooMany.json.message, /maxMessages: must be between 1 and 10/);
  const noDlq = await api('PUT', '/_modelfn/v1/queues/q3', { deadLetterQueue: 'missing', maxReceiveCount: 2 });
  assert.match(noDlq.json.message, /deadLetterQueue: queue missing does not exist/);
  const empty = await api('POST', '/_modelfn/v1/queues/q2/messages', { messages: [] });
  assert.match(empty.json.message, /messages: send at least one message/);
});

test('an event source mapping delivers SQS-shaped batches; batchItemFailures re-queue only the failed one, which ends in the DLQ without blocking the rest', async () => {
  const file = join(p.dataDir, 'sqs.jsonl');
  await mustDeploy(p.url, 'consumer', fixture('functions', 'async-recorder'), { environment: { RECORD_FILE: file } });
  await api('PUT', '/_modelfn/v1/queues/orders-dlq', {});
  // Visibility must cover the batching window plus the function's run (AWS advises 6 × the timeout).
  await api('PUT', '/_modelfn/v1/queues/orders', { visibilityTimeoutSec: 3, deadLetterQueue: 'orders-dlq', maxReceiveCount: 2 });
  await api('POST', '/_modelfn/v1/queues/orders/messages', { messages: ['o1', 'fail', 'o2', 'o3'].map((body) => ({ body })) });
  const created = await fetch(`${p.url}/2015-03-31/event-source-mappings/`, {
    method: 'POST',
    body: JSON.stringify({ FunctionName: 'consumer', EventSourceArn: `${QARN}:orders`, BatchSize: 10, MaximumBatchingWindowInSeconds: 1, FunctionResponseTypes: ['ReportBatchItemFailures'] }),
  });
  assert.equal(created.status, 202);
  const mapping = (await created.json()) as any;
  assert.match(mapping.UUID, /^[0-9a-f-]{36}$/);
  assert.equal(mapping.FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:consumer');
  assert.equal(mapping.BatchSize, 10);
  assert.deepEqual(mapping.FunctionResponseTypes, ['ReportBatchItemFailures']);
  await api('POST', '/_modelfn/v1/queues/orders/messages', { messages: [{ body: 'o4' }] });
  const dead = await eventually(async () => {
    const d = await api('POST', '/_modelfn/v1/queues/orders-dlq/receive', { maxMessages: 10 });
    return d.json.messages.length > 0 ? d.json.messages : undefined;
  }, 15_000, 'the poisoned message in the DLQ');
  assert.deepEqual(dead.map((m: any) => m.body), ['fail']);
  const bodies = lines(file).filter((l) => l.body !== undefined);
  for (const b of ['o1', 'o2', 'o3', 'o4']) assert.equal(bodies.filter((l) => l.body === b).length, 1, `${b} delivered once`);
  assert.equal(bodies.filter((l) => l.body === 'fail').length, 2, 'the failing message was tried maxReceiveCount times');
  assert.ok(bodies.every((l) => l.source === 'aws:sqs'));
  const depth = await api('GET', '/_modelfn/v1/queues/orders');
  assert.equal(depth.json.messages + depth.json.messagesInFlight, 0);

  const got = (await (await fetch(`${p.url}/2015-03-31/event-source-mappings/${mapping.UUID}`)).json()) as any;
  assert.equal(got.State, 'Enabled');
  const list = (await (await fetch(`${p.url}/2015-03-31/event-source-mappings/?FunctionName=consumer`)).json()) as any;
  assert.equal(list.EventSourceMappings.length, 1);
  const disabled = await fetch(`${p.url}/2015-03-31/event-source-mappings/${mapping.UUID}`, { method: 'PUT', body: JSON.stringify({ Enabled: false }) });
  assert.equal(((await disabled.json()) as any).State, 'Disabled');
  const deleted = await fetch(`${p.url}/2015-03-31/event-source-mappings/${mapping.UUID}`, { method: 'DELETE' });
  assert.equal(((await deleted.json()) as any).State, 'Deleting');
  assert.equal((await fetch(`${p.url}/2015-03-31/event-source-mappings/${mapping.UUID}`)).status, 404);
});

test('malformed mappings are 400 naming the field; unknown functions 404', async () => {
  await api('PUT', '/_modelfn/v1/queues/m1', {});
  const create = (body: unknown) => fetch(`${p.url}/2015-03-31/event-source-mappings/`, { method: 'POST', body: JSON.stringify(body) });
  const cases: Array<[unknown, number, RegExp]> = [
    [{ FunctionName: 'consumer', EventSourceArn: `${QARN}:m1`, BatchSize: 20_000 }, 400, /BatchSize: must be between 1 and 10000/],
    [{ FunctionName: 'consumer', EventSourceArn: `${QARN}:m1`, BatchSize: 50 }, 400, /MaximumBatchingWindowInSeconds/],
    [{ FunctionName: 'consumer', EventSourceArn: `${QARN}:m1`, MaximumBatchingWindowInSeconds: 301 }, 400, /MaximumBatchingWindowInSeconds: must be between 0 and 300/],
    [{ FunctionName: 'consumer', EventSourceArn: `${QARN}:nope` }, 400, /EventSourceArn: queue nope does not exist/],
    [{ FunctionName: 'consumer', EventSourceArn: 'not-an-arn' }, 400, /EventSourceArn/],
    [{ FunctionName: 'consumer', EventSourceArn: `${QARN}:m1`, FunctionResponseTypes: ['Other'] }, 400, /FunctionResponseTypes/],
    [{ FunctionName: 'ghost', EventSourceArn: `${QARN}:m1` }, 404, /Function not found/],
  ];
  for (const [body, status, re] of cases) {
    const res = await create(body);
    const json = (await res.json()) as any;
    assert.equal(res.status, status, JSON.stringify(body));
    assert.match(json.message, re);
  }
});

test('schedules fire the scheduled-event JSON on their rate; malformed ones are 400 naming the field', async () => {
  const file = join(p.dataDir, 'sched.jsonl');
  await mustDeploy(p.url, 'ticker', fixture('functions', 'async-recorder'), { environment: { RECORD_FILE: file, RECORD_EVENT: '1' } });
  const bad = await api('PUT', '/_modelfn/v1/functions/ticker/schedules/every', { expression: 'cron(0 12 * * * *)' });
  assert.equal(bad.status, 400);
  assert.match(bad.json.message, /expression: .*Day-of-month and Day-of-week/);
  const put = await api('PUT', '/_modelfn/v1/functions/ticker/schedules/every', { expression: 'rate(1 second)' });
  assert.equal(put.status, 201);
  assert.equal(put.json.arn, 'arn:aws:events:us-east-1:000000000000:rule/every');
  const runs = await eventually(() => (lines(file).length >= 2 ? lines(file) : undefined), 10_000, 'two scheduled runs');
  const e = runs[0].event;
  assert.equal(e['detail-type'], 'Scheduled Event');
  assert.equal(e.source, 'aws.events');
  assert.deepEqual(e.resources, ['arn:aws:events:us-east-1:000000000000:rule/every']);
  assert.match(e.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.notEqual(runs[0].event.time, runs[1].event.time);
  const listed = await api('GET', '/_modelfn/v1/functions/ticker/schedules');
  assert.equal(listed.json.schedules[0].expression, 'rate(1 second)');
  assert.ok(listed.json.schedules[0].lastRun);
  assert.equal((await api('DELETE', '/_modelfn/v1/functions/ticker/schedules/every')).status, 204);
  const count = lines(file).length;
  await sleep(2500);
  assert.ok(lines(file).length <= count + 1, 'a deleted schedule stops firing');
});
