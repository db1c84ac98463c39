import { sendJson } from '../../server/http/respond.js';
import type { Registry } from '../../registry/registry.js';
import type { LambdaApiSurface } from './lambda-api-surface.js';

export interface AccountDeps {
  readonly registry: Registry;
  readonly accountConcurrency: number;
  readonly minUnreserved: number;
  readonly maxZipBytes: number;
  readonly maxUnpackedBytes: number;
}

/** GetAccountSettings: the platform's limits and usage in Lambda's shape. */
export function registerAccountOperations(api: LambdaApiSurface, deps: AccountDeps): void {
  const settings = async (_req: unknown, res: Parameters<Parameters<LambdaApiSurface['operation']>[2]>[1]) => {
    const docs = deps.registry.list();
    const reserved = docs.reduce((n, d) => n + (d.scaling.reservedConcurrency ?? 0), 0);
    const codeSizes = new Map<string, number>();
    for (const d of docs) for (const c of [d.latest, ...Object.values(d.versions)]) codeSizes.set(c.codeSha256, c.codeSize);
    const total = [...codeSizes.values()].reduce((a, b) => a + b, 0);
    sendJson(res, 200, {
      AccountLimit: {
        TotalCodeSize: 80 * 1024 * 1024 * 1024,
        CodeSizeUnzipped: deps.maxUnpackedBytes,
        CodeSizeZipped: deps.maxZipBytes,
        ConcurrentExecutions: deps.accountConcurrency,
        UnreservedConcurrentExecutions: Math.max(deps.minUnreserved, deps.accountConcurrency - reserved),
      },
      AccountUsage: { TotalCodeSize: total, FunctionCount: docs.length },
    });
  };
  api.operation('GET', '/2016-08-19/account-settings', settings);
}
