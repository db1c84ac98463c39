import { test } from 'node:test';
import { PARSER_FAMILIES } from './families.js';

/**
 * The in-process fuzz families, briefly and deterministically (fixed seed) as part of `npm test`;
 * `npm run fuzz` runs them long with a random seed.
 */
const OPTIONS = { numRuns: 200, seed: 20_260_115 };

for (const [name, run] of Object.entries(PARSER_FAMILIES)) {
  test(`fuzz ${name}: only the parser's own errors, never a crash or a hang`, async () => {
    await run(OPTIONS);
  });
}
