import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FRAME, FrameDecoder, encodeFrame } from '../../../src/runtimes/nodejs/bootstrap/frames.js';
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
