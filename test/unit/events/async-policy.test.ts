import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asyncConcurrencyCap, decideAfterAttempt, functionErrorDelayMs, isExpired, throttleDelayMs } from '../../../src/events/async/async-policy.js';
import { destinationRecord } from '../../../src/events/async/destination-record.js';

const base = { maximumRetryAttempts: 2, maximumEventAgeMs: 6 * 3600_000, acceptedAt: 0, now: 0, retryBaseMs: 60_000, functionErrors: 0, throttles: 0 };

test('function errors: retried after about 1 then 2 minutes, then RetriesExhausted', () => {
  assert.deepEqual(decideAfterAttempt({ ...base, result: 'function-error', functionErrors: 1 }), { kind: 'retry', delayMs: 60_000 });
  assert.deepEqual(decideAfterAttempt({ ...base, result: 'function-error', functionErrors: 2, now: 60_000 }), { kind: 'retry', delayMs: 120_000 });
  assert.deepEqual(decideAfterAttempt({ ...base, result: 'function-error', functionErrors: 3, now: 180_000 }), { kind: 'fail', condition: 'RetriesExhausted' });
  assert.deepEqual(decideAfterAttempt({ ...base, maximumRetryAttempts: 0, result: 'function-error', functionErrors: 1 }), { kind: 'fail', condition: 'RetriesExhausted' });
  assert.deepEqual(decideAfterAttempt({ ...base, result: 'success' }), { kind: 'done' });
});

test('throttles and system errors do not use up retries: they back off until the event is too old', () => {
  assert.deepEqual(decideAfterAttempt({ ...base, result: 'throttled', throttles: 1 }), { kind: 'retry', delayMs: 1000 });
  assert.deepEqual(decideAfterAttempt({ ...base, result: 'system-error', throttles: 4 }), { kind: 'retry', delayMs: 8000 });
  assert.equal(throttleDelayMs(40, 60_000), 300_000, 'capped at 5 minutes');
  const old = decideAfterAttempt({ ...base, maximumEventAgeMs: 60_000, result: 'throttled', throttles: 10, now: 59_000 });
  assert.deepEqual(old, { kind: 'fail', condition: 'EventAgeExceeded' });
  const retriesLeftButTooOld = decideAfterAttempt({ ...base, maximumEventAgeMs: 90_000, result: 'function-error', functionErrors: 1, now: 40_000 });
  assert.deepEqual(retriesLeftButTooOld, { kind: 'fail', condition: 'EventAgeExceeded' });
  assert.equal(isExpired(0, 60_000, 60_001), true);
  assert.equal(isExpired(0, 60_000, 60_000), false);
  assert.equal(functionErrorDelayMs(1, 100), 100);
  assert.equal(functionErrorDelayMs(2, 100), 200);
});

test('async concurrency leaves one instance for synchronous calls when it can', () => {
  assert.equal(asyncConcurrencyCap(null, 4), 4);
  assert.equal(asyncConcurrencyCap(5, 4), 4);
  assert.equal(asyncConcurrencyCap(2, 4), 1);
  assert.equal(asyncConcurrencyCap(1, 4), 1);
  assert.equal(asyncConcurrencyCap(0, 4), 1, 'a switched-off function still drains its queue (throttled until too old)');
});

test('destination records have Lambda\'s format', () => {
  const record = destinationRecord({
    now: Date.UTC(2026, 0, 2, 3, 4, 5),
    requestId: 'r-1',
    functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST',
    condition: 'Success',
    attempts: 1,
    requestPayload: Buffer.from('{"a":1}'),
    executedVersion: '$LATEST',
    responsePayload: Buffer.from('"done"'),
  });
  assert.deepEqual(record, {
    version: '1.0',
    timestamp: '2026-01-02T03:04:05.000Z',
    requestContext: { requestId: 'r-1', functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST', condition: 'Success', approximateInvokeCount: 1 },
    requestPayload: { a: 1 },
    responseContext: { statusCode: 200, executedVersion: '$LATEST' },
    responsePayload: 'done',
  });
  const failed = destinationRecord({ now: 0, requestId: 'r', functionArn: 'x', condition: 'EventAgeExceeded', attempts: 0, requestPayload: Buffer.from('not json'), executedVersion: '1' });
  assert.equal(failed.requestPayload, 'not json');
  assert.equal(failed.responsePayload, null);
  assert.equal(failed.requestContext.condition, 'EventAgeExceeded');
});
