// Pure parts of cluster mode: the per-node share of reserved concurrency, the wire frames, names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { token, untoken } from '../../../src/backends/nats/names.js';
import { ShareAdjuster, nodeShare } from '../../../src/cluster/reserved-share.js';
import { decodeFrame, encodeFrame, errorOf, errorReply, outcomeOf, outcomeReply } from '../../../src/cluster/wire.js';
import type { InvocationTarget } from '../../../src/scheduler/invocation.js';
import { ModelfnError } from '../../../src/shared/errors.js';

test('nodeShare: ceil(limit / nodes); the cluster total stays within limit + nodes - 1; zero stays zero', () => {
  assert.equal(nodeShare(10, 3), 4);
  assert.equal(nodeShare(9, 3), 3);
  assert.equal(nodeShare(1, 3), 1);
  assert.equal(nodeShare(0, 3), 0);
  assert.equal(nodeShare(5, 0), 5);
  for (let limit = 1; limit <= 50; limit++) {
    for (let nodes = 1; nodes <= 7; nodes++) {
      const total = nodes * nodeShare(limit, nodes);
      assert.ok(total >= limit && total <= limit + nodes - 1, `${limit} over ${nodes}`);
    }
  }
});

test('ShareAdjuster keeps one scaling object per node count (the scheduler compares by identity)', () => {
  let nodes = 3;
  const shares = new ShareAdjuster(() => nodes);
  const scaling = { reservedConcurrency: 7, keepAliveSec: null };
  const target = { config: {}, scaling, invokedFunctionArn: 'arn' } as unknown as InvocationTarget;
  const a = shares.adjust(target);
  assert.equal(a.scaling.reservedConcurrency, 3);
  assert.equal(shares.adjust(target).scaling, a.scaling);
  nodes = 2;
  assert.equal(shares.adjust(target).scaling.reservedConcurrency, 4);
  const free = { ...target, scaling: { reservedConcurrency: null, keepAliveSec: null } };
  assert.equal(shares.adjust(free), free);
});

test('frames carry payload bytes as they are; outcomes and errors round-trip', () => {
  const payload = Buffer.from([0, 1, 2, 255, 10, 13]);
  const { header, payload: back } = decodeFrame<{ a: number }>(encodeFrame({ a: 1 }, payload));
  assert.deepEqual(header, { a: 1 });
  assert.ok(back.equals(payload));
  const ok = outcomeReply('n1', { requestId: 'r', executedVersion: '$LATEST', result: { ok: true, payload }, durationMs: 1.5, billedDurationMs: 2, maxMemoryUsedMb: 30, logs: 'START\nEND' });
  const decoded = decodeFrame<typeof ok.header>(encodeFrame(ok.header, ok.payload));
  const outcome = outcomeOf(decoded.header as Extract<typeof ok.header, { kind: 'outcome' }>, decoded.payload);
  assert.ok(outcome.result.ok && outcome.result.payload.equals(payload));
  assert.equal(outcome.logs, 'START\nEND');
  const failed = outcomeReply('n1', { requestId: 'r', executedVersion: '1', result: { ok: false, error: { errorType: 'TypeError', errorMessage: 'x' } }, durationMs: 1, billedDurationMs: 1, maxMemoryUsedMb: 1 });
  assert.deepEqual(outcomeOf(failed.header as Extract<typeof failed.header, { kind: 'outcome' }>, Buffer.alloc(0)).result, { ok: false, error: { errorType: 'TypeError', errorMessage: 'x' } });
  const err = errorOf(errorReply('n1', new ModelfnError('TOO_MANY_REQUESTS', 'Rate Exceeded.', { details: { reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' } })) as Extract<ReturnType<typeof errorReply>, { kind: 'error' }>);
  assert.equal(err.code, 'TOO_MANY_REQUESTS');
  assert.equal(err.details.reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
  const hidden = errorReply('n1', new Error('secret path /etc'));
  assert.deepEqual(hidden, { kind: 'error', node: 'n1', code: 'INTERNAL', message: 'internal error' });
});

test('token maps any name to one subject token and back', () => {
  for (const name of ['$async:fn', 'GET /items/{id}', 'fn/rule.x', 'plain-Name9', 'ünï', '', '_']) {
    const t = token(name);
    assert.match(t, /^[A-Za-z0-9_-]+$/);
    assert.equal(untoken(t), name);
  }
  assert.notEqual(token('a_b'), token('a-b'));
});
