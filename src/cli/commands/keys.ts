import type { PlatformClient } from '../client.js';
import { printJson, table } from '../output.js';

interface KeyView {
  accessKeyId: string;
  tenant: string;
  admin: boolean;
  createdAt: string;
  revoked: boolean;
  description: string;
  secretAccessKey?: string;
}

/** `modelfn keys create --tenant T [--admin]`: prints the new pair (the only time the secret is shown). */
export async function keysCreateCommand(client: PlatformClient, opts: { tenant: string; admin?: boolean; description?: string; json?: boolean }): Promise<void> {
  const key = await client.json<KeyView>('POST', '/_modelfn/v1/keys', { tenant: opts.tenant, admin: opts.admin ?? false, description: opts.description ?? '' });
  if (opts.json) return printJson(key);
  process.stdout.write(
    `created ${key.admin ? 'admin ' : ''}key for tenant ${key.tenant} (the secret is not shown again):\n` +
      `  MODELFN_ACCESS_KEY_ID=${key.accessKeyId}\n  MODELFN_SECRET_ACCESS_KEY=${key.secretAccessKey}\n`,
  );
}

export async function keysListCommand(client: PlatformClient, opts: { json?: boolean }): Promise<void> {
  const { keys } = await client.json<{ keys: KeyView[] }>('GET', '/_modelfn/v1/keys');
  if (opts.json) return printJson(keys);
  process.stdout.write(
    `${table(
      ['ACCESS KEY ID', 'TENANT', 'ADMIN', 'STATE', 'CREATED', 'DESCRIPTION'],
      keys.map((k) => [k.accessKeyId, k.tenant, k.admin ? 'yes' : 'no', k.revoked ? 'revoked' : 'active', k.createdAt, k.description || '-']),
    )}\n`,
  );
}

export async function keysRevokeCommand(client: PlatformClient, id: string): Promise<void> {
  await client.json('DELETE', `/_modelfn/v1/keys/${encodeURIComponent(id)}`);
  process.stdout.write(`revoked ${id}\n`);
}
