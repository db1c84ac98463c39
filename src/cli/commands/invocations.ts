import type { InvocationRecord } from '../../events/records.js';
import type { PlatformClient } from '../client.js';
import { printJson, table } from '../output.js';

export interface InvocationsOptions {
  status?: string;
  kind?: string;
  limit?: string;
  json?: boolean;
}

/** `modelfn invocations FUNCTION [--status failed]`: records of async events and batch jobs, newest first. */
export async function invocationsCommand(client: PlatformClient, name: string, opts: InvocationsOptions): Promise<void> {
  const query = new URLSearchParams();
  if (opts.status) query.set('status', opts.status);
  if (opts.kind) query.set('kind', opts.kind);
  if (opts.limit) query.set('limit', opts.limit);
  const { invocations } = await client.json<{ invocations: InvocationRecord[] }>('GET', `/_modelfn/v1/functions/${encodeURIComponent(name)}/invocations?${query}`);
  if (opts.json) return printJson(invocations);
  if (invocations.length === 0) {
    process.stdout.write(`no invocation records for ${name}${opts.status ? ` with status ${opts.status}` : ''}\n`);
    return;
  }
  process.stdout.write(
    `${table(
      ['ID', 'KIND', 'STATUS', 'ATTEMPTS', 'ACCEPTED', 'TOOK', 'ERROR'],
      invocations.map((r) => [
        r.id,
        r.kind,
        r.status,
        r.attempts,
        new Date(r.acceptedAt).toISOString(),
        r.finishedAt ? `${((r.finishedAt - r.acceptedAt) / 1000).toFixed(2)} s` : '-',
        r.error ? `${r.error.type}: ${r.error.message}`.slice(0, 80) : r.detail.condition ? String(r.detail.condition) : '',
      ]),
    )}\n`,
  );
}
