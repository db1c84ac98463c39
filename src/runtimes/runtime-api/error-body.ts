import type { LambdaError } from '../runtime.js';

/** Error messages and stack traces a runtime reports are kept to a size a log line and a caller can use. */
const MAX_MESSAGE_CHARS = 256 * 1024;
const MAX_STACK_LINES = 1000;

/**
 * The body of `POST /invocation/{id}/error` or `/init/error`: Lambda's
 * `{"errorMessage", "errorType", "stackTrace"}`. Runtimes are free to send something else; as
 * Lambda does, the `Lambda-Runtime-Function-Error-Type` header then names the error and the body
 * (as text) becomes its message, so a malformed body still gives the caller a precise error.
 */
export function parseErrorBody(body: Buffer, headerType: string | undefined): LambdaError {
  const fallbackType = headerType && headerType.trim() !== '' ? headerType.trim() : 'Runtime.Unknown';
  let parsed: unknown;
  try {
    parsed = body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    const text = body.toString('utf8');
    return { errorType: fallbackType, errorMessage: clip(text), stackTrace: [] };
  }
  const e = parsed as Record<string, unknown>;
  const errorType = typeof e.errorType === 'string' && e.errorType !== '' ? e.errorType : fallbackType;
  const errorMessage = typeof e.errorMessage === 'string' ? e.errorMessage : e.errorMessage === undefined ? '' : JSON.stringify(e.errorMessage);
  const stackTrace = Array.isArray(e.stackTrace)
    ? e.stackTrace.slice(0, MAX_STACK_LINES).map((line) => clip(typeof line === 'string' ? line : JSON.stringify(line)))
    : [];
  return { errorType: clip(errorType), errorMessage: clip(errorMessage), stackTrace };
}

function clip(text: string): string {
  return text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS)}...` : text;
}
