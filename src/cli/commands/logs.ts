import type { PlatformClient } from '../client.js';

export interface LogsOptions {
  follow?: boolean;
  since?: string;
  requestId?: string;
  limit?: string;
  json?: boolean;
}

interface LogView {
  ts: number;
  requestId: string | null;
  kind: string;
  message: string;
}

/** `modelfn logs NAME [-f]`: the function's log lines, Lambda style; -f keeps streaming. */
export async function logsCommand(client: PlatformClient, name: string, opts: LogsOptions): Promise<void> {
  const query = new URLSearchParams();
  if (opts.since) query.set('since', opts.since);
  if (opts.requestId) query.set('requestId', opts.requestId);
  if (opts.limit) query.set('limit', opts.limit);
  const path = `/_modelfn/v1/functions/${encodeURIComponent(name)}/logs`;
  const print = (r: LogView) => process.stdout.write(opts.json ? `${JSON.stringify(r)}\n` : `${r.message}\n`);
  if (!opts.follow) {
    const { records } = await client.json<{ records: LogView[] }>('GET', `${path}?${query}`);
    records.forEach(print);
    return;
  }
  query.set('follow', '1');
  for await (const line of client.lines(`${path}?${query}`)) print(JSON.parse(line) as LogView);
}
