import { sendJson } from '../server/http/respond.js';
import type { ApiRouter } from '../telemetry/metering/metering-api.js';
import type { ClusterNode } from './cluster-node.js';

/**
 * GET /_modelfn/v1/cluster: this node, the live nodes as membership sees them, and how many calls
 * this node served itself, forwarded, or found other nodes busy for (`modelfn cluster`).
 */
export function registerClusterApi(router: ApiRouter, cluster: ClusterNode): void {
  router.on('GET', '/_modelfn/v1/cluster', async (_req, res) => {
    sendJson(res, 200, {
      node: cluster.id,
      connected: cluster.membership?.isConnected ?? false,
      nodes: cluster.membership?.live() ?? [],
      calls: cluster.dispatcher?.counts ?? { local: 0, forwarded: 0, busy: 0 },
      servedForOthers: cluster.servedForOthers,
    });
  });
}
