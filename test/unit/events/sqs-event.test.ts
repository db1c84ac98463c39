import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchItemFailures, sqsEvent } from '../../../src/events/queues/sqs-event.js';

test('the SQS event has the shape SQS-triggered Lambda handlers expect', () => {
  const event = sqsEvent(
    [{ messageId: 'm1', receiptHandle: '1.abc', body: Buffer.from('hello'), attributes: { color: 'red' }, sentAt: 1000, receiveCount: 2, firstReceivedAt: 1500 }],
    'arn:aws:sqs:us-east-1:000000000000:q',
    { region: 'us-east-1', accountId: '000000000000' },
  );
  assert.deepEqual(event, {
    Records: [
      {
        messageId: 'm1',
        receiptHandle: '1.abc',
        body: 'hello',
        attributes: { ApproximateReceiveCount: '2', SentTimestamp: '1000', SenderId: '000000000000', ApproximateFirstReceiveTimestamp: '1500' },
        messageAttributes: { color: { stringValue: 'red', stringListValues: [], binaryListValues: [], dataType: 'String' } },
        md5OfBody: '5d41402abc4b2a76b9719d911017c592',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:q',
        awsRegion: 'us-east-1',
      },
    ],
  });
});

test('batchItemFailures: listed ids fail; empty or absent means success; malformed fails the whole batch', () => {
  const ids = new Set(['a', 'b']);
  const f = (v: unknown) => batchItemFailures(Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)), ids);
  assert.deepEqual(f({ batchItemFailures: [{ itemIdentifier: 'b' }] }), new Set(['b']));
  assert.deepEqual(f({ batchItemFailures: [] }), new Set());
  assert.deepEqual(f(null), new Set());
  assert.deepEqual(f({ other: 1 }), new Set());
  assert.equal(f({ batchItemFailures: [{ itemIdentifier: '' }] }), 'all');
  assert.equal(f({ batchItemFailures: [{ itemIdentifier: 'zzz' }] }), 'all');
  assert.equal(f({ batchItemFailures: 'b' }), 'all');
  assert.equal(f('{not json'), 'all');
});
