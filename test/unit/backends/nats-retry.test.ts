// Which JetStream failures a node waits out (a leader election, a server recovering) and which it
// reports at once (a server without JetStream), without a NATS server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, NatsError } from 'nats';
import type { NatsConnection } from 'nats';
import type { NatsContext } from '../../../src/backends/nats/connection.js';
import { isElectionOrTimeout, isTransient, openKv, retryTransient } from '../../../src/backends/nats/connection.js';

/** A JetStream API error as the client raises it (a 503 becomes its "JetStream not enabled" code). */
function apiError(status: number, errCode: number, description: string): NatsError {
  const err = new NatsError(description, status === 503 ? ErrorCode.JetStreamNotEnabled : `${status}`);
  err.api_error = { code: status, err_code: errCode, description };
  return err;
}

const timeout = () => NatsError.errorForCode(ErrorCode.Timeout);
const noResponders = () => NatsError.errorForCode(ErrorCode.NoResponders);
const unavailable = () => apiError(503, 10008, 'JetStream system temporarily unavailable');
const noLeader = () => apiError(500, 10009, 'JetStream cluster can not handle request');
const notEnabledForAccount = () => apiError(503, 10039, 'jetstream not enabled for account');
const badRequest = () => apiError(400, 10003, 'bad request');

test('a leader election and timeouts are waited out; a server without JetStream is not', () => {
  for (const err of [timeout(), unavailable(), noLeader()]) {
    assert.equal(isTransient(err), true, err.message);
    assert.equal(isElectionOrTimeout(err), true, err.message);
  }
  // No responders: a server recovering its streams after a restart (waited out once JetStream
  // is known to be there), or one without JetStream at all (not waited for at start).
  assert.equal(isTransient(noResponders()), true);
  assert.equal(isElectionOrTimeout(noResponders()), false);
  assert.equal(isElectionOrTimeout(notEnabledForAccount()), false);
  for (const err of [badRequest(), new Error('boom')]) {
    assert.equal(isTransient(err), false, err.message);
    assert.equal(isElectionOrTimeout(err), false, err.message);
  }
});

function fakeNc(closed = false): NatsConnection {
  return { isClosed: () => closed } as unknown as NatsConnection;
}

test('retryTransient: retries what its predicate allows, within its budget, and not on a closed connection', async () => {
  let calls = 0;
  const value = await retryTransient({ nc: fakeNc() }, async () => {
    calls++;
    if (calls < 3) throw noLeader();
    return 'ready';
  }, 5_000);
  assert.equal(value, 'ready');
  assert.equal(calls, 3);

  calls = 0;
  await assert.rejects(retryTransient({ nc: fakeNc() }, async () => {
    calls++;
    throw noResponders();
  }, 5_000, isElectionOrTimeout), (err: NatsError) => err.code === ErrorCode.NoResponders);
  assert.equal(calls, 1, 'a server without JetStream fails at once');

  calls = 0;
  const started = Date.now();
  await assert.rejects(retryTransient({ nc: fakeNc() }, async () => {
    calls++;
    throw timeout();
  }, 300));
  assert.ok(calls >= 2 && Date.now() - started < 2_000, `${calls} calls in ${Date.now() - started} ms`);

  calls = 0;
  await assert.rejects(retryTransient({ nc: fakeNc(true) }, async () => {
    calls++;
    throw timeout();
  }, 5_000));
  assert.equal(calls, 1, 'a closed connection is not retried');
});

test('opening a bucket rides out a leader election and keeps its settings', async () => {
  let attempts = 0;
  const seen: unknown[] = [];
  const kv = { bucket: 'b' };
  const ctx = {
    nc: fakeNc(),
    replicas: 3,
    js: {
      views: {
        kv: async (name: string, settings: unknown) => {
          attempts++;
          seen.push([name, settings]);
          if (attempts === 1) throw unavailable();
          if (attempts === 2) throw timeout();
          return kv;
        },
      },
    },
  } as unknown as NatsContext;
  assert.equal(await openKv(ctx, 'modelfn_test', { ttlMs: 1000 }), kv);
  assert.equal(attempts, 3);
  assert.deepEqual(seen[2], ['modelfn_test', { replicas: 3, history: 1, ttl: 1000, allow_direct: false }]);
  // Anything else is reported as it is.
  const failing = { ...ctx, js: { views: { kv: async () => Promise.reject(badRequest()) } } } as unknown as NatsContext;
  await assert.rejects(openKv(failing, 'modelfn_test'), /bad request/);
});
