import type { PlatformClient } from '../client.js';
import { printJson, table } from '../output.js';

interface ClusterView {
  node: string;
  connected: boolean;
  nodes: Array<{ id: string; url: string; startedAt: number; version: string }>;
  calls: { local: number; forwarded: number; busy: number };
  servedForOthers: number;
}

/** `modelfn cluster`: the live nodes as the node asked sees them, and its forwarding counts. */
export async function clusterCommand(client: PlatformClient, opts: { json?: boolean }): Promise<void> {
  const view = await client.json<ClusterView>('GET', '/_modelfn/v1/cluster');
  if (opts.json) return printJson(view);
  const rows = view.nodes.map((n) => [n.id === view.node ? `${n.id} *` : n.id, n.url, new Date(n.startedAt).toISOString(), n.version]);
  process.stdout.write(`${table(['NODE', 'URL', 'STARTED', 'VERSION'], rows)}\n`);
  process.stdout.write(
    `\nthis node (*): ${view.connected ? 'connected to NATS' : 'NATS connection down (reconnecting)'}; calls served here ${view.calls.local}, forwarded ${view.calls.forwarded}, other nodes busy ${view.calls.busy}; served for other nodes ${view.servedForOthers}\n`,
  );
}
