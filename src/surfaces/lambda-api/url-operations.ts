import type { IncomingMessage } from 'node:http';
import { own } from '../../shared/json.js';
import { z } from 'zod';
import { ModelfnError } from '../../shared/errors.js';
import { sendJson } from '../../server/http/respond.js';
import { functionArn, parseFunctionReference } from '../../registry/arn.js';
import type { Registry } from '../../registry/registry.js';
import type { FunctionDocument } from '../../registry/types.js';
import type { UrlConfig } from '../function-urls/url-config.js';
import { URL_PREFIX, newUrlId, urlConfigs } from '../function-urls/url-config.js';
import type { LambdaApiSurface } from './lambda-api-surface.js';
import { jsonBody } from './request.js';
import { hasQualifier } from '../../registry/versions.js';
import { lambdaTimestamp } from './shapes.js';

const cors = z
  .object({
    AllowCredentials: z.boolean().optional(),
    AllowHeaders: z.array(z.string().max(1024)).max(100).optional(),
    AllowMethods: z.array(z.string().max(6)).max(6).optional(),
    AllowOrigins: z.array(z.string().max(253)).max(100).optional(),
    ExposeHeaders: z.array(z.string().max(1024)).max(100).optional(),
    MaxAge: z.number().int().min(0).max(86400).optional(),
  })
  .strict();
const createSchema = z.object({ AuthType: z.enum(['NONE', 'AWS_IAM']), Cors: cors.optional(), InvokeMode: z.enum(['BUFFERED', 'RESPONSE_STREAM']).optional() }).passthrough();
const updateSchema = z.object({ AuthType: z.enum(['NONE', 'AWS_IAM']).optional(), Cors: cors.optional(), InvokeMode: z.enum(['BUFFERED', 'RESPONSE_STREAM']).optional() }).passthrough();

/** Create/Get/Update/Delete/ListFunctionUrlConfig(s). */
export function registerUrlOperations(api: LambdaApiSurface, registry: Registry): void {
  const account = registry.account;
  const target = (ref: string, query: URLSearchParams): { doc: FunctionDocument; qualifier: string } => {
    const parsed = parseFunctionReference(ref, account);
    const doc = registry.get(parsed.name);
    if (!doc) throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: ${functionArn(account, parsed.name)}`);
    const qualifier = query.get('Qualifier') ?? parsed.qualifier ?? '';
    if (qualifier === '$LATEST') return { doc, qualifier: '' };
    if (qualifier !== '' && !hasQualifier(doc, qualifier)) {
      throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: ${functionArn(account, doc.name, qualifier)}`);
    }
    if (/^\d+$/.test(qualifier)) throw new ModelfnError('INVALID_PARAMETER', 'Function URLs can be created for $LATEST or an alias, not a version number');
    return { doc, qualifier };
  };
  const view = (req: IncomingMessage, doc: FunctionDocument, url: UrlConfig) => ({
    FunctionUrl: `http://${req.headers.host ?? 'localhost'}${URL_PREFIX}/${url.urlId}/`,
    FunctionArn: functionArn(account, doc.name, url.qualifier || undefined),
    AuthType: url.authType,
    ...(url.cors ? { Cors: url.cors } : {}),
    CreationTime: lambdaTimestamp(url.createdAt),
    LastModifiedTime: lambdaTimestamp(url.lastModified),
    InvokeMode: url.invokeMode,
  });
  const save = (name: string, qualifier: string, url: UrlConfig | null) =>
    registry.update(name, (d) => {
      if (!d) throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: ${name}`);
      const urls: Record<string, UrlConfig> = { ...urlConfigs(d) };
      // defineProperty: an alias named __proto__ is a key, not the object's prototype.
      if (url) Object.defineProperty(urls, qualifier, { value: url, enumerable: true, writable: true, configurable: true });
      else delete urls[qualifier];
      return { ...d, extensions: { ...d.extensions, urls } };
    });

  api.operation('POST', '/2021-10-31/functions/:name/url', async (req, res, p, query) => {
    const body = await jsonBody(req, createSchema, 64 * 1024);
    const { doc, qualifier } = target(p.name!, query);
    if (own(urlConfigs(doc), qualifier)) throw new ModelfnError('CONFLICT', `Failed to create function url config for [functionArn = ${functionArn(account, doc.name, qualifier || undefined)}]. Error message:  FunctionUrlConfig exists for this Lambda function`);
    const now = new Date().toISOString();
    const url: UrlConfig = { urlId: newUrlId(), qualifier, authType: body.AuthType, ...(body.Cors ? { cors: body.Cors } : {}), invokeMode: body.InvokeMode ?? 'BUFFERED', createdAt: now, lastModified: now };
    await save(doc.name, qualifier, url);
    sendJson(res, 201, view(req, doc, url));
  });

  api.operation('GET', '/2021-10-31/functions/:name/url', async (req, res, p, query) => {
    const { doc, qualifier } = target(p.name!, query);
    const url = own(urlConfigs(doc), qualifier);
    if (!url) throw new ModelfnError('RESOURCE_NOT_FOUND', 'The resource you requested does not exist.');
    sendJson(res, 200, view(req, doc, url));
  });

  api.operation('PUT', '/2021-10-31/functions/:name/url', async (req, res, p, query) => {
    const body = await jsonBody(req, updateSchema, 64 * 1024);
    const { doc, qualifier } = target(p.name!, query);
    const current = own(urlConfigs(doc), qualifier);
    if (!current) throw new ModelfnError('RESOURCE_NOT_FOUND', 'The resource you requested does not exist.');
    const url: UrlConfig = {
      ...current,
      ...(body.AuthType ? { authType: body.AuthType } : {}),
      ...(body.Cors ? { cors: body.Cors } : {}),
      ...(body.InvokeMode ? { invokeMode: body.InvokeMode } : {}),
      lastModified: new Date().toISOString(),
    };
    await save(doc.name, qualifier, url);
    sendJson(res, 200, view(req, doc, url));
  });

  api.operation('DELETE', '/2021-10-31/functions/:name/url', async (_req, res, p, query) => {
    const { doc, qualifier } = target(p.name!, query);
    if (!own(urlConfigs(doc), qualifier)) throw new ModelfnError('RESOURCE_NOT_FOUND', 'The resource you requested does not exist.');
    await save(doc.name, qualifier, null);
    res.writeHead(204);
    res.end();
  });

  api.operation('GET', '/2021-10-31/functions/:name/urls', async (req, res, p) => {
    const { doc } = target(p.name!, new URLSearchParams());
    sendJson(res, 200, { FunctionUrlConfigs: Object.values(urlConfigs(doc)).map((u) => view(req, doc, u)) });
  });
}
