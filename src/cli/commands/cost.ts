import type { CostReport } from '../../telemetry/metering/metering-service.js';
import type { PlatformClient } from '../client.js';
import { printJson, table } from '../output.js';

export interface CostOptions {
  since?: string;
  until?: string;
  function?: string;
  json?: boolean;
}

/**
 * `modelfn cost [--since 7d]`: what each function used here (requests, GB-seconds with init,
 * measured CPU-seconds) and what the same usage would cost on AWS Lambda, Google Cloud Run
 * functions and Azure Functions, from the platform's price table.
 */
export async function costCommand(client: PlatformClient, opts: CostOptions): Promise<void> {
  const query = new URLSearchParams({ since: opts.since ?? '7d' });
  if (opts.until) query.set('until', opts.until);
  if (opts.function) query.set('function', opts.function);
  const report = await client.json<CostReport>('GET', `/_modelfn/v1/cost?${query}`);
  if (opts.json) return printJson(report);
  process.stdout.write(renderCost(report));
}

export function renderCost(report: CostReport): string {
  const providers = report.providers;
  const lines: string[] = [];
  lines.push(`Usage from ${new Date(report.since).toISOString()} to ${new Date(report.until).toISOString()}`);
  lines.push('');
  const head = ['FUNCTION', 'VERSION', 'REQUESTS', 'COLD', 'MEMORY', 'GB-S', 'CPU-S HERE', ...providers.map((p) => p.id.toUpperCase())];
  const rows = report.functions.map((f) => [
    f.functionName,
    f.version,
    f.requests.toLocaleString('en-US'),
    f.coldStarts.toLocaleString('en-US'),
    `${f.memoryMb} MB`,
    f.gbSeconds.toFixed(3),
    f.cpuSeconds.toFixed(2),
    ...providers.map((p) => usd(f.costs[p.id] ?? 0)),
  ]);
  const t = report.total;
  rows.push(['TOTAL', '', t.requests.toLocaleString('en-US'), t.coldStarts.toLocaleString('en-US'), '', t.gbSeconds.toFixed(3), t.cpuSeconds.toFixed(2), ...providers.map((p) => usd(t.costs[p.id] ?? 0))]);
  if (report.functions.length === 0) lines.push('No invocations in this period: idle (scaled-to-zero) functions cost nothing.', '');
  lines.push(table(head, rows), '');
  lines.push(`GB-s: billed time (each invocation rounded up to 1 ms, init included) x configured memory (MB / 1024).`);
  lines.push(`CPU-s here: CPU time the function's instances used on this machine.`);
  lines.push(`Prices: ${report.currency} list prices of ${report.pricesUpdated}, free tiers ${report.freeTiers}:`);
  for (const p of providers) lines.push(`  ${p.id}: ${p.name}${p.sources.length > 0 ? ` (${p.sources[0]})` : ''}`);
  return `${lines.join('\n')}\n`;
}

function usd(v: number): string {
  if (v === 0) return '$0';
  if (v < 0.01) return `$${v.toPrecision(3)}`;
  return `$${v.toFixed(2)}`;
}
