// The MessageQueue contract as a reusable suite: every backend (SQLite, JetStream) runs it with its
// own factory. Time is real but short (visibility timeouts of a few hundred ms), so a
// backend whose clock lives in a server can run it unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageQueue, QueueConfig } from '../../src/events/queue.js';
import { isModelfnError } from '../../src/shared/errors.js';
import type { Harness, HarnessFactory } from './harness.js';
import { sleep } from './harness.js';
const body = (s: string) => Buffer.from(s);
const config = (over: Partial<QueueConfig> = {}): QueueConfig => ({ visibilityTimeoutMs: 30_000, retentionMs: 0, delayMs: 0, ...over });

/** Register the contract tests under `name` for the backend built by `factory`. */
export function queueContract(name: string, factory: HarnessFactory<MessageQueue>): void {
  const withQueue = (title: string, fn: (q: MessageQueue, h: Harness<MessageQueue>) => Promise<void>): void => {
    test(`${name}: ${title}`, async (t) => {
      const h = await factory(t);
      if (!h) return;
      try {
        await fn(h.subject, h);
      } finally {
        await h.close();
      }
    });
  };

  withQueue('queues are created, updated, listed and deleted', async (q) => {
    await q.putQueue('a', config());
    await q.putQueue('b', config({ visibilityTimeoutMs: 5000 }));
    await q.putQueue('b', config({ visibilityTimeoutMs: 7000 }));
    assert.deepEqual((await q.listQueues()).map((x) => x.name), ['a', 'b']);
    assert.equal((await q.getQueue('b'))?.config.visibilityTimeoutMs, 7000);
    assert.equal(await q.deleteQueue('a'), true);
    assert.equal(await q.deleteQueue('a'), false);
    assert.equal(await q.getQueue('a'), undefined);
    await assert.rejects(q.send('a', [{ body: body('x') }]), (err) => isModelfnError(err, 'RESOURCE_NOT_FOUND'));
  });

  withQueue('a received message is invisible until its lease runs out, then redelivered', async (q) => {
    await q.putQueue('q', config({ visibilityTimeoutMs: 250 }));
    await q.send('q', [{ body: body('hello'), attributes: { k: 'v' } }]);
    const [first] = await q.receive('q', { maxMessages: 10 });
    assert.ok(first);
    assert.equal(first.body.toString(), 'hello');
    assert.deepEqual(first.attributes, { k: 'v' });
    assert.equal(first.receiveCount, 1);
    assert.deepEqual(await q.receive('q', { maxMessages: 10 }), []);
    assert.deepEqual(await q.depth('q'), { visible: 0, inFlight: 1, delayed: 0 });
    await sleep(350);
    const [again] = await q.receive('q', { maxMessages: 10 });
    assert.ok(again);
    assert.equal(again.messageId, first.messageId);
    assert.equal(again.receiveCount, 2);
    assert.equal(await q.ack('q', first.receiptHandle), false, 'a stale receipt acknowledges nothing');
    assert.equal(await q.ack('q', again.receiptHandle), true);
    assert.deepEqual(await q.depth('q'), { visible: 0, inFlight: 0, delayed: 0 });
    assert.equal(await q.nextVisibleAt('q'), undefined);
  });

  withQueue('nothing is removed before ack: nak puts a message back, now or after a delay', async (q) => {
    await q.putQueue('q', config());
    await q.send('q', [{ body: body('m') }]);
    const [m] = await q.receive('q', { maxMessages: 1 });
    assert.equal(await q.nak('q', m!.receiptHandle, 0), true);
    const [m2] = await q.receive('q', { maxMessages: 1 });
    assert.equal(m2?.receiveCount, 2);
    const before = Date.now();
    assert.equal(await q.nak('q', m2!.receiptHandle, 300), true);
    assert.deepEqual(await q.receive('q', { maxMessages: 1 }), []);
    const depth = await q.depth('q');
    assert.equal(depth.delayed + depth.visible, 1);
    const next = await q.nextVisibleAt('q');
    assert.ok(next !== undefined && next >= before + 250, `next visible ${next} about 300 ms after ${before}`);
    await sleep(350);
    const [m3] = await q.receive('q', { maxMessages: 1 });
    assert.equal(m3?.receiveCount, 3);
  });

  withQueue('oldest first; a message put back with a delay goes behind the others', async (q) => {
    await q.putQueue('q', config());
    await q.send('q', [{ body: body('1') }, { body: body('2') }]);
    await q.send('q', [{ body: body('3') }]);
    const [one] = await q.receive('q', { maxMessages: 1 });
    assert.equal(one!.body.toString(), '1');
    await q.nak('q', one!.receiptHandle, 50);
    await sleep(80);
    const rest = await q.receive('q', { maxMessages: 10 });
    assert.deepEqual(rest.map((m) => m.body.toString()), ['2', '3', '1']);
  });

  withQueue('a message received maxReceiveCount times moves to the dead-letter queue; the others keep flowing', async (q) => {
    await q.putQueue('dlq', config());
    await q.putQueue('q', config({ visibilityTimeoutMs: 100, maxReceiveCount: 2, deadLetterQueue: 'dlq' }));
    await q.send('q', [{ body: body('poison') }]);
    for (let i = 0; i < 2; i++) {
      const got = await q.receive('q', { maxMessages: 1 });
      assert.equal(got[0]?.body.toString(), 'poison');
      await sleep(130); // never acknowledged: the consumer "crashes" on it
    }
    await q.send('q', [{ body: body('good') }]);
    const next = await q.receive('q', { maxMessages: 10 });
    assert.deepEqual(next.map((m) => m.body.toString()), ['good']);
    const dead = await q.receive('dlq', { maxMessages: 10 });
    assert.deepEqual(dead.map((m) => m.body.toString()), ['poison']);
  });

  withQueue('peek reads without leasing; purge empties; a send delay hides a message', async (q) => {
    await q.putQueue('q', config({ delayMs: 0 }));
    await q.send('q', [{ body: body('a') }, { body: body('b'), delayMs: 200 }]);
    assert.deepEqual((await q.peek('q', 10)).map((m) => m.body.toString()), ['a', 'b']);
    assert.deepEqual((await q.receive('q', { maxMessages: 10 })).map((m) => m.body.toString()), ['a']);
    assert.equal((await q.depth('q')).delayed, 1);
    assert.equal(await q.purge('q'), 2);
    assert.deepEqual(await q.depth('q'), { visible: 0, inFlight: 0, delayed: 0 });
  });

  withQueue('retention drops old messages on sweep', async (q) => {
    await q.putQueue('short', config({ retentionMs: 100 }));
    await q.putQueue('forever', config());
    await q.send('short', [{ body: body('x') }]);
    await q.send('forever', [{ body: body('y') }]);
    await sleep(150);
    assert.equal(await q.sweep(Date.now()), 1);
    assert.equal((await q.depth('forever')).visible, 1);
  });

  withQueue('watchers hear about sends; concurrent sends are all stored', async (q) => {
    await q.putQueue('q', config());
    const heard: string[] = [];
    const stop = q.watch((name) => heard.push(name));
    await Promise.all(Array.from({ length: 200 }, (_, i) => q.send('q', [{ body: body(String(i)) }])));
    stop();
    assert.ok(heard.length >= 1 && heard.every((n) => n === 'q'));
    const all = [];
    for (;;) {
      const got = await q.receive('q', { maxMessages: 50 });
      if (got.length === 0) break;
      all.push(...got);
    }
    assert.equal(new Set(all.map((m) => m.body.toString())).size, 200);
  });

  withQueue('a receive visibility override, and receipts of another queue do nothing', async (q) => {
    await q.putQueue('q', config());
    await q.putQueue('other', config());
    await q.send('q', [{ body: body('x') }]);
    const [m] = await q.receive('q', { maxMessages: 1, visibilityTimeoutMs: 100 });
    assert.equal(await q.ack('other', m!.receiptHandle), false);
    assert.equal(await q.ack('q', 'not-a-receipt'), false);
    await sleep(150);
    assert.equal((await q.receive('q', { maxMessages: 1 })).length, 1);
  });

  withQueue('messages survive a restart', async (q, h) => {
    if (!h.reopen) return;
    await q.putQueue('q', config());
    await q.send('q', [{ body: body('kept') }]);
    const reopened = await h.reopen();
    assert.deepEqual((await reopened.receive('q', { maxMessages: 1 })).map((m) => m.body.toString()), ['kept']);
  });
}
