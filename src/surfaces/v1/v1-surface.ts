import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ModelDispatcher } from '../../models/batching/model-dispatcher.js';
import { ModelInputError } from '../../models/codecs/errors.js';
import { modelMetadata } from '../../models/codecs/oip.js';
import { outputRows } from '../../models/codecs/rows.js';
import type { Tensor } from '../../models/codecs/tensor.js';
import { parseV1Request, v1ColumnResponse } from '../../models/codecs/v1.js';
import { rowOutput } from '../../models/codecs/payload.js';
import { validateRequest } from '../../models/codecs/validate.js';
import type { Registry } from '../../registry/registry.js';
import { ModelfnError } from '../../shared/errors.js';
import { newRequestId } from '../../shared/ids.js';
import { readBody } from '../../server/http/body.js';
import type { RequestTarget } from '../../server/http/request-url.js';
import type { Surface } from '../../server/surface.js';
import type { SigV4Authenticator } from '../../auth/authenticator.js';
import type { Principal } from '../../auth/access-keys.js';
import { parseModelBody, resolveModel, sendModelError, sendModelJson, versionsOf } from '../oip/model-access.js';

export interface V1SurfaceOptions {
  readonly registry: Registry;
  readonly models: ModelDispatcher;
  readonly maxRequestBytes: number;
  /** Signatures on every V1 endpoint when the platform runs with authentication (see OipSurface). */
  readonly authenticator?: SigV4Authenticator;
}

/** /v1/models/{name}[/versions/{version}][:predict | /metadata] */
interface V1Path {
  readonly name: string;
  readonly version?: string;
  readonly verb?: string;
  readonly metadata: boolean;
}

const NAME = '[A-Za-z0-9_-]{1,64}';
const PATH = new RegExp(`^/v1/models/(${NAME})(?:/versions/([A-Za-z0-9_$-]{1,128}))?(?::([a-z]+)|(/metadata))?/?$`);

/**
 * KServe V1 / TF Serving REST for model functions: `GET /v1/models/{m}` (status),
 * `POST /v1/models/{m}:predict` with `{"instances": rows}` -> `{"predictions": ...}` or
 * `{"inputs": columns}` -> `{"outputs": ...}`; `?proba=1` returns class probabilities.
 * Errors are `{"error": "..."}`.
 */
export class V1Surface implements Surface {
  readonly name = 'v1';
  readonly prefixes = ['/v1/models'];

  constructor(private readonly options: V1SurfaceOptions) {}

  async handle(req: IncomingMessage, res: ServerResponse, target: RequestTarget): Promise<void> {
    const requestId = newRequestId();
    try {
      if (this.options.authenticator) {
        const body = await readBody(req, this.options.maxRequestBytes);
        const principal = this.options.authenticator.authenticate({ req, rawPath: target.rawPath, rawQuery: target.rawQuery, body }, ['lambda', 'execute-api']);
        return await this.serve(req, res, target, requestId, principal);
      }
      await this.serve(req, res, target, requestId, undefined);
    } catch (err) {
      sendModelError(res, err, requestId);
    }
  }

  /** caller: who signed the request; only the model's lookup runs as it (model-access.ts says why). */
  private async serve(req: IncomingMessage, res: ServerResponse, target: RequestTarget, requestId: string, caller: Principal | undefined): Promise<void> {
    const path = parsePath(target.rawPath);
    const method = req.method ?? 'GET';
    if (!path) throw new ModelfnError('RESOURCE_NOT_FOUND', `no KServe V1 endpoint matches ${method} ${target.rawPath}`);
    if (path.verb !== undefined) {
      if (path.verb !== 'predict') throw new ModelfnError('RESOURCE_NOT_FOUND', `:${path.verb} is not supported (modelfn serves :predict)`);
      if (method !== 'POST') throw notAllowed(method, target.rawPath, 'POST');
      return await this.predict(req, res, path, new URLSearchParams(target.rawQuery), requestId, caller);
    }
    if (method !== 'GET' && method !== 'HEAD') throw notAllowed(method, target.rawPath, 'GET, HEAD');
    const model = resolveModel(this.options.registry, path.name, path.version, caller);
    if (path.metadata) {
      return sendModelJson(res, 200, { model_spec: { name: path.name, version: model.resolution.config.version }, metadata: modelMetadata(path.name, versionsOf(model), model.signature) });
    }
    sendModelJson(res, 200, {
      name: path.name,
      ready: true,
      model_version_status: [{ version: model.resolution.config.version, state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }],
    });
  }

  private async predict(req: IncomingMessage, res: ServerResponse, path: V1Path, query: URLSearchParams, requestId: string, caller: Principal | undefined): Promise<void> {
    const model = resolveModel(this.options.registry, path.name, path.version, caller);
    const body = parseModelBody(await readBody(req, this.options.maxRequestBytes));
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ModelInputError('the request must be a JSON object with "instances" or "inputs"');
    const b = body as Record<string, unknown>;
    const proba = flag(query.get('proba')) || b.proba === true;
    const parsed = parseV1Request(model.signature, b);
    const output = rowOutput(model.signature, proba);
    const request = validateRequest(model.signature, parsed.inputs, [output]);
    const trace = req.headers['x-amzn-trace-id'];
    const outputs: Tensor[] = await this.options.models.infer(model.resolution, request, { requestId, traceId: typeof trace === 'string' ? trace : undefined });
    const answer = parsed.kind === 'instances' ? { predictions: outputRows(outputs[0]!) } : v1ColumnResponse(outputs, parsed.named);
    sendModelJson(res, 200, answer, { 'x-request-id': requestId });
  }
}

function parsePath(rawPath: string): V1Path | undefined {
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return undefined;
  }
  const m = PATH.exec(path);
  if (!m) return undefined;
  return { name: m[1]!, version: m[2], verb: m[3], metadata: m[4] !== undefined };
}

function flag(value: string | null): boolean {
  return value !== null && ['', '1', 'true', 'yes'].includes(value.toLowerCase());
}

function notAllowed(method: string, path: string, allowed: string): ModelfnError {
  return new ModelfnError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}; allowed: ${allowed}`, { details: { allowed } });
}
