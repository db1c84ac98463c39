import { parse } from 'csv-parse/sync';
import { ModelfnError } from '../shared/errors.js';
import { StoredFunction } from './trace.js';
import type { Trace } from './trace.js';

/**
 * A trace from CSV: a header naming the columns `function,timestamp,duration,memory` (any order,
 * other columns ignored), then one row per invocation:
 *
 * - function:  the function's name;
 * - timestamp: when the call arrived, in seconds (any origin, e.g. the Unix epoch; fractions
 *              allowed) or as an ISO-8601 time;
 * - duration:  how long the call ran, in milliseconds;
 * - memory:    the function's memory size in MB (a function with several sizes takes the largest).
 *
 * Rows need not be sorted. Any error names the line and the field, and is a 400
 * (INVALID_PARAMETER) with { line, field } in its details.
 */
export const TRACE_COLUMNS = ['function', 'timestamp', 'duration', 'memory'] as const;

type Column = (typeof TRACE_COLUMNS)[number];

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function fail(message: string, line?: number, field?: string): never {
  const where = line === undefined ? '' : `line ${line}${field === undefined ? '' : `, field "${field}"`}: `;
  throw new ModelfnError('INVALID_PARAMETER', `trace CSV: ${where}${message}`, { details: { ...(line !== undefined ? { line } : {}), ...(field !== undefined ? { field } : {}) } });
}

function parseTimestamp(cell: string, line: number): number {
  if (NUMBER.test(cell)) {
    const seconds = Number(cell);
    if (!Number.isFinite(seconds)) fail(`must be a finite number of seconds, got ${JSON.stringify(cell)}`, line, 'timestamp');
    return seconds * 1000;
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(cell)) {
    const ms = Date.parse(cell);
    if (Number.isFinite(ms)) return ms;
  }
  return fail(`must be seconds (e.g. 1700000000.25) or an ISO-8601 time (e.g. 2024-01-01T00:00:00Z), got ${JSON.stringify(cell)}`, line, 'timestamp');
}

function parseNumber(cell: string, line: number, field: Column, unit: string, min: number, max: number): number {
  const value = NUMBER.test(cell) ? Number(cell) : Number.NaN;
  if (!Number.isFinite(value) || value < min || value > max) {
    fail(`must be a number of ${unit} between ${min} and ${max}, got ${JSON.stringify(cell)}`, line, field);
  }
  return value;
}

export function parseTraceCsv(text: string, source = 'CSV'): Trace {
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, trim: true, relax_column_count: true, info: true }) as unknown as Array<{ record: string[]; info: { lines: number } }>;
  } catch (err) {
    const e = err as Error & { lines?: number };
    return fail(`does not parse: ${e.message}`, typeof e.lines === 'number' ? e.lines : undefined);
  }
  if (records.length === 0) fail('is empty: it needs a header (function,timestamp,duration,memory) and at least one row');
  const header = records[0]!.record.map((h) => h.toLowerCase());
  const index = {} as Record<Column, number>;
  for (const column of TRACE_COLUMNS) {
    const at = header.indexOf(column);
    if (at < 0) fail(`the header must name the columns ${TRACE_COLUMNS.join(',')}; "${column}" is missing (header: ${records[0]!.record.join(',')})`, records[0]!.info.lines);
    index[column] = at;
  }
  if (records.length === 1) fail('has a header but no rows');
  const byFunction = new Map<string, { memoryMb: number; rows: Array<[number, number]> }>();
  let start = Infinity;
  let end = -Infinity;
  for (const { record, info } of records.slice(1)) {
    const line = info.lines;
    const cell = (column: Column): string => {
      const value = record[index[column]];
      if (value === undefined || value === '') fail('is empty', line, column);
      return value;
    };
    const name = cell('function');
    const at = parseTimestamp(cell('timestamp'), line);
    const duration = parseNumber(cell('duration'), line, 'duration', 'milliseconds', 0, 86_400_000);
    const memory = parseNumber(cell('memory'), line, 'memory', 'MB', 1, 1_048_576);
    let fn = byFunction.get(name);
    if (!fn) byFunction.set(name, (fn = { memoryMb: memory, rows: [] }));
    fn.memoryMb = Math.max(fn.memoryMb, memory);
    fn.rows.push([at, duration]);
    start = Math.min(start, at);
    end = Math.max(end, at + duration);
  }
  const functions = [...byFunction].map(([name, fn]) => {
    fn.rows.sort((a, b) => a[0] - b[0]);
    return new StoredFunction(name, fn.memoryMb, Float64Array.from(fn.rows, (r) => r[0]), Float64Array.from(fn.rows, (r) => r[1]));
  });
  const rows = records.length - 1;
  return { functions, startMs: start, endMs: end, description: `${source}: ${rows} invocations of ${functions.length} functions over ${((end - start) / 3_600_000).toFixed(1)} h` };
}
