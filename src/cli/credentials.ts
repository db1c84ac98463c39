import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { credentialsPaths, readCredentialsFile } from '../auth/credentials-file.js';
import type { Credentials } from './signer.js';

export interface ResolvedCredentials {
  readonly credentials: Credentials;
  readonly region: string;
}

/**
 * Where the CLI finds its keys, first match wins: MODELFN_ACCESS_KEY_ID/MODELFN_SECRET_ACCESS_KEY;
 * MODELFN_CREDENTIALS_FILE (profile MODELFN_PROFILE or "modelfn"); the credentials file the local
 * platform wrote in its data directory ($MODELFN_HOME or ./.modelfn).
 */
export async function resolveCredentials(env: NodeJS.ProcessEnv): Promise<ResolvedCredentials | undefined> {
  const dataDir = resolve(env.MODELFN_HOME ?? '.modelfn');
  const region = env.MODELFN_REGION ?? (await regionFromConfig(credentialsPaths(dataDir).config)) ?? 'us-east-1';
  if (env.MODELFN_ACCESS_KEY_ID && env.MODELFN_SECRET_ACCESS_KEY) {
    return { credentials: { accessKeyId: env.MODELFN_ACCESS_KEY_ID, secretAccessKey: env.MODELFN_SECRET_ACCESS_KEY }, region };
  }
  const file = env.MODELFN_CREDENTIALS_FILE ?? join(dataDir, 'credentials');
  const credentials = await readCredentialsFile(file, env.MODELFN_PROFILE ?? 'modelfn');
  return credentials ? { credentials, region } : undefined;
}

async function regionFromConfig(path: string): Promise<string | undefined> {
  try {
    return /^\s*region\s*=\s*(\S+)/m.exec(await readFile(path, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}
