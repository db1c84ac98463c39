import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AccessKey, KeyStore } from '../auth/access-keys.js';
import { SigV4Authenticator } from '../auth/authenticator.js';
import { credentialsPaths, writeCredentialsFiles } from '../auth/credentials-file.js';
import { SqliteKeyStore } from '../backends/sqlite/key-store.js';
import type { Clock } from '../shared/clock.js';
import type { PlatformConfig } from './config.js';

export interface AuthSetup {
  readonly keys: KeyStore & { close(): void };
  /** Undefined when the platform runs with `--auth none`. */
  readonly authenticator: SigV4Authenticator | undefined;
  readonly credentialsFile: string;
  readonly configFile: string;
}

/**
 * Access keys for the embedded default: kept in <data dir>/auth.db; on first start one admin pair
 * is created and written as AWS shared-credentials and config files. Keys given by environment
 * (MODELFN_ACCESS_KEY_ID / MODELFN_SECRET_ACCESS_KEY) are admin keys for deployments.
 */
export async function setUpAuth(
  config: PlatformConfig,
  env: Readonly<Record<string, string | undefined>>,
  clock: Clock,
  log: Logger,
  /** Cluster mode: keys shared by every node, opened with the keys given by environment. */
  openKeys?: (fromEnv: readonly AccessKey[]) => Promise<KeyStore & { close(): void }>,
): Promise<AuthSetup> {
  const fromEnv: AccessKey[] = [];
  if (env.MODELFN_ACCESS_KEY_ID && env.MODELFN_SECRET_ACCESS_KEY) {
    fromEnv.push({
      accessKeyId: env.MODELFN_ACCESS_KEY_ID,
      secretAccessKey: env.MODELFN_SECRET_ACCESS_KEY,
      tenant: 'default',
      admin: true,
      createdAt: new Date(0).toISOString(),
      revoked: false,
      description: 'from the environment',
    });
  }
  const keys = openKeys ? await openKeys(fromEnv) : new SqliteKeyStore(join(config.dataDir, 'auth.db'), fromEnv);
  const paths = credentialsPaths(config.dataDir);
  let admin = keys.list().find((k) => k.admin && !k.revoked && k.description !== 'from the environment');
  if (!admin) {
    admin = await keys.create({ tenant: 'default', admin: true, description: 'created at first start' });
    log.info({ accessKeyId: admin.accessKeyId, credentials: paths.credentials }, 'created the admin access key');
  }
  if (!existsSync(paths.credentials)) await writeCredentialsFiles(config.dataDir, admin, config.region);
  if (config.auth === 'none') {
    log.warn('authentication is OFF (--auth none): anyone who can reach this port can deploy and run code');
  }
  return {
    keys,
    authenticator: config.auth === 'none' ? undefined : new SigV4Authenticator(keys, config.region, clock),
    credentialsFile: paths.credentials,
    configFile: paths.config,
  };
}
