import type { InvocationOutcome } from '../../scheduler/invocation.js';

/**
 * The model function's invocation failed for a reason other than the input (the instance died,
 * timed out, ran out of memory, or the model failed): surfaces answer 500 with the error type.
 */
export class ModelInvocationError extends Error {
  constructor(readonly outcome: InvocationOutcome & { result: { ok: false } }) {
    super(`${outcome.result.error.errorType}: ${outcome.result.error.errorMessage}`);
    this.name = 'ModelInvocationError';
  }

  get errorType(): string {
    return this.outcome.result.error.errorType;
  }
}
