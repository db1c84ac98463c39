// The architecture floor's wire (floor-server.ts <-> floor-instance.ts): frames of
// [u32 length][u32 call id][bytes], those of one event-loop turn leaving in one write, as the
// platform's own channel sends them.
import type { Readable, Writable } from 'node:stream';

/** Queues frames and writes each event-loop turn's frames to `out` at once. */
export function frameWriter(out: Writable): (id: number, body: Buffer) => void {
  let pending: Buffer[] = [];
  let flushing = false;
  return (id, body) => {
    const head = Buffer.allocUnsafe(8);
    head.writeUInt32LE(body.length, 0);
    head.writeUInt32LE(id, 4);
    pending.push(head, body);
    if (flushing) return;
    flushing = true;
    setImmediate(() => {
      flushing = false;
      const batch = Buffer.concat(pending);
      pending = [];
      out.write(batch);
    });
  };
}

/** Calls `onFrame` for every whole frame read from `input`. */
export function readFrames(input: Readable, onFrame: (id: number, body: Buffer) => void): void {
  let buffered: Buffer = Buffer.alloc(0);
  input.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    let at = 0;
    while (buffered.length - at >= 8) {
      const length = buffered.readUInt32LE(at);
      if (buffered.length - at < 8 + length) break;
      onFrame(buffered.readUInt32LE(at + 4), buffered.subarray(at + 8, at + 8 + length));
      at += 8 + length;
    }
    buffered = buffered.subarray(at);
  });
}
