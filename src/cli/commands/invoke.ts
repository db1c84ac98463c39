import { readFile } from 'node:fs/promises';
import type { PlatformClient } from '../client.js';
import { CliError } from '../client.js';

export interface InvokeOptions {
  data?: string;
  file?: string;
  qualifier?: string;
  log?: boolean;
}

/** `modelfn invoke NAME`: a direct Lambda Invoke; prints the raw result. */
export async function invokeCommand(client: PlatformClient, name: string, opts: InvokeOptions): Promise<void> {
  if (opts.data !== undefined && opts.file !== undefined) throw new CliError('give either --data or --file, not both');
  const payload = opts.file !== undefined ? await readFile(opts.file === '-' ? '/dev/stdin' : opts.file) : Buffer.from(opts.data ?? '{}');
  try {
    JSON.parse(payload.toString('utf8'));
  } catch (err) {
    throw new CliError(`the payload is not valid JSON: ${(err as Error).message}`);
  }
  const query = opts.qualifier ? `?Qualifier=${encodeURIComponent(opts.qualifier)}` : '';
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.log) headers['x-amz-log-type'] = 'Tail';
  const res = await client.request('POST', `/2015-03-31/functions/${encodeURIComponent(name)}/invocations${query}`, payload, headers);
  if (res.status !== 200) client.parse(res);
  const logs = res.headers.get('x-amz-log-result');
  if (logs) process.stderr.write(`${Buffer.from(logs, 'base64').toString('utf8')}\n`);
  process.stdout.write(`${res.body.toString('utf8')}\n`);
  if (res.headers.get('x-amz-function-error')) {
    throw new CliError(`function error (request ${res.headers.get('x-amzn-requestid') ?? '?'}): see the result above and \`modelfn logs ${name}\``);
  }
}
