import type { ServerResponse } from 'node:http';
import { own } from '../../shared/json.js';
import { z } from 'zod';
import { ModelfnError } from '../../shared/errors.js';
import { parseOrThrow } from '../../shared/validation.js';
import { sendJson } from '../../server/http/respond.js';
import { parseFunctionReference } from '../../registry/arn.js';
import type { Deployer } from '../../registry/deployer.js';
import { deploySpecSchema } from '../../registry/function-spec.js';
import type { DeploySpec } from '../../registry/function-spec.js';
import type { Registry } from '../../registry/registry.js';
import type { FunctionConfig, FunctionDocument } from '../../registry/types.js';
import { deleteVersion, publishVersion } from '../../registry/versions.js';
import type { LambdaApiSurface } from './lambda-api-surface.js';
import { jsonBody, maxItems } from './request.js';
import { functionConfiguration, page } from './shapes.js';
import { parseTags, tagsOf } from './tag-operations.js';
import { refuseUnhonoured } from './unhonoured-members.js';

export interface FunctionOperationDeps {
  readonly registry: Registry;
  readonly deployer: Deployer;
  /** Largest CreateFunction / UpdateFunctionCode body (a base64 zip inside JSON). */
  readonly maxCodeRequestBytes: number;
  readonly maxZipBytes: number;
  /** A short-lived URL to download a bundle (GetFunction's Code.Location). */
  codeLocation(sha256: string): string;
  now(): string;
}

const environment = z.object({ Variables: z.record(z.string(), z.string()).optional() }).passthrough();
const code = z
  .object({ ZipFile: z.string().optional(), S3Bucket: z.string().optional(), S3Key: z.string().optional(), ImageUri: z.string().optional() })
  .passthrough();

/** Lambda's ephemeral storage: the size of the sandbox's private /tmp (512-10240 MB, checked by the deploy spec). */
const ephemeralStorage = z.object({ Size: z.number() }).strict();

const createSchema = z
  .object({
    FunctionName: z.string().min(1).max(170),
    Runtime: z.string().min(1).max(64).optional(),
    Role: z.string().max(2048).optional(),
    Handler: z.string().max(128).optional(),
    Code: code,
    Description: z.string().max(256).optional(),
    Timeout: z.number().optional(),
    MemorySize: z.number().optional(),
    EphemeralStorage: ephemeralStorage.optional(),
    Publish: z.boolean().optional(),
    Environment: environment.optional(),
    PackageType: z.enum(['Zip', 'Image']).optional(),
    Architectures: z.array(z.enum(['x86_64', 'arm64'])).max(1).optional(),
    Tags: z.unknown().optional(),
  })
  .passthrough();

const updateCodeSchema = z
  .object({ ZipFile: z.string().optional(), S3Bucket: z.string().optional(), ImageUri: z.string().optional(), Publish: z.boolean().optional(), DryRun: z.boolean().optional(), RevisionId: z.string().optional() })
  .passthrough();

const updateConfigSchema = z
  .object({
    Role: z.string().max(2048).optional(),
    Handler: z.string().max(128).optional(),
    Description: z.string().max(256).optional(),
    Timeout: z.number().optional(),
    MemorySize: z.number().optional(),
    EphemeralStorage: ephemeralStorage.optional(),
    Environment: environment.optional(),
    Runtime: z.string().min(1).max(64).optional(),
    RevisionId: z.string().optional(),
  })
  .passthrough();

const publishSchema = z.object({ CodeSha256: z.string().optional(), Description: z.string().max(256).optional(), RevisionId: z.string().optional() }).passthrough();

