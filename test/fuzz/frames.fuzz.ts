import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Frame, FrameType } from '../../src/runtimes/nodejs/bootstrap/frames.js';
import { FrameDecoder, encodeFrame } from '../../src/runtimes/nodejs/bootstrap/frames.js';
import type { FuzzOptions } from './harness.js';
import { mutatedBytes, runs } from './harness.js';

/**
 * The Node.js instance channel's framing: frames cut into any chunks come out whole and equal;
 * garbage ends in the decoder's own "bad frame" error, never another exception, and never makes
 * it wait for (or buffer) more than its frame limit.
 */

const frame = fc.record({
  type: fc.constantFrom<FrameType>(1, 2, 3, 4, 5, 6),
  head: fc.string({ maxLength: 40 }),
  body: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
});

/** Split bytes at random points. */
function chunks(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let at = 0;
  for (const p of points) {
    out.push(bytes.subarray(at, p));
    at = p;
  }
  out.push(bytes.subarray(at));
  return out;
}

const SEED = Buffer.concat([encodeFrame(1, '{"requestId":"r"}', Buffer.from('{"a":1}')), encodeFrame(6, 'log', 'line\n'), encodeFrame(4, '', '')]);

export async function fuzzFrames(options: FuzzOptions): Promise<void> {
  fc.assert(
    fc.property(fc.array(frame, { maxLength: 5 }), fc.array(fc.nat(), { maxLength: 12 }), (frames, cuts) => {
      const got: Frame[] = [];
      const decoder = new FrameDecoder((f) => got.push({ ...f, body: Buffer.from(f.body) }));
      for (const c of chunks(Buffer.concat(frames.map((f) => encodeFrame(f.type, f.head, f.body))), cuts)) decoder.push(c);
      assert.deepEqual(got.map((f) => [f.type, f.head, f.body.toString('hex')]), frames.map((f) => [f.type, f.head, f.body.toString('hex')]));
    }),
    runs(options),
  );
  fc.assert(
    fc.property(fc.oneof(mutatedBytes([SEED], 6), fc.uint8Array({ maxLength: 64 })), fc.array(fc.nat(), { maxLength: 6 }), (bytes, cuts) => {
      const decoder = new FrameDecoder(() => undefined, 4096);
      try {
        for (const c of chunks(Buffer.from(bytes), cuts)) decoder.push(c);
      } catch (err) {
        assert.ok(err instanceof Error && /^bad frame/.test(err.message), `the decoder threw ${String(err)}`);
      }
    }),
    runs(options),
  );
}
