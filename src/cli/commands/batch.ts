import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import cliProgress from 'cli-progress';
import { ChunkError, runBatch } from '../../events/batch/batch-runner.js';
import { chunkResults, formatBatchOutput, formatOf, parseBatchInput } from '../../events/batch/batch-input.js';
import { Journal } from '../../events/batch/journal.js';
import type { PlatformClient } from '../client.js';
import { CliError } from '../client.js';

export interface BatchOptions {
  output: string;
  chunkRows?: string;
  concurrency?: string;
  retries?: string;
  resume?: boolean;
  qualifier?: string;
}

/**
 * `modelfn batch FUNCTION input.csv|jsonl -o output`: batch prediction (what ML users call batch
 * transform). Each chunk of rows is one Invoke with a JSON array of rows (model functions answer
 * with one prediction per row); chunks run in parallel, failed ones are retried, results are
 * written in input order, and a journal next to the output lets `--resume` skip finished chunks.
 */
export async function batchCommand(client: PlatformClient, functionName: string, input: string, opts: BatchOptions): Promise<void> {
  const format = (() => {
    try {
      return formatOf(input);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
  })();
  const outFormat = /\.csv$/i.test(opts.output) ? 'csv' : 'jsonl';
  const chunkRows = positive(opts.chunkRows, '--chunk-rows', 500);
  const concurrency = positive(opts.concurrency, '--concurrency', 4);
  const retries = positive(opts.retries, '--retries', 3, true);
  const info = await stat(input).catch(() => undefined);
  if (!info?.isFile()) throw new CliError(`${input} does not exist`);
  let parsed;
  try {
    parsed = parseBatchInput(await readFile(input, 'utf8'), format);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const { rows } = parsed;
  const journalPath = `${opts.output}.journal`;
  const journal = await Journal.open(
    journalPath,
    { v: 1, function: `${functionName}${opts.qualifier ? `:${opts.qualifier}` : ''}`, input: basename(input), inputBytes: info.size, inputMtimeMs: Math.floor(info.mtimeMs), chunkRows },
    opts.resume === true,
  );
  const resumed = journal.done.size;
  const query = opts.qualifier ? `?Qualifier=${encodeURIComponent(opts.qualifier)}` : '';
  const path = `/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations${query}`;
  const invoke = async (chunk: readonly unknown[]): Promise<unknown[]> => {
    const res = await client.request('POST', path, JSON.stringify(chunk), { 'content-type': 'application/json' });
    if (res.status === 429) throw new ChunkError('throttled', true);
    if (res.status === 404) throw new CliError(`function ${functionName} does not exist`);
    if (res.status !== 200) throw new ChunkError(`HTTP ${res.status}: ${res.body.toString('utf8').slice(0, 300)}`);
    const text = res.body.toString('utf8');
    if (res.headers.get('x-amz-function-error')) throw new ChunkError(`function error: ${text.slice(0, 300)}`);
    try {
      return chunkResults(JSON.parse(text), chunk.length);
    } catch (err) {
      throw new ChunkError((err as Error).message);
    }
  };

  const tty = process.stderr.isTTY === true;
  const bar = tty
    ? new cliProgress.SingleBar(
        { format: ' {bar} {percentage}% | {value}/{total} rows | {speed} rows/s | ETA {eta_formatted}', stream: process.stderr, etaBuffer: 50, hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const started = Date.now();
  let startRows = -1;
  bar?.start(rows.length, 0, { speed: '0' });
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  let results: unknown[];
  try {
    results = await runBatch({
      rows,
      chunkRows,
      concurrency,
      retries,
      retryDelayMs: 500,
      journal,
      signal: controller.signal,
      invoke,
      onProgress: (done) => {
        if (startRows < 0) startRows = done;
        const secs = (Date.now() - started) / 1000;
        bar?.update(done, { speed: secs > 0 ? Math.round((done - startRows) / secs).toLocaleString('en-US') : '0' });
      },
    });
  } catch (err) {
    bar?.stop();
    if (err instanceof CliError) throw err;
    throw new CliError(`${(err as Error).message}\nfinished chunks are kept in ${journalPath}; run again with --resume to continue`);
  } finally {
    process.off('SIGINT', onSignal);
  }
  bar?.stop();
  const tmp = `${opts.output}.tmp-${process.pid}`;
  await writeFile(tmp, formatBatchOutput(results, outFormat));
  await rename(tmp, opts.output);
  await journal.remove();
  const secs = (Date.now() - started) / 1000;
  const ran = rows.length - resumed * chunkRows;
  process.stderr.write(
    `${rows.length} rows -> ${opts.output} in ${secs.toFixed(1)} s (${Math.round(Math.max(0, ran) / Math.max(secs, 0.001)).toLocaleString('en-US')} rows/s${resumed > 0 ? `; ${resumed} chunks resumed from the journal` : ''})\n`,
  );
}

function positive(value: string | undefined, flag: string, def: number, zeroOk = false): number {
  if (value === undefined) return def;
  const n = Number(value);
  if (!Number.isInteger(n) || n < (zeroOk ? 0 : 1)) throw new CliError(`${flag} must be a whole number${zeroOk ? '' : ' above 0'}, not ${JSON.stringify(value)}`);
  return n;
}
