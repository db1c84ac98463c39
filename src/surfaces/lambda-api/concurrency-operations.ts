import { z } from 'zod';
import { own } from '../../shared/json.js';
import { ModelfnError } from '../../shared/errors.js';
import { sendJson } from '../../server/http/respond.js';
import { parseFunctionReference } from '../../registry/arn.js';
import type { Registry } from '../../registry/registry.js';
import type { FunctionDocument } from '../../registry/types.js';
import type { ProvisionedSetting } from '../../registry/provisioned.js';
import { provisionedSettings } from '../../registry/provisioned.js';
import { hasQualifier } from '../../registry/versions.js';
import { lambdaTimestamp } from './shapes.js';
import type { LambdaApiSurface } from './lambda-api-surface.js';
import { jsonBody } from './request.js';

/** What the scheduler reports about provisioned instances of a qualifier. */
export interface ProvisionedStatus {
  readonly allocated: number;
  readonly available: number;
  readonly failure?: string;
}

export interface ConcurrencyDeps {
  readonly registry: Registry;
  /** Lambda's account limit and the share it keeps for functions without a reservation. */
  readonly accountConcurrency: number;
  readonly minUnreserved: number;
  provisionedStatus(name: string, qualifier: string): ProvisionedStatus;
}

const reservedSchema = z.object({ ReservedConcurrentExecutions: z.number().int().min(0) }).passthrough();
const provisionedSchema = z.object({ ProvisionedConcurrentExecutions: z.number().int().min(1) }).passthrough();

