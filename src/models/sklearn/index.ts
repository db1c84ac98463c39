/**
 * scikit-learn models without Python.
 *
 * loadSklearnModel reads a `.joblib` / `.pkl` file (plain pickle protocols 2-5, joblib's
 * array format, joblib's zlib/gzip/bz2/xz/lzma/ZF containers) with a restricted pickle
 * reader that executes nothing, then compiles the estimator into typed arrays for fast,
 * allocation-light prediction. Synchronous and self-contained (no imports from the rest of
 * src/), so it can run inside a worker thread.
 */
import { SklearnLoadError } from './errors.js';
import { buildEstimator } from './estimators/registry.js';
import { readPickledObject } from './joblib.js';
import { resolveLimits } from './limits.js';
import type { LoadLimits } from './limits.js';
import type { TabularModel } from './model.js';

export { SklearnInputError, SklearnLoadError } from './errors.js';
export type { SklearnLoadErrorCode } from './errors.js';
export { DEFAULT_LIMITS } from './limits.js';
export type { LoadLimits } from './limits.js';
export type { Label, TabularModel } from './model.js';

export interface LoadOptions {
  /** Override individual safety caps (decompressed size, array bytes, nesting, ...). */
  limits?: Partial<LoadLimits>;
}

/** Throws SklearnLoadError (with `code`) on anything unsafe, unsupported or corrupt. */
export function loadSklearnModel(bytes: Uint8Array, options: LoadOptions = {}): TabularModel {
  try {
    const { root } = readPickledObject(bytes, resolveLimits(options.limits));
    return buildEstimator(root);
  } catch (e) {
    if (e instanceof SklearnLoadError) throw e;
    // anything else is a bug or an engine limit hit by hostile input: never leak it raw
    const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    throw new SklearnLoadError('CORRUPT', `could not read the model file (${msg})`);
  }
}
