import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  billedDurationMs,
  ewma,
  functionConcurrencyLimit,
  idleInstancesToStop,
  instancesToStart,
  mayQueue,
} from '../../../src/scheduler/policies.js';

test('a burst to a cold function starts one instance per waiter, capped by reserved concurrency', () => {
  assert.equal(instancesToStart({ waiting: 50, starting: 0, functionInstances: 0, functionLimit: 5 }), 5);
  assert.equal(instancesToStart({ waiting: 50, starting: 5, functionInstances: 5, functionLimit: 5 }), 0);
  assert.equal(instancesToStart({ waiting: 3, starting: 0, functionInstances: 0, functionLimit: 1000 }), 3);
});

test('waiters already covered by starting instances do not start more', () => {
  assert.equal(instancesToStart({ waiting: 4, starting: 4, functionInstances: 4, functionLimit: 100 }), 0);
  assert.equal(instancesToStart({ waiting: 6, starting: 4, functionInstances: 4, functionLimit: 100 }), 2);
});

test('past the eager instances, a busy pool that frees up faster than a cold start queues instead', () => {
  const base = { starting: 0, functionInstances: 4, functionLimit: 100, busy: 4, eagerInstances: 4, meanColdStartMs: 60 };
  // 4 busy instances at 1 ms each serve 240 waiters before a new instance could be ready.
  assert.equal(instancesToStart({ ...base, waiting: 30, meanServiceMs: 1 }), 0);
  // Slow invocations (500 ms) are not worth waiting for: every waiter gets a start.
  assert.equal(instancesToStart({ ...base, waiting: 30, meanServiceMs: 500 }), 30);
  // Without measurements the policy is Lambda's: one start per waiter.
  assert.equal(instancesToStart({ ...base, waiting: 30, meanServiceMs: undefined }), 30);
  // Below the eager count, always one start per waiter.
  assert.equal(instancesToStart({ ...base, busy: 2, functionInstances: 2, waiting: 3, meanServiceMs: 1 }), 3);
});

test('waiters that waited longer than a cold start are never left to busy instances', () => {
  const base = { starting: 0, functionInstances: 4, functionLimit: 100, busy: 4, eagerInstances: 4, meanColdStartMs: 60, meanServiceMs: 1 };
  assert.equal(instancesToStart({ ...base, waiting: 10, waitingLong: 3 }), 3);
  assert.equal(instancesToStart({ ...base, waiting: 10, waitingLong: 3, starting: 3 }), 0);
});

test('idle instances stop once their keep-alive has run out, by the injected clock', () => {
  const idle = [
    { id: 'a', idleSince: 0 },
    { id: 'b', idleSince: 5_000 },
    { id: 'c', idleSince: 9_999 },
  ];
  assert.deepEqual(idleInstancesToStop(idle, 10_000, 10_000), ['a']);
  assert.deepEqual(idleInstancesToStop(idle, 15_000, 10_000), ['a', 'b']);
  assert.deepEqual(idleInstancesToStop(idle, 20_000, 10_000), ['a', 'b', 'c']);
  assert.deepEqual(idleInstancesToStop(idle, 10_000, 0), ['a', 'b', 'c']);
});

test('the queue takes requests only while it is short', () => {
  assert.equal(mayQueue({ queueLength: 0, maxQueueLength: 1 }), true);
  assert.equal(mayQueue({ queueLength: 1, maxQueueLength: 1 }), false);
  assert.equal(mayQueue({ queueLength: 0, maxQueueLength: 0 }), false);
});

test('reserved concurrency is a cap and a floor; others share the rest of the account limit', () => {
  assert.equal(functionConcurrencyLimit({ reservedConcurrency: 5, accountLimit: 1000, totalReserved: 5, minUnreserved: 100 }), 5);
  assert.equal(functionConcurrencyLimit({ reservedConcurrency: null, accountLimit: 1000, totalReserved: 300, minUnreserved: 100 }), 700);
  assert.equal(functionConcurrencyLimit({ reservedConcurrency: null, accountLimit: 1000, totalReserved: 950, minUnreserved: 100 }), 100);
  assert.equal(functionConcurrencyLimit({ reservedConcurrency: 0, accountLimit: 1000, totalReserved: 0, minUnreserved: 100 }), 0);
});

test('billing rounds up to the millisecond, at least 1 ms', () => {
  assert.equal(billedDurationMs(0.2), 1);
  assert.equal(billedDurationMs(12.01), 13);
  assert.equal(billedDurationMs(12), 12);
});

test('ewma starts at the first sample and moves a fifth of the way', () => {
  assert.equal(ewma(undefined, 10), 10);
  assert.equal(ewma(10, 20), 12);
});
