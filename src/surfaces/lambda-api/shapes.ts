import { DEFAULT_TMP_MB } from '../../runtimes/sandbox/limits.js';
import type { AccountContext } from '../../registry/arn.js';
import { functionArn } from '../../registry/arn.js';
import type { AliasConfig, FunctionConfig, FunctionDocument } from '../../registry/types.js';
import { HOST_ARCHITECTURE } from './unhonoured-members.js';

/** Lambda's timestamp format: 2019-09-24T18:20:35.054+0000. */
export function lambdaTimestamp(iso: string): string {
  return iso.replace(/Z$/, '+0000');
}

/** Lambda reports CodeSha256 as base64; modelfn stores hex. */
export function base64Sha(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64');
}

export function hexSha(base64: string): string | undefined {
  const bytes = Buffer.from(base64, 'base64');
  return bytes.length === 32 ? bytes.toString('hex') : undefined;
}

/** FunctionConfiguration as the Lambda API returns it. */
export function functionConfiguration(account: AccountContext, config: FunctionConfig) {
  const qualified = config.version !== '$LATEST';
  return {
    FunctionName: config.name,
    FunctionArn: functionArn(account, config.name, qualified ? config.version : undefined),
    Runtime: config.runtime,
    Role: config.role ?? `arn:aws:iam::${account.accountId}:role/modelfn-execution`,
    Handler: config.handler,
    CodeSize: config.codeSize,
    Description: config.description,
    Timeout: config.timeoutSec,
    MemorySize: config.memoryMb,
    LastModified: lambdaTimestamp(config.lastModified),
    CodeSha256: base64Sha(config.codeSha256),
    Version: config.version,
    ...(Object.keys(config.environment).length > 0 ? { Environment: { Variables: config.environment } } : {}),
    TracingConfig: { Mode: 'PassThrough' },
    RevisionId: config.revisionId,
    State: 'Active',
    LastUpdateStatus: 'Successful',
    PackageType: 'Zip',
    Architectures: [HOST_ARCHITECTURE],
    EphemeralStorage: { Size: config.tmpSizeMb ?? DEFAULT_TMP_MB },
    SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
    LoggingConfig: { LogFormat: 'Text', LogGroup: `/aws/lambda/${config.name}` },
  };
}

export function aliasConfiguration(account: AccountContext, doc: FunctionDocument, alias: AliasConfig) {
  const weights = Object.keys(alias.additionalVersionWeights).length > 0;
  return {
    AliasArn: functionArn(account, doc.name, alias.name),
    Name: alias.name,
    FunctionVersion: alias.functionVersion,
    Description: alias.description,
    ...(weights ? { RoutingConfig: { AdditionalVersionWeights: alias.additionalVersionWeights } } : {}),
    RevisionId: alias.revisionId,
  };
}

/** Marker paging as Lambda does it: an opaque marker, at most maxItems per page. */
export function page<T>(items: readonly T[], key: (item: T) => string, marker: string | null, maxItems: number): { items: T[]; nextMarker?: string } {
  let start = 0;
  if (marker) {
    const after = Buffer.from(marker, 'base64url').toString('utf8');
    start = items.findIndex((item) => key(item) > after);
    if (start < 0) start = items.length;
  }
  const slice = items.slice(start, start + maxItems);
  const more = start + maxItems < items.length;
  return { items: slice, ...(more ? { nextMarker: Buffer.from(key(slice.at(-1)!)).toString('base64url') } : {}) };
}
