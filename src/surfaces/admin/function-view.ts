import type { FunctionDocument } from '../../registry/types.js';
import type { KeepAliveStatus } from '../../scheduler/keepalive/index.js';

export interface InstanceCounts {
  readonly instances: number;
  readonly idle: number;
  readonly busy: number;
  readonly starting: number;
  readonly waiting: number;
}

/**
 * How the modelfn API and CLI show a function. keepAlive: the keep-alive decision of each version
 * that has run (policy, mode and why, pre-warm and keep-alive windows, idle-time samples).
 */
export function functionView(doc: FunctionDocument, counts: InstanceCounts | undefined, arn: string, keepAlive: ReadonlyArray<{ version: string } & KeepAliveStatus> = []) {
  const c = doc.latest;
  return {
    name: doc.name,
    arn,
    runtime: c.runtime,
    handler: c.handler,
    memoryMb: c.memoryMb,
    timeoutSec: c.timeoutSec,
    environment: c.environment,
    description: c.description,
    codeSha256: c.codeSha256,
    codeSize: c.codeSize,
    revisionId: c.revisionId,
    lastModified: c.lastModified,
    createdAt: doc.createdAt,
    reservedConcurrency: doc.scaling.reservedConcurrency,
    keepAliveSec: doc.scaling.keepAliveSec,
    /** The configured policy; null: the platform default. */
    keepAlivePolicy: doc.scaling.keepAlivePolicy ?? null,
    keepAlive,
    routes: doc.routes,
    versions: Object.keys(doc.versions).sort((a, b) => Number(a) - Number(b)),
    aliases: Object.values(doc.aliases).map((a) => ({ name: a.name, functionVersion: a.functionVersion, additionalVersionWeights: a.additionalVersionWeights })),
    instances: counts ?? { instances: 0, idle: 0, busy: 0, starting: 0, waiting: 0 },
  };
}

export type FunctionView = ReturnType<typeof functionView>;
