import type { SigV4Authenticator } from '../../auth/authenticator.js';
import type { Deployer } from '../../registry/deployer.js';
import type { Registry } from '../../registry/registry.js';
import type { Dispatcher } from '../../scheduler/dispatcher.js';
import { registerAccountOperations } from './account-operations.js';
import { registerAliasOperations } from './alias-operations.js';
import type { ProvisionedStatus } from './concurrency-operations.js';
import { registerConcurrencyOperations } from './concurrency-operations.js';
import { registerFixedSettingsOperations } from './fixed-settings-operations.js';
import { registerFunctionOperations } from './function-operations.js';
import { registerLayerOperations } from './layer-operations.js';
import { registerPolicyOperations } from './policy-operations.js';
import { registerTagOperations } from './tag-operations.js';
import { LambdaApiSurface } from './lambda-api-surface.js';
import { registerUrlOperations } from './url-operations.js';

export interface LambdaApiDeps {
  readonly registry: Registry;
  readonly dispatcher: Dispatcher;
  readonly deployer: Deployer;
  readonly authenticator: SigV4Authenticator | undefined;
  readonly maxSyncPayloadBytes: number;
  readonly maxZipBytes: number;
  readonly maxUnpackedBytes: number;
  readonly accountConcurrency: number;
  readonly minUnreserved: number;
  codeLocation(sha256: string): string;
  provisionedStatus(name: string, qualifier: string): ProvisionedStatus;
}

/** The Lambda REST API with every operation modelfn implements, behind SigV4. */
export function createLambdaApi(deps: LambdaApiDeps): LambdaApiSurface {
  const api = new LambdaApiSurface(
    { registry: deps.registry, dispatcher: deps.dispatcher, maxSyncPayloadBytes: deps.maxSyncPayloadBytes },
    { authenticator: deps.authenticator, maxBodyBytes: deps.maxSyncPayloadBytes },
  );
  registerFunctionOperations(api, {
    registry: deps.registry,
    deployer: deps.deployer,
    // A base64 zip inside JSON is 4/3 of the zip, plus the configuration around it.
    maxCodeRequestBytes: Math.ceil((deps.maxZipBytes * 4) / 3) + 1024 * 1024,
    maxZipBytes: deps.maxZipBytes,
    codeLocation: deps.codeLocation,
    now: () => new Date().toISOString(),
  });
  registerAliasOperations(api, deps.registry);
  registerConcurrencyOperations(api, {
    registry: deps.registry,
    accountConcurrency: deps.accountConcurrency,
    minUnreserved: deps.minUnreserved,
    provisionedStatus: deps.provisionedStatus,
  });
  registerUrlOperations(api, deps.registry);
  registerTagOperations(api, deps.registry);
  registerPolicyOperations(api, deps.registry);
  registerFixedSettingsOperations(api, deps.registry);
  registerLayerOperations(api, deps.registry.account);
  registerAccountOperations(api, {
    registry: deps.registry,
    accountConcurrency: deps.accountConcurrency,
    minUnreserved: deps.minUnreserved,
    maxZipBytes: deps.maxZipBytes,
    maxUnpackedBytes: deps.maxUnpackedBytes,
  });
  return api;
}
