/**
 * A request that does not fit the model (wrong shape, type, missing input, unknown output,
 * malformed body). Every surface answers it with 400 in its own format; the message names the
 * input and what the model expects.
 */
export class ModelInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelInputError';
  }
}

/** Lambda error type used when a model instance rejects a request (function error -> 400). */
export const MODEL_INPUT_ERROR_TYPE = 'ModelInputError';

export function inputError(message: string): ModelInputError {
  return new ModelInputError(message);
}

/**
 * A value for an error message, as short JSON: never throws (JSON.stringify does on values nested
 * deeper than its stack allows, which JSON.parse accepts) and never copies a huge value whole.
 */
export function preview(value: unknown, max = 100): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = Array.isArray(value) ? '[...]' : '{...}';
  }
  if (text === undefined) return 'undefined';
  return text.length > max ? `${text.slice(0, max)}...` : text;
}
