import type { FunctionView } from '../../surfaces/admin/function-view.js';
import type { PlatformClient } from '../client.js';
import { printJson, table } from '../output.js';

/** `modelfn ls`: functions with their runtime, memory and live instances. */
export async function listCommand(client: PlatformClient, opts: { json?: boolean }): Promise<void> {
  const { functions } = await client.json<{ functions: FunctionView[] }>('GET', '/_modelfn/v1/functions');
  if (opts.json) return printJson(functions);
  if (functions.length === 0) {
    process.stdout.write('no functions deployed; try `modelfn deploy ./examples/hello-node --name hello --route "POST /hello"`\n');
    return;
  }
  process.stdout.write(
    `${table(
      ['NAME', 'RUNTIME', 'HANDLER', 'MEMORY', 'TIMEOUT', 'INSTANCES', 'ROUTES', 'MODIFIED'],
      functions.map((f) => [
        f.name,
        f.runtime,
        f.handler,
        `${f.memoryMb} MB`,
        `${f.timeoutSec} s`,
        `${f.instances.instances} (${f.instances.busy} busy)`,
        f.routes.map((r) => (r.path === '$default' ? '$default' : `${r.method} ${r.path}`)).join(', ') || '-',
        f.lastModified,
      ]),
    )}\n`,
  );
}

/** `modelfn routes`: every user route and the function behind it. */
export async function routesCommand(client: PlatformClient, opts: { json?: boolean }): Promise<void> {
  const { routes } = await client.json<{ routes: Array<{ method: string; path: string; function: string; qualifier: string | null; payloadFormat: string }> }>(
    'GET',
    '/_modelfn/v1/routes',
  );
  if (opts.json) return printJson(routes);
  if (routes.length === 0) {
    process.stdout.write('no routes; add one with `modelfn deploy ... --route "POST /path"`\n');
    return;
  }
  process.stdout.write(
    `${table(
      ['METHOD', 'PATH', 'FUNCTION', 'FORMAT', 'URL'],
      routes.map((r) => [r.method, r.path, r.qualifier ? `${r.function}:${r.qualifier}` : r.function, r.payloadFormat, r.path === '$default' ? `${client.endpoint}/*` : `${client.endpoint}${r.path}`]),
    )}\n`,
  );
}

/** `modelfn rm NAME`. */
export async function removeCommand(client: PlatformClient, name: string): Promise<void> {
  await client.json('DELETE', `/_modelfn/v1/functions/${encodeURIComponent(name)}`);
  process.stdout.write(`removed ${name}\n`);
}
