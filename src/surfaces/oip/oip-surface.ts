import type { IncomingMessage, ServerResponse } from 'node:http';
import FindMyWay from 'find-my-way';
import type { HTTPMethod } from 'find-my-way';
import type { ModelDispatcher } from '../../models/batching/model-dispatcher.js';
import { inferResponse, modelMetadata, parseInferRequest } from '../../models/codecs/oip.js';
import { validateRequest } from '../../models/codecs/validate.js';
import type { Registry } from '../../registry/registry.js';
import { ModelfnError } from '../../shared/errors.js';
import { newRequestId } from '../../shared/ids.js';
import { readBody } from '../../server/http/body.js';
import type { RequestTarget } from '../../server/http/request-url.js';
import type { Surface } from '../../server/surface.js';
import type { SigV4Authenticator } from '../../auth/authenticator.js';
import type { Principal } from '../../auth/access-keys.js';
import { runAs } from '../../auth/principal-context.js';
import { parseModelBody, resolveModel, sendModelError, sendModelJson, versionsOf } from './model-access.js';
import { statisticsResponse } from './statistics.js';

export interface OipSurfaceOptions {
  readonly registry: Registry;
  readonly models: ModelDispatcher;
  readonly maxRequestBytes: number;
  readonly version: string;
  /** False while the platform drains: server-ready answers 503. */
  readonly accepting: () => boolean;
  /**
   * Signatures for everything but the health probes: OIP reaches every model function by name, so
   * on a platform with authentication it is an API, not a public endpoint (routes are the public way).
   */
  readonly authenticator?: SigV4Authenticator;
}

type Params = Record<string, string>;
/** caller: who signed the request (undefined without authentication); handlers look up what it may see as it. */
type Handler = (req: IncomingMessage, res: ServerResponse, params: Params, requestId: string, caller: Principal | undefined) => Promise<void>;

const METHODS: HTTPMethod[] = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD'];

/**
 * The Open Inference Protocol v2 REST API (KServe V2 / Triton / MLServer) for model functions:
 * health, server and model metadata, readiness, inference, and Triton's statistics extension.
 * A model is ready when it is deployed and was loaded successfully at deploy time; it need not
 * be warm (the first request starts an instance).
 */
export class OipSurface implements Surface {
  readonly name = 'oip';
  readonly prefixes = ['/v2'];
  private readonly router = FindMyWay({ caseSensitive: true, ignoreTrailingSlash: true, maxParamLength: 256 });

  constructor(private readonly options: OipSurfaceOptions) {
    this.on('GET', '/v2', async (_req, res) => this.serverMetadata(res));
    this.on('GET', '/v2/health/live', async (_req, res) => empty(res, 200));
    this.on('GET', '/v2/health/ready', async (_req, res) => empty(res, options.accepting() ? 200 : 503));
    this.on('GET', '/v2/models/stats', async (_req, res, _p, _id, caller) => sendModelJson(res, 200, this.allStats(caller)));
    for (const base of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
      this.on('GET', base, async (_req, res, p, _id, caller) => this.modelMetadata(res, p, caller));
      this.on('GET', `${base}/ready`, async (_req, res, p, _id, caller) => this.modelReady(res, p, caller));
      this.on('POST', `${base}/infer`, (req, res, p, id, caller) => this.infer(req, res, p, id, caller));
      this.on('GET', `${base}/stats`, async (_req, res, p, _id, caller) => this.modelStats(res, p, caller));
    }
  }

  async handle(req: IncomingMessage, res: ServerResponse, target: RequestTarget): Promise<void> {
    const requestId = newRequestId();
    try {
      const method = (req.method ?? 'GET') as HTTPMethod;
      const found = safeFind(this.router, method === 'HEAD' ? 'GET' : method, target.rawPath);
      if (!found) {
        const allowed = METHODS.filter((m) => safeFind(this.router, m, target.rawPath));
        if (allowed.length > 0) throw new ModelfnError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${target.rawPath}; allowed: ${allowed.join(', ')}`, { details: { allowed: allowed.join(', ') } });
        throw new ModelfnError('RESOURCE_NOT_FOUND', `no Open Inference Protocol endpoint matches ${method} ${target.rawPath}`);
      }
      let principal: Principal | undefined;
      if (this.options.authenticator && !target.rawPath.startsWith('/v2/health/')) {
        const body = await readBody(req, this.options.maxRequestBytes);
        principal = this.options.authenticator.authenticate({ req, rawPath: target.rawPath, rawQuery: target.rawQuery, body }, ['lambda', 'execute-api']);
      }
      const params: Params = {};
      for (const [k, v] of Object.entries(found.params)) if (v !== undefined) params[k] = v;
      await (found.store as Handler)(req, res, params, requestId, principal);
    } catch (err) {
      sendModelError(res, err, requestId);
    }
  }

  private on(method: HTTPMethod, path: string, handler: Handler): void {
    this.router.on(method, path, () => undefined, handler);
  }

  private serverMetadata(res: ServerResponse): void {
    sendModelJson(res, 200, { name: 'modelfn', version: this.options.version, extensions: ['statistics'] });
  }

  private modelMetadata(res: ServerResponse, p: Params, caller: Principal | undefined): void {
    const target = resolveModel(this.options.registry, p.name!, p.version, caller);
    sendModelJson(res, 200, modelMetadata(p.name!, versionsOf(target), target.signature));
  }

  /** Ready = deployed and loadable (checked at deploy); 404 for an unknown model. */
  private modelReady(res: ServerResponse, p: Params, caller: Principal | undefined): void {
    resolveModel(this.options.registry, p.name!, p.version, caller);
    empty(res, this.options.accepting() ? 200 : 503);
  }

  private async infer(req: IncomingMessage, res: ServerResponse, p: Params, requestId: string, caller: Principal | undefined): Promise<void> {
    const target = resolveModel(this.options.registry, p.name!, p.version, caller);
    const body = parseModelBody(await readBody(req, this.options.maxRequestBytes));
    const oip = parseInferRequest(body);
    const request = validateRequest(target.signature, oip.inputs, oip.outputs);
    const trace = req.headers['x-amzn-trace-id'];
    const outputs = await this.options.models.infer(target.resolution, request, { requestId, traceId: typeof trace === 'string' ? trace : undefined });
    sendModelJson(res, 200, inferResponse(p.name!, target.resolution.config.version, oip.id, outputs), { 'x-request-id': requestId });
  }

  private modelStats(res: ServerResponse, p: Params, caller: Principal | undefined): void {
    const target = resolveModel(this.options.registry, p.name!, p.version, caller);
    sendModelJson(res, 200, statisticsResponse(this.options.models.stats.forFunction(p.name!, p.version === undefined ? undefined : target.resolution.config.version)));
  }

  private allStats(caller: Principal | undefined): unknown {
    const names = runAs(caller, () => this.options.registry.list()).filter((doc) => doc.latest.runtime === 'model').map((doc) => doc.name);
    return statisticsResponse(names.flatMap((n) => this.options.models.stats.forFunction(n)));
  }
}

function empty(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'content-length': '0' });
  res.end();
}

function safeFind(router: FindMyWay.Instance<FindMyWay.HTTPVersion.V1>, method: HTTPMethod, path: string) {
  try {
    return router.find(method, path);
  } catch {
    return null;
  }
}
