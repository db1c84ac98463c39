/**
 * Errors raised while loading a scikit-learn artifact or predicting with it.
 *
 * Loading never executes anything from the file, so every problem surfaces as one of these
 * with a `code` a caller can branch on and a message that names the offending piece
 * (global, opcode, attribute, dtype) so a user can tell what to change.
 */
export type SklearnLoadErrorCode =
  | 'FORBIDDEN_GLOBAL' // the pickle references a callable/class outside the allow-list
  | 'CORRUPT' // truncated or malformed stream
  | 'LIMIT' // a declared size, nesting depth or allocation exceeds the configured caps
  | 'UNSUPPORTED_FORMAT' // a valid but unsupported container / pickle feature
  | 'UNSUPPORTED_ESTIMATOR' // an sklearn class this runtime does not serve
  | 'INVALID_MODEL'; // the estimator's state is inconsistent (wrong dtype, shape, tree structure)

export class SklearnLoadError extends Error {
  readonly code: SklearnLoadErrorCode;
  constructor(code: SklearnLoadErrorCode, message: string) {
    super(message);
    this.name = 'SklearnLoadError';
    this.code = code;
  }
}

/** Bad input at predict time (wrong width, NaN where sklearn rejects it, ...). */
export class SklearnInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SklearnInputError';
  }
}

export function corrupt(message: string): SklearnLoadError {
  return new SklearnLoadError('CORRUPT', message);
}

export function invalidModel(message: string): SklearnLoadError {
  return new SklearnLoadError('INVALID_MODEL', message);
}

export function limit(message: string): SklearnLoadError {
  return new SklearnLoadError('LIMIT', message);
}
