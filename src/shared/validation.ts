import type { z } from 'zod';
import { ModelfnError } from './errors.js';

/** Turn zod issues into one readable sentence that names each field ("memoryMb: ..."). */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => {
      const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '';
      if (issue.code === 'unrecognized_keys') {
        const keys = issue.keys.map((k) => (where ? `${where}.${k}` : k)).join(', ');
        return `unknown field${issue.keys.length > 1 ? 's' : ''} ${keys}`;
      }
      return where ? `${where}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

/** Validate once at the edge; afterwards the value is trusted. */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new ModelfnError('INVALID_PARAMETER', `invalid ${what}: ${describeIssues(result.error.issues)}`);
  }
  return result.data;
}
