/**
 * The framing of the private channel between the platform and a Node.js instance (fd 3, a unix
 * socketpair). This file is shared by both sides, so it imports nothing.
 *
 * Frame: u32 length (of everything after it) | u8 type | u32 head length | head (JSON) | body.
 * The event and result travel as raw JSON bytes in the body: nothing is encoded twice.
 */

export const FRAME = {
  invoke: 1,
  ready: 2,
  initError: 3,
  result: 4,
  error: 5,
  log: 6,
  /** platform -> stem cell: take on a function (head: {env, cwd}); the cell then inits as any instance. */
  specialize: 7,
  /** stem cell -> platform: booted, generic, waiting for a function. */
  stemReady: 8,
  /**
   * platform -> instance: drop this invocation if it has not started (head: {id}). Invocations
   * may be handed to an instance while another runs (pipelining); one that waited too long
   * behind a slow call is taken back this way and run elsewhere.
   */
  withdraw: 9,
  /** instance -> platform: the invocation was dropped unstarted (head: {id}). */
  withdrawn: 10,
} as const;

export type FrameType = (typeof FRAME)[keyof typeof FRAME];

export interface Frame {
  readonly type: number;
  readonly head: string;
  readonly body: Buffer;
}

/** type: a FRAME value here, or one of the model host's (runtimes/model/protocol.ts), which shares the layout. */
export function encodeFrame(type: number, head: string, body?: Buffer | string): Buffer {
  const headBytes = Buffer.byteLength(head);
  const bodyBytes = body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  const frame = Buffer.allocUnsafe(9 + headBytes + bodyBytes);
  frame.writeUInt32BE(5 + headBytes + bodyBytes, 0);
  frame.writeUInt8(type, 4);
  frame.writeUInt32BE(headBytes, 5);
  frame.write(head, 9, 'utf8');
  if (body !== undefined) {
    if (typeof body === 'string') frame.write(body, 9 + headBytes, 'utf8');
    else body.copy(frame, 9 + headBytes);
  }
  return frame;
}

/**
 * Frames queued to leave together: take() writes them back to back into one buffer. The platform
 * queues an event-loop turn's invoke frames here and writes them at its end: one buffer and one
 * write for the turn, instead of a buffer per frame, each queued on a corked socket and gathered
 * by writev (0.1-0.3 µs less per 650-byte invoke frame in a micro-benchmark, 2-8 frames a turn).
 */
export class FrameBatch {
  private types: FrameType[] = [];
  private heads: string[] = [];
  private headBytes: number[] = [];
  private bodies: Array<Buffer | undefined> = [];
  private bytes = 0;

  /** Frames queued and not taken. */
  get size(): number {
    return this.types.length;
  }

  add(type: FrameType, head: string, body?: Buffer): void {
    const headBytes = Buffer.byteLength(head);
    this.types.push(type);
    this.heads.push(head);
    this.headBytes.push(headBytes);
    this.bodies.push(body);
    this.bytes += 9 + headBytes + (body?.length ?? 0);
  }

  /** The queued frames as one buffer, in the order they were added; the batch is empty after. */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.bytes);
    let at = 0;
    for (let i = 0; i < this.types.length; i++) {
      const headBytes = this.headBytes[i]!;
      const body = this.bodies[i];
      const bodyBytes = body?.length ?? 0;
      out.writeUInt32BE(5 + headBytes + bodyBytes, at);
      out.writeUInt8(this.types[i]!, at + 4);
      out.writeUInt32BE(headBytes, at + 5);
      out.write(this.heads[i]!, at + 9, headBytes, 'utf8');
      if (body !== undefined) body.copy(out, at + 9 + headBytes);
      at += 9 + headBytes + bodyBytes;
    }
    this.types = [];
    this.heads = [];
    this.headBytes = [];
    this.bodies = [];
    this.bytes = 0;
    return out;
  }
}

/** Incremental decoder: feed it socket chunks, it hands out whole frames. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(
    private readonly onFrame: (frame: Frame) => void,
    private readonly maxFrameBytes = 64 * 1024 * 1024,
  ) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= 4) {
      const first = this.chunks[0]!;
      const length = first.length >= 4 ? first.readUInt32BE(0) : this.peek(4).readUInt32BE(0);
      if (length < 5 || length > this.maxFrameBytes) throw new Error(`bad frame length ${length}`);
      if (this.buffered < 4 + length) return;
      const frame = this.take(4 + length);
      const headLength = frame.readUInt32BE(5);
      if (9 + headLength > frame.length) throw new Error('bad frame head length');
      this.onFrame({
        type: frame.readUInt8(4),
        head: frame.toString('utf8', 9, 9 + headLength),
        body: frame.subarray(9 + headLength),
      });
    }
  }

  private peek(n: number): Buffer {
    return Buffer.concat(this.chunks, Math.max(n, 0)).subarray(0, n);
  }

  /** Remove n bytes from the front; no copy when they sit in one chunk (the common case). */
  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.chunks);
      out = all.subarray(0, n);
      this.chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.buffered -= n;
    return out;
  }
}
