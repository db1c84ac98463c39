/**
 * One error type for the whole platform. Every failure a caller can see has a stable code from
 * the catalogue below; each wire surface (modelfn API, user routes, the Lambda API, OIP) maps the
 * code to its own format in one place, so a code means the same thing everywhere.
 */

export type ErrorKind = 'user' | 'system';

export interface ErrorSpec {
  /** HTTP status used by every surface. */
  readonly status: number;
  /** user: the caller can fix it; system: the platform failed. */
  readonly kind: ErrorKind;
  /** The exception name the AWS SDKs and CLI expect for this failure (X-Amzn-ErrorType). */
  readonly awsType: string;
}

export const ERROR_CATALOGUE = {
  FUNCTION_NOT_FOUND: { status: 404, kind: 'user', awsType: 'ResourceNotFoundException' },
  ROUTE_NOT_FOUND: { status: 404, kind: 'user', awsType: 'ResourceNotFoundException' },
  RESOURCE_NOT_FOUND: { status: 404, kind: 'user', awsType: 'ResourceNotFoundException' },
  METHOD_NOT_ALLOWED: { status: 405, kind: 'user', awsType: 'InvalidRequestContentException' },
  INVALID_JSON: { status: 400, kind: 'user', awsType: 'InvalidRequestContentException' },
  INVALID_PARAMETER: { status: 400, kind: 'user', awsType: 'InvalidParameterValueException' },
  INVALID_BUNDLE: { status: 400, kind: 'user', awsType: 'InvalidParameterValueException' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, kind: 'user', awsType: 'UnsupportedMediaTypeException' },
  PAYLOAD_TOO_LARGE: { status: 413, kind: 'user', awsType: 'RequestTooLargeException' },
  CONFLICT: { status: 409, kind: 'user', awsType: 'ResourceConflictException' },
  RESOURCE_IN_USE: { status: 409, kind: 'user', awsType: 'ResourceInUseException' },
  TOO_MANY_REQUESTS: { status: 429, kind: 'user', awsType: 'TooManyRequestsException' },
  ACCESS_DENIED: { status: 403, kind: 'user', awsType: 'AccessDeniedException' },
  INVALID_SIGNATURE: { status: 403, kind: 'user', awsType: 'InvalidSignatureException' },
  INCOMPLETE_SIGNATURE: { status: 403, kind: 'user', awsType: 'IncompleteSignatureException' },
  MISSING_AUTHENTICATION: { status: 403, kind: 'user', awsType: 'MissingAuthenticationTokenException' },
  UNRECOGNIZED_CLIENT: { status: 403, kind: 'user', awsType: 'UnrecognizedClientException' },
  PRECONDITION_FAILED: { status: 412, kind: 'user', awsType: 'PreconditionFailedException' },
  CODE_SIGNING_CONFIG_NOT_FOUND: { status: 404, kind: 'user', awsType: 'CodeSigningConfigNotFoundException' },
  POLICY_LENGTH_EXCEEDED: { status: 400, kind: 'user', awsType: 'PolicyLengthExceededException' },
  PROVISIONED_CONCURRENCY_NOT_FOUND: { status: 404, kind: 'user', awsType: 'ProvisionedConcurrencyConfigNotFoundException' },
  SHUTTING_DOWN: { status: 503, kind: 'system', awsType: 'ServiceException' },
  INTERNAL: { status: 500, kind: 'system', awsType: 'ServiceException' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface ErrorOptions {
  cause?: unknown;
  /** Extra machine-readable facts (e.g. the throttle reason); surfaces may expose them. */
  details?: Record<string, unknown>;
}

export class ModelfnError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ModelfnError';
    this.code = code;
    this.details = options.details ?? {};
  }

  get status(): number {
    return ERROR_CATALOGUE[this.code].status;
  }

  get kind(): ErrorKind {
    return ERROR_CATALOGUE[this.code].kind;
  }

  get awsType(): string {
    return ERROR_CATALOGUE[this.code].awsType;
  }
}

/** Any thrown value as a ModelfnError; unknown failures become INTERNAL without leaking their text. */
export function toModelfnError(err: unknown): ModelfnError {
  if (err instanceof ModelfnError) return err;
  return new ModelfnError('INTERNAL', 'internal error', { cause: err });
}

export function isModelfnError(err: unknown, code?: ErrorCode): err is ModelfnError {
  return err instanceof ModelfnError && (code === undefined || err.code === code);
}
