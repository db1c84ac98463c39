import { ModelfnError } from '../../shared/errors.js';
import type { AccountContext } from '../../registry/arn.js';
import { sendJson } from '../../server/http/respond.js';
import type { LambdaApiSurface } from './lambda-api-surface.js';
import { LAYERS_UNSUPPORTED } from './unhonoured-members.js';

/**
 * Lambda layers are not supported (a function's dependencies travel in its own zip), and the
 * layer operations say so in their own terms instead of "no operation matches": the lists are
 * empty, a layer version does not exist, publishing one is refused with what to do instead.
 */
export function registerLayerOperations(api: LambdaApiSurface, account: AccountContext): void {
  const layerArn = (name: string, version?: string) => `arn:aws:lambda:${account.region}:${account.accountId}:layer:${name}${version ? `:${version}` : ''}`;
  const notFound = (arn: string): never => {
    throw new ModelfnError('RESOURCE_NOT_FOUND', `Layer version ${arn} does not exist: ${LAYERS_UNSUPPORTED}`);
  };

  api.operation('GET', '/2018-10-31/layers', async (_req, res, _p, query) => {
    // GetLayerVersionByArn shares the path: ?find=LayerVersion&Arn=...
    if (query.get('find') === 'LayerVersion') return notFound(query.get('Arn') ?? '');
    sendJson(res, 200, { Layers: [] });
  });
  api.operation('GET', '/2018-10-31/layers/:layer/versions', async (_req, res) => {
    sendJson(res, 200, { LayerVersions: [] });
  });
  api.operation('POST', '/2018-10-31/layers/:layer/versions', async () => {
    throw new ModelfnError('INVALID_PARAMETER', LAYERS_UNSUPPORTED);
  });
  api.operation('GET', '/2018-10-31/layers/:layer/versions/:version', async (_req, _res, p) => notFound(layerArn(p.layer!, p.version)));
  api.operation('GET', '/2018-10-31/layers/:layer/versions/:version/policy', async (_req, _res, p) => notFound(layerArn(p.layer!, p.version)));
  api.operation('POST', '/2018-10-31/layers/:layer/versions/:version/policy', async (_req, _res, p) => notFound(layerArn(p.layer!, p.version)));
  api.operation('DELETE', '/2018-10-31/layers/:layer/versions/:version/policy/:sid', async (_req, _res, p) => notFound(layerArn(p.layer!, p.version)));
  // Deleting what does not exist is not an error on Lambda either.
  api.operation('DELETE', '/2018-10-31/layers/:layer/versions/:version', async (_req, res) => {
    res.writeHead(204);
    res.end();
  });
}
