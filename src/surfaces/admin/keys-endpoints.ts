import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { AccessKey, KeyStore } from '../../auth/access-keys.js';
import { currentPrincipal } from '../../auth/principal-context.js';
import { ModelfnError } from '../../shared/errors.js';
import { parseJsonBody } from '../../shared/json.js';
import { parseOrThrow } from '../../shared/validation.js';
import { readBody } from '../../server/http/body.js';
import { sendJson } from '../../server/http/respond.js';
import type { AdminSurface } from './admin-surface.js';

const createSchema = z
  .object({
    tenant: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { message: 'must be 1-63 lowercase letters, digits or - (starting with a letter or digit)' }),
    admin: z.boolean().default(false),
    description: z.string().max(256).default(''),
  })
  .strict();

/** A key as listed: never its secret. */
function keyView(key: AccessKey) {
  return { accessKeyId: key.accessKeyId, tenant: key.tenant, admin: key.admin, createdAt: key.createdAt, revoked: key.revoked, description: key.description };
}

/** Only admin keys manage keys (anyone may when the platform runs without authentication). */
function requireAdmin(): void {
  const principal = currentPrincipal();
  if (principal && !principal.admin) throw new ModelfnError('ACCESS_DENIED', 'only an admin key manages access keys');
}

/** POST/GET /_modelfn/v1/keys, DELETE /_modelfn/v1/keys/{id}: the secret is shown once, at creation. */
export function registerKeyEndpoints(admin: AdminSurface, keys: KeyStore): void {
  admin.on('POST', '/_modelfn/v1/keys', async (req: IncomingMessage, res: ServerResponse) => {
    requireAdmin();
    const spec = parseOrThrow(createSchema, parseJsonBody(await readBody(req, 64 * 1024)), 'access key');
    const key = await keys.create(spec);
    sendJson(res, 201, { ...keyView(key), secretAccessKey: key.secretAccessKey });
  });
  admin.on('GET', '/_modelfn/v1/keys', async (_req, res) => {
    requireAdmin();
    sendJson(res, 200, { keys: keys.list().map(keyView).sort((a, b) => a.createdAt.localeCompare(b.createdAt)) });
  });
  admin.on('DELETE', '/_modelfn/v1/keys/:id', async (_req, res, params) => {
    requireAdmin();
    const key = keys.get(params.id!);
    if (!key || key.description === 'from the environment') throw new ModelfnError('RESOURCE_NOT_FOUND', `access key ${params.id} does not exist (keys given by environment are revoked by removing them there)`);
    const otherAdmins = keys.list().filter((k) => k.admin && !k.revoked && k.accessKeyId !== key.accessKeyId);
    if (key.admin && otherAdmins.length === 0) throw new ModelfnError('CONFLICT', 'this is the last admin key: create another admin key before revoking it');
    await keys.revoke(key.accessKeyId);
    res.writeHead(204);
    res.end();
  });
}
