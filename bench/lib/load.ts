import { createRequire } from 'node:module';

/** What one load run measured (autocannon, keep-alive connections, fixed duration). */
export interface LoadResult {
  readonly requestsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  readonly errors: number;
}

interface AutocannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}
type Autocannon = (opts: Record<string, unknown>, cb: (err: Error | null, result: AutocannonResult) => void) => unknown;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

/** Drive `url` with `connections` keep-alive connections for `seconds`, POSTing `body`. */
export function load(url: string, connections: number, seconds: number, body: string): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    autocannon(
      { url, connections, duration: seconds, method: 'POST', body, headers: { 'content-type': 'application/json' } },
      (err, result) => {
        if (err) return reject(err);
        resolve({
          requestsPerSec: result.requests.average,
          p50Ms: result.latency.p50,
          p99Ms: result.latency.p99,
          non2xx: result.non2xx,
          errors: result.errors,
        });
      },
    );
  });
}
