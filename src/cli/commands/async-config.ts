import type { EventInvokeConfigView } from '../../events/async/async-config-store.js';
import type { PlatformClient } from '../client.js';
import { CliError } from '../client.js';
import { printJson } from '../output.js';

export interface AsyncConfigOptions {
  retries?: string;
  maxAge?: string;
  onSuccess?: string;
  onFailure?: string;
  dlq?: string;
  json?: boolean;
}

/**
 * `modelfn async-config NAME [--retries N] [--max-age S] [--on-success ARN] [--on-failure ARN] [--dlq QUEUE]`:
 * show or change how asynchronous invocations of a function are retried and where they go.
 * Destinations take an ARN, a function name, or queue:NAME; "none" removes a setting.
 */
export async function asyncConfigCommand(client: PlatformClient, name: string, opts: AsyncConfigOptions): Promise<void> {
  const body: Record<string, unknown> = {};
  const clear = (v: string) => (v === 'none' ? null : v);
  if (opts.retries !== undefined) body.maximumRetryAttempts = int(opts.retries, '--retries');
  if (opts.maxAge !== undefined) body.maximumEventAgeInSeconds = int(opts.maxAge, '--max-age');
  if (opts.onSuccess !== undefined) body.onSuccess = clear(opts.onSuccess);
  if (opts.onFailure !== undefined) body.onFailure = clear(opts.onFailure);
  if (opts.dlq !== undefined) body.deadLetterQueue = clear(opts.dlq);
  const path = `/_modelfn/v1/functions/${encodeURIComponent(name)}/async-config`;
  const view = await client.json<{ eventInvokeConfigs: EventInvokeConfigView[]; deadLetterConfig: { TargetArn?: string } | null }>(
    Object.keys(body).length > 0 ? 'PUT' : 'GET',
    path,
    Object.keys(body).length > 0 ? body : undefined,
  );
  if (opts.json) return printJson(view);
  const c = view.eventInvokeConfigs.find((x) => String(x.FunctionArn).endsWith(':$LATEST'));
  const lines = [
    `${name}: asynchronous invocations`,
    `  retries on function error: ${c?.MaximumRetryAttempts ?? 2}`,
    `  maximum event age:         ${c?.MaximumEventAgeInSeconds ?? 21600} s`,
    `  on success:                ${c?.DestinationConfig?.OnSuccess?.Destination ?? '-'}`,
    `  on failure:                ${c?.DestinationConfig?.OnFailure?.Destination ?? '-'}`,
    `  dead-letter queue:         ${view.deadLetterConfig?.TargetArn ?? '-'}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function int(value: string, flag: string): number {
  if (!/^\d+$/.test(value)) throw new CliError(`${flag} must be a whole number, not ${JSON.stringify(value)}`);
  return Number(value);
}