/** Reserved concurrency (cap and floor) and provisioned concurrency (kept warm). */
export function registerConcurrencyOperations(api: LambdaApiSurface, deps: ConcurrencyDeps): void {
  const { registry } = deps;
  const account = registry.account;
  const docOf = (ref: string): FunctionDocument => {
    const { name } = parseFunctionReference(ref, account);
    const doc = registry.get(name);
    if (!doc) throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: arn:aws:lambda:${account.region}:${account.accountId}:function:${name}`);
    return doc;
  };
  const totalReservedExcept = (name: string) =>
    registry.list().reduce((sum, d) => sum + (d.name === name ? 0 : (d.scaling.reservedConcurrency ?? 0)), 0);

  const putReserved = async (req: Parameters<Parameters<LambdaApiSurface['operation']>[2]>[0], res: Parameters<Parameters<LambdaApiSurface['operation']>[2]>[1], ref: string) => {
    const body = await jsonBody(req, reservedSchema, 64 * 1024);
    const doc = docOf(ref);
    const available = deps.accountConcurrency - deps.minUnreserved - totalReservedExcept(doc.name);
    if (body.ReservedConcurrentExecutions > available) {
      throw new ModelfnError(
        'INVALID_PARAMETER',
        `Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${deps.minUnreserved}].`,
      );
    }
    const provisionedTotal = Object.values(provisionedSettings(doc)).reduce((n, s) => n + s.requested, 0);
    if (body.ReservedConcurrentExecutions < provisionedTotal) {
      throw new ModelfnError('INVALID_PARAMETER', `ReservedConcurrentExecutions (${body.ReservedConcurrentExecutions}) must be at least the function's provisioned concurrency (${provisionedTotal})`);
    }
    await registry.update(doc.name, (d) => (d ? { ...d, scaling: { ...d.scaling, reservedConcurrency: body.ReservedConcurrentExecutions } } : null));
    sendJson(res, 200, { ReservedConcurrentExecutions: body.ReservedConcurrentExecutions });
  };
  api.operation('PUT', '/2017-10-31/functions/:name/concurrency', (req, res, p) => putReserved(req, res, p.name!));

  const getReserved = async (_req: unknown, res: Parameters<Parameters<LambdaApiSurface['operation']>[2]>[1], p: Record<string, string>) => {
    const doc = docOf(p.name!);
    sendJson(res, 200, doc.scaling.reservedConcurrency === null ? {} : { ReservedConcurrentExecutions: doc.scaling.reservedConcurrency });
  };
  api.operation('GET', '/2019-09-30/functions/:name/concurrency', getReserved);

  api.operation('DELETE', '/2017-10-31/functions/:name/concurrency', async (_req, res, p) => {
    const doc = docOf(p.name!);
    await registry.update(doc.name, (d) => (d ? { ...d, scaling: { ...d.scaling, reservedConcurrency: null } } : null));
    res.writeHead(204);
    res.end();
  });

  const qualifierOf = (ref: string, query: URLSearchParams, doc: FunctionDocument): string => {
    const q = query.get('Qualifier') ?? parseFunctionReference(ref, account).qualifier;
    if (q === undefined || q === '') throw new ModelfnError('INVALID_PARAMETER', 'Qualifier is required: provisioned concurrency applies to a version or an alias');
    if (q === '$LATEST') throw new ModelfnError('INVALID_PARAMETER', 'Provisioned Concurrency Configs cannot be applied to unpublished function versions.');
    if (!hasQualifier(doc, q)) {
      throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: arn:aws:lambda:${account.region}:${account.accountId}:function:${doc.name}:${q}`);
    }
    return q;
  };

  const view = (doc: FunctionDocument, qualifier: string, setting: ProvisionedSetting) => {
    const status = deps.provisionedStatus(doc.name, qualifier);
    const ready = status.available >= setting.requested;
    return {
      RequestedProvisionedConcurrentExecutions: setting.requested,
      AvailableProvisionedConcurrentExecutions: Math.min(status.available, setting.requested),
      AllocatedProvisionedConcurrentExecutions: Math.min(status.allocated, setting.requested),
      Status: status.failure ? 'FAILED' : ready ? 'READY' : 'IN_PROGRESS',
      ...(status.failure ? { StatusReason: status.failure } : {}),
      LastModified: lambdaTimestamp(setting.lastModified),
    };
  };

  api.operation('PUT', '/2019-09-30/functions/:name/provisioned-concurrency', async (req, res, p, query) => {
    const body = await jsonBody(req, provisionedSchema, 64 * 1024);
    const doc = docOf(p.name!);
    const qualifier = qualifierOf(p.name!, query, doc);
    const others = Object.entries(provisionedSettings(doc)).reduce((n, [q, s]) => n + (q === qualifier ? 0 : s.requested), 0);
    const reserved = doc.scaling.reservedConcurrency;
    if (reserved !== null && others + body.ProvisionedConcurrentExecutions > reserved) {
      throw new ModelfnError('INVALID_PARAMETER', `Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function (${reserved}).`);
    }
    const setting: ProvisionedSetting = { requested: body.ProvisionedConcurrentExecutions, lastModified: new Date().toISOString() };
    await registry.update(doc.name, (d) => (d ? { ...d, extensions: { ...d.extensions, provisioned: { ...provisionedSettings(d), [qualifier]: setting } } } : null));
    sendJson(res, 202, view(doc, qualifier, setting));
  });

  api.operation('GET', '/2019-09-30/functions/:name/provisioned-concurrency', async (_req, res, p, query) => {
    const doc = docOf(p.name!);
    if (!query.get('Qualifier') && !parseFunctionReference(p.name!, account).qualifier) {
      // ListProvisionedConcurrencyConfigs shares the path without a qualifier.
      const configs = Object.entries(provisionedSettings(doc)).map(([q, s]) => ({
        FunctionArn: `arn:aws:lambda:${account.region}:${account.accountId}:function:${doc.name}:${q}`,
        ...view(doc, q, s),
      }));
      return sendJson(res, 200, { ProvisionedConcurrencyConfigs: configs });
    }
    const qualifier = qualifierOf(p.name!, query, doc);
    const setting = own(provisionedSettings(doc), qualifier);
    if (!setting) throw new ModelfnError('PROVISIONED_CONCURRENCY_NOT_FOUND', `No Provisioned Concurrency Config found for this function`);
    sendJson(res, 200, view(doc, qualifier, setting));
  });

  api.operation('DELETE', '/2019-09-30/functions/:name/provisioned-concurrency', async (_req, res, p, query) => {
    const doc = docOf(p.name!);
    const qualifier = qualifierOf(p.name!, query, doc);
    if (!own(provisionedSettings(doc), qualifier)) throw new ModelfnError('PROVISIONED_CONCURRENCY_NOT_FOUND', 'No Provisioned Concurrency Config found for this function');
    await registry.update(doc.name, (d) => {
      if (!d) return null;
      const next = { ...provisionedSettings(d) };
      delete next[qualifier];
      return { ...d, extensions: { ...d.extensions, provisioned: next } };
    });
    res.writeHead(204);
    res.end();
  });
}
