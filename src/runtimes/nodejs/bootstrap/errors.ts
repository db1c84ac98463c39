/** Lambda-shaped errors as the Node.js runtime reports them. */

export interface LambdaErrorShape {
  errorType: string;
  errorMessage: string;
  stackTrace: string[];
}

export function toLambdaError(err: unknown, fallbackType = 'Error'): LambdaErrorShape {
  if (err instanceof Error) {
    const stack = typeof err.stack === 'string' ? err.stack.split('\n') : [];
    return { errorType: err.name || fallbackType, errorMessage: err.message, stackTrace: stack };
  }
  if (err !== null && typeof err === 'object') {
    const o = err as Record<string, unknown>;
    return {
      errorType: typeof o.errorType === 'string' ? o.errorType : typeof o.name === 'string' ? o.name : fallbackType,
      errorMessage: typeof o.errorMessage === 'string' ? o.errorMessage : typeof o.message === 'string' ? o.message : safeString(err),
      stackTrace: [],
    };
  }
  return { errorType: typeof err === 'string' ? 'string' : fallbackType, errorMessage: String(err), stackTrace: [] };
}

/** An error raised by the runtime itself (bad handler, import failure), with Lambda's type names. */
export class RuntimeError extends Error {
  constructor(type: string, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = type;
  }
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
