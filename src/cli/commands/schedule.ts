import type { PlatformClient } from '../client.js';
import { printJson, table } from '../output.js';

interface ScheduleView {
  name: string;
  expression: string;
  enabled: boolean;
  lastRun: string | null;
  nextRun: string | null;
}

/**
 * `modelfn schedule FUNCTION ["rate(5 minutes)" | "cron(0 12 * * ? *)"] [--name RULE] [--input JSON] [--disable] [--rm]`:
 * with an expression, create or change a schedule; without, list the function's schedules.
 */
export async function scheduleCommand(
  client: PlatformClient,
  fn: string,
  expression: string | undefined,
  opts: { name?: string; input?: string; disable?: boolean; rm?: boolean; json?: boolean },
): Promise<void> {
  const base = `/_modelfn/v1/functions/${encodeURIComponent(fn)}/schedules`;
  const rule = opts.name ?? `${fn}-schedule`;
  if (opts.rm) {
    await client.json('DELETE', `${base}/${encodeURIComponent(rule)}`);
    process.stdout.write(`removed schedule ${rule}\n`);
    return;
  }
  if (expression !== undefined) {
    const view = await client.json<ScheduleView>('PUT', `${base}/${encodeURIComponent(rule)}`, { expression, enabled: !opts.disable, ...(opts.input ? { input: opts.input } : {}) });
    if (opts.json) return printJson(view);
    process.stdout.write(`schedule ${view.name}: ${view.expression} -> ${fn}${view.enabled ? `, next run ${view.nextRun ?? '-'}` : ' (disabled)'}\n`);
    return;
  }
  const { schedules } = await client.json<{ schedules: ScheduleView[] }>('GET', base);
  if (opts.json) return printJson(schedules);
  if (schedules.length === 0) {
    process.stdout.write(`no schedules for ${fn}; add one with \`modelfn schedule ${fn} "rate(5 minutes)"\`\n`);
    return;
  }
  process.stdout.write(`${table(['NAME', 'EXPRESSION', 'ENABLED', 'LAST RUN', 'NEXT RUN'], schedules.map((s) => [s.name, s.expression, s.enabled ? 'yes' : 'no', s.lastRun ?? '-', s.nextRun ?? '-']))}\n`);
}
