import type { ServerResponse } from 'node:http';

/**
 * Responses that stay open until the client leaves (log follow, live dashboard updates). A
 * graceful stop ends them first, so draining waits only for real requests.
 */
const open = new Set<ServerResponse>();

export function trackStream(res: ServerResponse): () => void {
  open.add(res);
  return () => open.delete(res);
}

export function endStreams(): void {
  for (const res of open) res.end();
  open.clear();
}
