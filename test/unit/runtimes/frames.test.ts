import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FRAME, FrameBatch, FrameDecoder, encodeFrame } from '../../../src/runtimes/nodejs/bootstrap/frames.js';
import type { Frame } from '../../../src/runtimes/nodejs/bootstrap/frames.js';

test('frames survive any split of the byte stream', () => {
  const frames = [
    encodeFrame(FRAME.invoke, '{"id":"a"}', Buffer.from('{"x":1}')),
    encodeFrame(FRAME.result, '{"id":"a"}', 'é'.repeat(1000)),
    encodeFrame(FRAME.ready, '{}'),
  ];
  const stream = Buffer.concat(frames);
  for (const step of [1, 2, 3, 7, 64, stream.length]) {
    const got: Frame[] = [];
    const decoder = new FrameDecoder((f) => got.push(f));
    for (let i = 0; i < stream.length; i += step) decoder.push(stream.subarray(i, i + step));
    assert.equal(got.length, 3, `split by ${step}`);
    assert.equal(got[0]!.type, FRAME.invoke);
    assert.equal(got[0]!.head, '{"id":"a"}');
    assert.equal(got[0]!.body.toString(), '{"x":1}');
    assert.equal(got[1]!.body.toString(), 'é'.repeat(1000));
    assert.equal(got[2]!.body.length, 0);
  }
});

test('a corrupt length is refused instead of buffering forever', () => {
  const decoder = new FrameDecoder(() => undefined, 1024);
  const bad = Buffer.alloc(8);
  bad.writeUInt32BE(10_000_000, 0);
  assert.throws(() => decoder.push(bad), /bad frame length/);
});

test('a frame batch is the same bytes as its frames encoded one by one, and starts empty again', () => {
  const batch = new FrameBatch();
  const payload = Buffer.from('{"body":"\u00e9\u{1f600}"}');
  const head = '{"id":"\u00e9-1","trace":"\u{1f600}"}';
  const expected = Buffer.concat([
    encodeFrame(FRAME.invoke, head, payload),
    encodeFrame(FRAME.withdraw, '{"id":"b"}'),
    encodeFrame(FRAME.invoke, '{"id":"c"}', Buffer.alloc(0)),
  ]);
  batch.add(FRAME.invoke, head, payload);
  batch.add(FRAME.withdraw, '{"id":"b"}');
  batch.add(FRAME.invoke, '{"id":"c"}', Buffer.alloc(0));
  assert.equal(batch.size, 3);
  assert.deepEqual(batch.take(), expected);
  assert.equal(batch.size, 0);
  batch.add(FRAME.withdraw, '{"id":"d"}');
  assert.deepEqual(batch.take(), encodeFrame(FRAME.withdraw, '{"id":"d"}'));
  const got: Frame[] = [];
  new FrameDecoder((f) => got.push(f)).push(expected);
  assert.deepEqual(
    got.map((f) => [f.type, f.head, f.body.toString()]),
    [
      [FRAME.invoke, head, '{"body":"\u00e9\u{1f600}"}'],
      [FRAME.withdraw, '{"id":"b"}', ''],
      [FRAME.invoke, '{"id":"c"}', ''],
    ],
  );
});
