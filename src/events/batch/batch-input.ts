import { parse } from 'csv-parse/sync';
import { ModelfnError } from '../../shared/errors.js';

/**
 * Batch input: a CSV file (an optional header row, then one row per line; numeric cells become
 * numbers, empty cells null) or JSON Lines (one JSON value per line). Each row becomes one element
 * of the JSON array a chunk is invoked with.
 */
export type BatchFormat = 'csv' | 'jsonl';

export interface BatchInput {
  readonly rows: unknown[];
  /** The CSV header, when the first row was one. */
  readonly header?: string[];
}

export function formatOf(path: string): BatchFormat {
  if (/\.csv$/i.test(path)) return 'csv';
  if (/\.(jsonl|ndjson)$/i.test(path)) return 'jsonl';
  throw new ModelfnError('INVALID_PARAMETER', `input: ${path} must end in .csv or .jsonl (or .ndjson)`);
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

export function parseBatchInput(text: string, format: BatchFormat): BatchInput {
  if (format === 'jsonl') {
    const rows: unknown[] = [];
    text.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        rows.push(JSON.parse(line));
      } catch (err) {
        throw new ModelfnError('INVALID_PARAMETER', `input: line ${i + 1} is not JSON: ${(err as Error).message}`);
      }
    });
    return { rows };
  }
  let records: string[][];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, trim: true }) as string[][];
  } catch (err) {
    throw new ModelfnError('INVALID_PARAMETER', `input: the CSV does not parse: ${(err as Error).message}`);
  }
  if (records.length === 0) return { rows: [] };
  const first = records[0]!;
  const isHeader = first.some((cell) => cell !== '' && !NUMBER.test(cell));
  const body = isHeader ? records.slice(1) : records;
  return { rows: body.map((r) => r.map((cell) => (cell === '' ? null : NUMBER.test(cell) ? Number(cell) : cell))), ...(isHeader ? { header: first } : {}) };
}

/** One output line per input row, in input order. */
export function formatBatchOutput(results: readonly unknown[], format: BatchFormat): string {
  if (format === 'jsonl') return results.map((r) => `${JSON.stringify(r)}\n`).join('');
  return `prediction\n${results.map((r) => `${csvCell(r)}\n`).join('')}`;
}

function csvCell(value: unknown): string {
  const text = typeof value === 'string' ? value : value === null || value === undefined ? '' : typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * What a function must return for a chunk: a JSON array with one result per row (what model
 * functions answer for an array of rows), or an object holding that array under `predictions`,
 * `results` or `outputs`.
 */
export function chunkResults(body: unknown, expected: number): unknown[] {
  const list = Array.isArray(body) ? body : typeof body === 'object' && body !== null ? ((body as Record<string, unknown>).predictions ?? (body as Record<string, unknown>).results ?? (body as Record<string, unknown>).outputs) : undefined;
  if (!Array.isArray(list)) throw new Error(`the function must return a JSON array with one result per row (or {"predictions": [...]}); it returned ${JSON.stringify(body)?.slice(0, 200)}`);
  if (list.length !== expected) throw new Error(`the function returned ${list.length} results for ${expected} rows`);
  return list;
}
