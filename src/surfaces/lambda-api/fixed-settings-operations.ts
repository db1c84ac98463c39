import { z } from 'zod';
import { ModelfnError } from '../../shared/errors.js';
import { functionArn } from '../../registry/arn.js';
import type { Registry } from '../../registry/registry.js';
import { sendJson } from '../../server/http/respond.js';
import type { LambdaApiSurface } from './lambda-api-surface.js';
import { functionTarget } from './function-target.js';
import { jsonBody } from './request.js';

/**
 * Settings every function here has one answer to: code signing (none: modelfn runs the code it
 * was given, it has no signing profiles) and runtime updates (Auto: a runtime is the host's
 * interpreter, updated with the host's packages). Tools read them with every function they manage
 * (Terraform's aws_lambda_function reads the code signing configuration on each refresh), so they
 * answer as Lambda does for a function without either, and refuse a change they cannot carry out.
 */
export function registerFixedSettingsOperations(api: LambdaApiSurface, registry: Registry): void {
  const account = registry.account;
  const functionOf = (ref: string, qualifierParam: string | null = null) => functionTarget(registry, ref, qualifierParam);

  const CODE_SIGNING = '/2020-06-30/functions/:name/code-signing-config';
  api.operation('GET', CODE_SIGNING, async (_req, res, p) => {
    sendJson(res, 200, { CodeSigningConfigArn: '', FunctionName: functionOf(p.name!).doc.name });
  });
  api.operation('PUT', CODE_SIGNING, async (req, _res, p) => {
    const body = await jsonBody(req, z.object({ CodeSigningConfigArn: z.string().min(1).max(200) }).passthrough(), 64 * 1024);
    functionOf(p.name!);
    throw new ModelfnError('CODE_SIGNING_CONFIG_NOT_FOUND', `Code signing configuration ${body.CodeSigningConfigArn} does not exist: modelfn has no code signing; it runs the code a deploy gives it`);
  });
  api.operation('DELETE', CODE_SIGNING, async (_req, res, p) => {
    functionOf(p.name!);
    res.writeHead(204);
    res.end();
  });

  const RUNTIME = '/2021-07-20/functions/:name/runtime-management-config';
  api.operation('GET', RUNTIME, async (_req, res, p, query) => {
    functionOf(p.name!, query.get('Qualifier'));
    sendJson(res, 200, { UpdateRuntimeOn: 'Auto' });
  });
  api.operation('PUT', RUNTIME, async (req, res, p, query) => {
    const body = await jsonBody(req, z.object({ UpdateRuntimeOn: z.enum(['Auto', 'Manual', 'FunctionUpdate']), RuntimeVersionArn: z.string().max(2048).optional() }).passthrough(), 64 * 1024);
    const { doc, qualifier } = functionOf(p.name!, query.get('Qualifier'));
    if (body.UpdateRuntimeOn !== 'Auto' || body.RuntimeVersionArn !== undefined) {
      throw new ModelfnError('INVALID_PARAMETER', `UpdateRuntimeOn ${body.UpdateRuntimeOn}${body.RuntimeVersionArn !== undefined ? ' with a RuntimeVersionArn' : ''} is not supported: a function's runtime is the host's interpreter, updated with the host's packages (Auto)`);
    }
    sendJson(res, 200, { UpdateRuntimeOn: 'Auto', FunctionArn: functionArn(account, doc.name, qualifier) });
  });
}
