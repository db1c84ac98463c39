import type { ModelFormat, ModelSignature } from '../../../models/codecs/signature.js';
import type { Tensor } from '../../../models/codecs/tensor.js';
import type { ModelRequest } from '../../../models/codecs/validate.js';

/** A loaded model inside the host process. */
export interface Engine {
  readonly signature: ModelSignature;
  /** Run one validated request; throws ModelInputError for input the model rejects. */
  run(request: ModelRequest): Promise<Tensor[]> | Tensor[];
}

export interface EngineOptions {
  readonly intraOpThreads?: number;
}

/** How a format loads models, and how it warms its code paths up in a spare host. */
export interface EngineFactory {
  readonly format: ModelFormat;
  load(bytes: Uint8Array, options: EngineOptions): Promise<Engine>;
  /** One round of warm-up with a small model of this format (JIT, native library init). */
  warmUp(bytes: Uint8Array): Promise<void>;
}

/** The model cannot be served: reported as the function's init error (and at deploy as a 400). */
export class ModelLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelLoadError';
  }
}
