/**
 * The channel between the platform and a model host process (fd 3, a socketpair), shared by both
 * sides, so it imports nothing.
 *
 * Frame: u32 length (of everything after it) | u8 type | u32 head length | head (JSON) | body.
 * Events and results travel as raw JSON bytes in the body.
 */
import type { ModelFormat, ModelSignature } from '../../models/codecs/signature.js';

export const FRAME = {
  /** platform -> host: load the model ({@link LoadHead}). */
  load: 1,
  /** platform -> host: run one invocation (head {id}, body = event JSON). */
  invoke: 2,
  /** host -> platform: booted and warmed up, waiting for a model. */
  spare: 10,
  /** host -> platform: model loaded ({@link ReadyHead}). */
  ready: 11,
  /** host -> platform: the model cannot be loaded (body = Lambda error JSON). */
  initError: 12,
  result: 13,
  /** host -> platform: function error (head {id, fatal?}, body = Lambda error JSON). */
  error: 14,
  log: 15,
} as const;

export interface LoadHead {
  readonly path: string;
  readonly format: ModelFormat;
  readonly functionName: string;
  readonly version: string;
  readonly intraOpThreads?: number;
}

export interface ReadyHead {
  readonly signature: ModelSignature;
  readonly loadMs: number;
}

export interface Frame {
  readonly type: number;
  readonly head: string;
  readonly body: Buffer;
}

export function encodeFrame(type: number, head: string, body?: Buffer | string): Buffer {
  const headBytes = Buffer.byteLength(head);
  const bodyBytes = body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  const frame = Buffer.allocUnsafe(9 + headBytes + bodyBytes);
  frame.writeUInt32BE(5 + headBytes + bodyBytes, 0);
  frame.writeUInt8(type, 4);
  frame.writeUInt32BE(headBytes, 5);
  frame.write(head, 9, 'utf8');
  if (typeof body === 'string') frame.write(body, 9 + headBytes, 'utf8');
  else if (body !== undefined) body.copy(frame, 9 + headBytes);
  return frame;
}

/** Incremental decoder: feed it socket chunks, it hands out whole frames (one copy per frame at most). */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(
    private readonly onFrame: (frame: Frame) => void,
    private readonly maxFrameBytes = 256 * 1024 * 1024,
  ) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size >= 4) {
      let first = this.chunks[0]!;
      if (first.length < 4) first = this.merge();
      const length = first.readUInt32BE(0);
      if (length < 5 || length > this.maxFrameBytes) throw new Error(`bad frame length ${length}`);
      if (this.size < 4 + length) return;
      if (first.length < 4 + length) first = this.merge();
      const headLength = first.readUInt32BE(5);
      if (9 + headLength > 4 + length) throw new Error('bad frame head length');
      const frame = { type: first.readUInt8(4), head: first.toString('utf8', 9, 9 + headLength), body: first.subarray(9 + headLength, 4 + length) };
      if (first.length === 4 + length) this.chunks.shift();
      else this.chunks[0] = first.subarray(4 + length);
      this.size -= 4 + length;
      this.onFrame(frame);
    }
  }

  private merge(): Buffer {
    const all = Buffer.concat(this.chunks, this.size);
    this.chunks = [all];
    return all;
  }
}