/** CreateFunction (with its Tags), GetFunction(Configuration), ListFunctions, Update*, DeleteFunction, PublishVersion, ListVersionsByFunction. */
export function registerFunctionOperations(api: LambdaApiSurface, deps: FunctionOperationDeps): void {
  const { registry, deployer } = deps;
  const account = registry.account;

  const existing = (ref: string): FunctionDocument => {
    const { name } = parseFunctionReference(ref, account);
    const doc = registry.get(name);
    if (!doc) throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: arn:aws:lambda:${account.region}:${account.accountId}:function:${name}`);
    return doc;
  };

  /** The configuration a qualifier names (version, alias, $LATEST). */
  const configOf = (ref: string, qualifier: string | null) => {
    const parsed = parseFunctionReference(ref, account);
    const q = qualifier ?? parsed.qualifier;
    const doc = existing(ref);
    if (q !== undefined && q !== '$LATEST' && !/^\d+$/.test(q)) {
      const alias = own(doc.aliases, q);
      if (!alias) throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: arn:aws:lambda:${account.region}:${account.accountId}:function:${doc.name}:${q}`);
      return registry.versionConfig(doc, alias.functionVersion)!;
    }
    return registry.resolve(doc.name, q).config;
  };

  const decodeZip = (base64: string | undefined): Buffer => {
    if (base64 === undefined) {
      throw new ModelfnError('INVALID_PARAMETER', 'Code.ZipFile is required: modelfn takes deployment packages inline (S3 and container images are not available)');
    }
    if (!/^[A-Za-z0-9+/\r\n]*={0,2}$/.test(base64)) throw new ModelfnError('INVALID_PARAMETER', 'ZipFile must be base64-encoded');
    const zip = Buffer.from(base64, 'base64');
    if (zip.length > deps.maxZipBytes) {
      throw new ModelfnError('PAYLOAD_TOO_LARGE', `Zipped size must be smaller than ${deps.maxZipBytes} bytes`);
    }
    return zip;
  };

  const specOf = (doc: FunctionDocument): DeploySpec => ({
    runtime: doc.latest.runtime,
    handler: doc.latest.handler,
    memoryMb: doc.latest.memoryMb,
    timeoutSec: doc.latest.timeoutSec,
    environment: doc.latest.environment,
    description: doc.latest.description,
    ...(doc.latest.role !== undefined ? { role: doc.latest.role } : {}),
    code: { sha256: doc.latest.codeSha256 },
    reservedConcurrency: doc.scaling.reservedConcurrency,
    keepAliveSec: doc.scaling.keepAliveSec,
  });

  const validated = (spec: unknown): DeploySpec => {
    try {
      return parseOrThrow(deploySpecSchema, spec, 'function configuration');
    } catch (err) {
      if (err instanceof ModelfnError) throw new ModelfnError('INVALID_PARAMETER', err.message.replace(/^invalid function configuration: /, ''));
      throw err;
    }
  };

  const publish = async (name: string, options: { description?: string; revisionId?: string; codeSha256Hex?: string }) => {
    let published!: ReturnType<typeof publishVersion>;
    await registry.update(name, (doc) => {
      if (!doc) throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: ${name}`);
      published = publishVersion(doc, deps.now(), options);
      return published.doc;
    });
    return published;
  };

  const reply = (res: ServerResponse, status: number, body: unknown) => sendJson(res, status, body);
  /** A configuration as Lambda shows it, with the members other modules keep for the function. */
  const configurationView = (config: FunctionConfig): Record<string, unknown> => {
    const view: Record<string, unknown> = functionConfiguration(account, config);
    const doc = api.configurationMembers.length > 0 ? registry.get(config.name) : undefined;
    if (!doc) return view;
    for (const m of api.configurationMembers) {
      const shown = m.view(doc);
      if (shown !== undefined) view[m.member] = shown;
    }
    return view;
  };
  /** The extensions the request's members of other modules ask for, each checked by its module. */
  const memberExtensions = async (body: Readonly<Record<string, unknown>>): Promise<Record<string, unknown> | undefined> => {
    let extensions: Record<string, unknown> | undefined;
    for (const m of api.configurationMembers) {
      if (body[m.member] !== undefined) extensions = { ...extensions, ...(await m.extensionsFor(body[m.member])) };
    }
    return extensions;
  };

  api.operation(
    'POST',
    '/2015-03-31/functions',
    async (req, res) => {
      const body = await jsonBody(req, createSchema, deps.maxCodeRequestBytes);
      const { name } = parseFunctionReference(body.FunctionName, account);
      if (body.PackageType === 'Image') throw new ModelfnError('INVALID_PARAMETER', 'PackageType Image is not supported: deploy a Zip package');
      refuseUnhonoured(body);
      if (!body.Runtime || !body.Handler) throw new ModelfnError('INVALID_PARAMETER', 'Runtime and Handler are required for Zip packages');
      if (registry.get(name)) throw new ModelfnError('CONFLICT', `Function already exist: ${name}`);
      const tags = body.Tags === undefined ? undefined : parseTags(body.Tags);
      // Checked before the code is stored: a refused member leaves no bundle behind.
      const members = await memberExtensions(body);
      const spec = validated({
        runtime: body.Runtime,
        handler: body.Handler,
        memoryMb: body.MemorySize,
        timeoutSec: body.Timeout,
        ...(body.EphemeralStorage ? { tmpSizeMb: body.EphemeralStorage.Size } : {}),
        environment: body.Environment?.Variables ?? {},
        description: body.Description ?? '',
        ...(body.Role !== undefined ? { role: body.Role } : {}),
        code: { sha256: (await deployer.uploadBundle(decodeZip(body.Code.ZipFile))).sha256 },
      });
      const initialExtensions = tags || members ? { ...(tags ? { tags } : {}), ...members } : undefined;
      const doc = await deployer.deploy(name, spec, { mustNotExist: true, ...(initialExtensions ? { initialExtensions } : {}) });
      if (body.Publish) return reply(res, 201, configurationView((await publish(name, {})).version));
      reply(res, 201, configurationView(doc.latest));
    },
    { maxBodyBytes: deps.maxCodeRequestBytes },
  );

  const list = async (_req: unknown, res: ServerResponse, _p: Record<string, string>, query: URLSearchParams) => {
    const all = query.get('FunctionVersion') === 'ALL';
    const configs = registry.list().flatMap((doc) => (all ? [doc.latest, ...Object.values(doc.versions)] : [doc.latest]));
    const key = (c: { name: string; version: string }) => `${c.name}\u0000${c.version.padStart(12, '0')}`;
    const { items, nextMarker } = page(configs, key, query.get('Marker'), maxItems(query));
    reply(res, 200, { Functions: items.map((c) => configurationView(c)), ...(nextMarker ? { NextMarker: nextMarker } : {}) });
  };
  api.operation('GET', '/2015-03-31/functions', list);

  api.operation('GET', '/2015-03-31/functions/:name', async (_req, res, p, query) => {
    const config = configOf(p.name!, query.get('Qualifier'));
    const doc = existing(p.name!);
    const tags = tagsOf(doc);
    reply(res, 200, {
      Configuration: configurationView(config),
      Code: { RepositoryType: 'S3', Location: deps.codeLocation(config.codeSha256) },
      ...(doc.scaling.reservedConcurrency !== null ? { Concurrency: { ReservedConcurrentExecutions: doc.scaling.reservedConcurrency } } : {}),
      ...(Object.keys(tags).length > 0 ? { Tags: tags } : {}),
    });
  });

  api.operation('GET', '/2015-03-31/functions/:name/configuration', async (_req, res, p, query) => {
    reply(res, 200, configurationView(configOf(p.name!, query.get('Qualifier'))));
  });

  api.operation(
    'PUT',
    '/2015-03-31/functions/:name/code',
    async (req, res, p) => {
      const body = await jsonBody(req, updateCodeSchema, deps.maxCodeRequestBytes);
      const doc = existing(p.name!);
      const zip = decodeZip(body.ZipFile);
      const bundle = await deployer.uploadBundle(zip);
      if (body.DryRun) {
        return reply(res, 200, configurationView({ ...doc.latest, codeSha256: bundle.sha256, codeSize: bundle.size }));
      }
      const updated = await deployer.deploy(doc.name, { ...specOf(doc), code: { sha256: bundle.sha256 } }, { mustExist: true, ...(body.RevisionId ? { revisionId: body.RevisionId } : {}) });
      if (body.Publish) return reply(res, 200, configurationView((await publish(doc.name, {})).version));
      reply(res, 200, configurationView(updated.latest));
    },
    { maxBodyBytes: deps.maxCodeRequestBytes },
  );

  api.operation('PUT', '/2015-03-31/functions/:name/configuration', async (req, res, p) => {
    const body = await jsonBody(req, updateConfigSchema, 1024 * 1024);
    refuseUnhonoured(body);
    const doc = existing(p.name!);
    const current = specOf(doc);
    const spec = validated({
      ...current,
      ...(body.Runtime !== undefined ? { runtime: body.Runtime } : {}),
      ...(body.Handler !== undefined ? { handler: body.Handler } : {}),
      ...(body.MemorySize !== undefined ? { memoryMb: body.MemorySize } : {}),
      ...(body.EphemeralStorage ? { tmpSizeMb: body.EphemeralStorage.Size } : {}),
      ...(body.Timeout !== undefined ? { timeoutSec: body.Timeout } : {}),
      ...(body.Description !== undefined ? { description: body.Description } : {}),
      ...(body.Role !== undefined ? { role: body.Role } : {}),
      ...(body.Environment !== undefined ? { environment: body.Environment.Variables ?? {} } : {}),
    });
    const setExtensions = await memberExtensions(body);
    const updated = await deployer.deploy(doc.name, spec, { mustExist: true, ...(body.RevisionId ? { revisionId: body.RevisionId } : {}), ...(setExtensions ? { setExtensions } : {}) });
    reply(res, 200, configurationView(updated.latest));
  });

  api.operation('DELETE', '/2015-03-31/functions/:name', async (_req, res, p, query) => {
    const parsed = parseFunctionReference(p.name!, account);
    const qualifier = query.get('Qualifier') ?? parsed.qualifier;
    const doc = existing(p.name!);
    if (qualifier === undefined) {
      await deployer.remove(doc.name);
    } else if (/^\d+$/.test(qualifier)) {
      await registry.update(doc.name, (d) => {
        if (!d) throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: ${doc.name}`);
        return deleteVersion(d, qualifier);
      });
    } else {
      throw new ModelfnError('INVALID_PARAMETER', `Qualifier ${qualifier} cannot be deleted with DeleteFunction: delete a version by number, or the alias with DeleteAlias`);
    }
    res.writeHead(204);
    res.end();
  });

  api.operation('POST', '/2015-03-31/functions/:name/versions', async (req, res, p) => {
    const body = await jsonBody(req, publishSchema, 1024 * 1024);
    const doc = existing(p.name!);
    let codeSha256Hex: string | undefined;
    if (body.CodeSha256 !== undefined) {
      codeSha256Hex = Buffer.from(body.CodeSha256, 'base64').toString('hex');
    }
    const published = await publish(doc.name, {
      ...(body.Description !== undefined ? { description: body.Description } : {}),
      ...(body.RevisionId !== undefined ? { revisionId: body.RevisionId } : {}),
      ...(codeSha256Hex !== undefined ? { codeSha256Hex } : {}),
    });
    reply(res, 201, configurationView(published.version));
  });

  api.operation('GET', '/2015-03-31/functions/:name/versions', async (_req, res, p, query) => {
    const doc = existing(p.name!);
    const configs = [doc.latest, ...Object.values(doc.versions).sort((a, b) => Number(a.version) - Number(b.version))];
    const key = (c: { version: string }) => (c.version === '$LATEST' ? '' : c.version.padStart(12, '0'));
    const { items, nextMarker } = page(configs, key, query.get('Marker'), maxItems(query));
    reply(res, 200, { Versions: items.map((c) => configurationView(c)), ...(nextMarker ? { NextMarker: nextMarker } : {}) });
  });
}
