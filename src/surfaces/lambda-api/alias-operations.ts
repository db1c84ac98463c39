import { z } from 'zod';
import { own } from '../../shared/json.js';
import { ModelfnError } from '../../shared/errors.js';
import { sendJson } from '../../server/http/respond.js';
import { parseFunctionReference } from '../../registry/arn.js';
import type { Registry } from '../../registry/registry.js';
import type { FunctionDocument } from '../../registry/types.js';
import { deleteAlias, putAlias } from '../../registry/versions.js';
import type { LambdaApiSurface } from './lambda-api-surface.js';
import { jsonBody, maxItems } from './request.js';
import { aliasConfiguration, page } from './shapes.js';

const routing = z.object({ AdditionalVersionWeights: z.record(z.string(), z.number()).optional() }).passthrough();
const createSchema = z
  .object({ Name: z.string().min(1).max(128), FunctionVersion: z.string().min(1).max(1024), Description: z.string().max(256).optional(), RoutingConfig: routing.optional() })
  .passthrough();
const updateSchema = z
  .object({ FunctionVersion: z.string().min(1).max(1024).optional(), Description: z.string().max(256).optional(), RoutingConfig: routing.optional(), RevisionId: z.string().optional() })
  .passthrough();

/** CreateAlias, GetAlias, UpdateAlias, ListAliases, DeleteAlias. */
export function registerAliasOperations(api: LambdaApiSurface, registry: Registry): void {
  const account = registry.account;
  const nameOf = (ref: string) => parseFunctionReference(ref, account).name;
  const docOf = (ref: string): FunctionDocument => {
    const name = nameOf(ref);
    const doc = registry.get(name);
    if (!doc) throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: arn:aws:lambda:${account.region}:${account.accountId}:function:${name}`);
    return doc;
  };
  const write = async (ref: string, change: (doc: FunctionDocument) => FunctionDocument): Promise<FunctionDocument> => {
    const name = docOf(ref).name;
    const stored = await registry.update(name, (doc) => {
      if (!doc) throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: ${name}`);
      return change(doc);
    });
    return stored!.doc;
  };

  api.operation('POST', '/2015-03-31/functions/:name/aliases', async (req, res, p) => {
    const body = await jsonBody(req, createSchema, 64 * 1024);
    const doc = await write(p.name!, (d) =>
      putAlias(d, body.Name, { functionVersion: body.FunctionVersion, description: body.Description ?? '', additionalVersionWeights: body.RoutingConfig?.AdditionalVersionWeights ?? {} }, 'create').doc,
    );
    sendJson(res, 201, aliasConfiguration(account, doc, own(doc.aliases, body.Name)!));
  });

  api.operation('GET', '/2015-03-31/functions/:name/aliases/:alias', async (_req, res, p) => {
    const doc = docOf(p.name!);
    const alias = own(doc.aliases, p.alias!);
    if (!alias) throw new ModelfnError('RESOURCE_NOT_FOUND', `Alias not found: arn:aws:lambda:${account.region}:${account.accountId}:function:${doc.name}:${p.alias}`);
    sendJson(res, 200, aliasConfiguration(account, doc, alias));
  });

  api.operation('PUT', '/2015-03-31/functions/:name/aliases/:alias', async (req, res, p) => {
    const body = await jsonBody(req, updateSchema, 64 * 1024);
    const doc = await write(p.name!, (d) =>
      putAlias(
        d,
        p.alias!,
        {
          ...(body.FunctionVersion !== undefined ? { functionVersion: body.FunctionVersion } : {}),
          ...(body.Description !== undefined ? { description: body.Description } : {}),
          ...(body.RoutingConfig !== undefined ? { additionalVersionWeights: body.RoutingConfig.AdditionalVersionWeights ?? {} } : {}),
        },
        'update',
        body.RevisionId,
      ).doc,
    );
    sendJson(res, 200, aliasConfiguration(account, doc, own(doc.aliases, p.alias!)!));
  });

  api.operation('GET', '/2015-03-31/functions/:name/aliases', async (_req, res, p, query) => {
    const doc = docOf(p.name!);
    const version = query.get('FunctionVersion');
    const aliases = Object.values(doc.aliases)
      .filter((a) => version === null || a.functionVersion === version)
      .sort((a, b) => a.name.localeCompare(b.name));
    const { items, nextMarker } = page(aliases, (a) => a.name, query.get('Marker'), maxItems(query));
    sendJson(res, 200, { Aliases: items.map((a) => aliasConfiguration(account, doc, a)), ...(nextMarker ? { NextMarker: nextMarker } : {}) });
  });

  api.operation('DELETE', '/2015-03-31/functions/:name/aliases/:alias', async (_req, res, p) => {
    await write(p.name!, (d) => deleteAlias(d, p.alias!));
    res.writeHead(204);
    res.end();
  });
}
