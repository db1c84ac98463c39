// Shared helpers for the sklearn tests: fixture paths and expected outputs.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above the test');
    dir = up;
  }
  return dir;
}

export const FIXTURES = join(repoRoot(), 'test', 'fixtures', 'sklearn');

export function fixture(rel: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, rel)));
}

export type Json = number | string | boolean | null | Json[];

export interface ExpectedCase {
  file: string;
  model: string;
  estimator: string;
  /** relative tolerance for models sklearn itself evaluates in float32 */
  rtol?: number;
  inputs: Record<string, Partial<Record<'predict' | 'predict_proba' | 'transform', Json[]>>>;
}

export interface Expected {
  sklearn: string;
  inputs: Record<string, (number | null)[][]>;
  cases: ExpectedCase[];
}

export function expected(): Expected {
  return JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as Expected;
}

/** JSON rows (null = NaN) as the row-major Float64Array the models take. */
export function rowsOf(x: (number | null)[][]): { rows: Float64Array; nRows: number } {
  return { rows: Float64Array.from(x.flat(), (v) => (v === null ? NaN : v)), nRows: x.length };
}

export function flat(x: Json[]): Json[] {
  return x.flat(3) as Json[];
}
