// `npm run simulate -- [--seed N] [--functions N] [--days N] [--max-per-day N] [--trace file.csv] [--json]`:
// replay a synthetic trace (seeded) or a CSV trace against the scheduler's keep-alive policies.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ModelfnError } from '../shared/errors.js';
import { GENERATOR_DEFAULTS, generateTrace } from './trace-generator.js';
import { parseTraceCsv } from './trace-csv.js';
import { formatReport, simulate } from './simulate.js';

function positive(name: string, value: string | undefined, fallback: number, integer = true): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new ModelfnError('INVALID_PARAMETER', `--${name} must be a positive ${integer ? 'whole ' : ''}number, not ${JSON.stringify(value)}`);
  return n;
}

try {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string' },
      functions: { type: 'string' },
      days: { type: 'string' },
      'max-per-day': { type: 'string' },
      trace: { type: 'string' },
      json: { type: 'boolean' },
    },
    strict: true,
  });
  const trace = values.trace
    ? parseTraceCsv(readFileSync(values.trace, 'utf8'), values.trace)
    : generateTrace({
        seed: positive('seed', values.seed, GENERATOR_DEFAULTS.seed),
        functions: positive('functions', values.functions, GENERATOR_DEFAULTS.functions),
        days: positive('days', values.days, GENERATOR_DEFAULTS.days, false),
        maxPerDay: positive('max-per-day', values['max-per-day'], GENERATOR_DEFAULTS.maxPerDay, false),
      });
  const report = simulate(trace);
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
} catch (err) {
  process.stderr.write(`simulate: ${(err as Error).message}\n`);
  process.exit(2);
}
