import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where the embedded default writes its admin key pair, as AWS shared credentials and config files. */
export function credentialsPaths(dataDir: string): { credentials: string; config: string } {
  return { credentials: join(dataDir, 'credentials'), config: join(dataDir, 'aws-config') };
}

export const PROFILE = 'modelfn';

/**
 * Write `credentials` (profile modelfn) and `aws-config` (its region), owner-only, so that
 * `AWS_SHARED_CREDENTIALS_FILE=<data dir>/credentials AWS_CONFIG_FILE=<data dir>/aws-config
 * aws --profile modelfn --endpoint-url ... lambda list-functions` works as is.
 */
export async function writeCredentialsFiles(dataDir: string, key: { accessKeyId: string; secretAccessKey: string }, region: string): Promise<void> {
  const paths = credentialsPaths(dataDir);
  await writeFile(paths.credentials, `[${PROFILE}]\naws_access_key_id = ${key.accessKeyId}\naws_secret_access_key = ${key.secretAccessKey}\n`, { mode: 0o600 });
  await writeFile(paths.config, `[profile ${PROFILE}]\nregion = ${region}\noutput = json\n`, { mode: 0o600 });
}

/** Read a profile from an AWS shared-credentials file (INI); undefined when absent. */
export async function readCredentialsFile(path: string, profile = PROFILE): Promise<{ accessKeyId: string; secretAccessKey: string } | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  let current = '';
  const values: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = section[1]!.trim();
      continue;
    }
    const eq = line.indexOf('=');
    if (current === profile && eq > 0) values[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  const id = values.aws_access_key_id;
  const secret = values.aws_secret_access_key;
  return id && secret ? { accessKeyId: id, secretAccessKey: secret } : undefined;
}
