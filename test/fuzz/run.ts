import { randomInt } from 'node:crypto';
import { HTTP_FAMILIES, PARSER_FAMILIES } from './families.js';
import { describeError } from './harness.js';

/**
 * `npm run fuzz`: every family, long, with a random seed printed first so a failure can be
 * replayed. Usage: node dist/test/fuzz/run.js [--runs 20000] [--seed N] [--only sigv4,codecs]
 * HTTP families make one request per run, so they take a tenth of --runs (at least 200).
 */
function arg(name: string): string | undefined {
  const i = process.argv.lastIndexOf(`--${name}`); // the last wins: npm run fuzz -- --runs 500
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const numRuns = Number(arg('runs') ?? 20_000);
const seed = arg('seed') !== undefined ? Number(arg('seed')) : randomInt(2 ** 31 - 1);
const only = arg('only')?.split(',').map((s) => s.trim()).filter(Boolean);
if (!Number.isInteger(numRuns) || numRuns < 1 || !Number.isInteger(seed)) {
  console.error('usage: node dist/test/fuzz/run.js [--runs N] [--seed N] [--only family,...]');
  process.exit(2);
}
const families = [
  ...Object.entries(PARSER_FAMILIES).map(([name, run]) => ({ name, run, runs: numRuns })),
  ...Object.entries(HTTP_FAMILIES).map(([name, run]) => ({ name, run, runs: Math.max(200, Math.round(numRuns / 10)) })),
].filter((f) => !only || only.includes(f.name));
if (families.length === 0) {
  console.error(`no family matches ${only?.join(', ')}; families: ${[...Object.keys(PARSER_FAMILIES), ...Object.keys(HTTP_FAMILIES)].join(', ')}`);
  process.exit(2);
}
console.log(`fuzz: seed ${seed}, ${numRuns} runs per parser family (replay: node dist/test/fuzz/run.js --seed ${seed} --runs ${numRuns}${only ? ` --only ${only.join(',')}` : ''})`);
let failed = 0;
for (const f of families) {
  const start = performance.now();
  try {
    await f.run({ numRuns: f.runs, seed });
    console.log(`ok    ${f.name.padEnd(14)} ${f.runs} runs in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  } catch (err) {
    failed++;
    console.log(`FAIL  ${f.name.padEnd(14)} after ${((performance.now() - start) / 1000).toFixed(1)} s\n${describeError(err)}\n`);
  }
}
console.log(failed === 0 ? `fuzz: all ${families.length} families passed (seed ${seed})` : `fuzz: ${failed} of ${families.length} families failed (seed ${seed})`);
process.exit(failed === 0 ? 0 : 1);
