import { test } from 'node:test';
import { HTTP_FAMILIES } from './families.js';

/**
 * The over-HTTP fuzz families, each against its own real platform, briefly and deterministically
 * (fixed seed) as part of `npm test`; `npm run fuzz` runs them long with a random seed.
 */
const OPTIONS = { numRuns: 150, seed: 20_260_115 };

for (const [name, run] of Object.entries(HTTP_FAMILIES)) {
  test(`fuzz ${name}: every answer below 500 and in its surface's format; the platform stays healthy`, async () => {
    await run(OPTIONS);
  });
}
