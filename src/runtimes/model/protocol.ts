/**
 * The channel between the platform and a model host process (fd 3, a socketpair), shared by both
 * sides: it imports only the frame codec, which imports nothing.
 *
 * Frame: u32 length (of everything after it) | u8 type | u32 head length | head (JSON) | body.
 * Events and results travel as raw JSON bytes in the body. The layout is the Node.js instance
 * channel's, and so is the codec (one codec, fuzzed in test/fuzz/frames.fuzz.ts); only the frame
 * types differ.
 */
import type { ModelFormat, ModelSignature } from '../../models/codecs/signature.js';
import { FrameDecoder as ChannelFrameDecoder } from '../nodejs/bootstrap/frames.js';
import type { Frame } from '../nodejs/bootstrap/frames.js';

export { encodeFrame } from '../nodejs/bootstrap/frames.js';
export type { Frame } from '../nodejs/bootstrap/frames.js';

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

/** The largest frame either side of the model channel accepts (its limit before it shared the codec). */
export const MAX_MODEL_FRAME_BYTES = 256 * 1024 * 1024;

export class FrameDecoder extends ChannelFrameDecoder {
  constructor(onFrame: (frame: Frame) => void, maxFrameBytes = MAX_MODEL_FRAME_BYTES) {
    super(onFrame, maxFrameBytes);
  }
}
