import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AsyncInvoker } from '../../../src/events/async/async-invoker.js';
import type { AsyncInvokerOptions } from '../../../src/events/async/async-invoker.js';
import { asyncQueueName } from '../../../src/events/queues/queue-names.js';

test('a failed listing of the async queues at start does not fail the start; the stored events run once the store answers', async () => {
  let listings = 0;
  const received: string[] = [];
  const warnings: string[] = [];
  const queue = {
    watch: () => () => undefined,
    listQueues: async () => {
      listings++;
      // The first answer is what a JetStream leader election that outlasts a read looks like.
      if (listings === 1) throw Object.assign(new Error('TIMEOUT'), { code: 'TIMEOUT' });
      return [{ name: asyncQueueName('fn') }];
    },
    receive: async (name: string) => {
      received.push(name);
      return [];
    },
    nextVisibleAt: async () => undefined,
  };
  const log = { warn: (_o: unknown, msg: string) => warnings.push(msg), error: () => undefined, info: () => undefined };
  const invoker = new AsyncInvoker({
    registry: { get: () => undefined },
    queue,
    clock: { now: () => Date.now() },
    log,
    defaultConcurrency: 10,
    maxQueueWaitMs: 1000,
  } as unknown as AsyncInvokerOptions);
  await invoker.start();
  assert.equal(listings, 1);
  assert.deepEqual(received, []);
  assert.match(warnings[0] ?? '', /could not list the async event queues/);
  const deadline = Date.now() + 10_000;
  while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(listings, 2);
  assert.deepEqual(received, [asyncQueueName('fn')]);
  await invoker.stop(0);
});
