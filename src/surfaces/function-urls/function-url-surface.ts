import type { IncomingMessage, ServerResponse } from 'node:http';
import { ModelfnError, toModelfnError } from '../../shared/errors.js';
import { newRequestId } from '../../shared/ids.js';
import type { Clock } from '../../shared/clock.js';
import type { SigV4Authenticator } from '../../auth/authenticator.js';
import type { Principal } from '../../auth/access-keys.js';
import { runAs } from '../../auth/principal-context.js';
import type { Registry } from '../../registry/registry.js';
import type { Dispatcher } from '../../scheduler/dispatcher.js';
import { readBody } from '../../server/http/body.js';
import { closeAfterResponse, endWithBody, headerList } from '../../server/http/respond.js';
import type { RequestTarget } from '../../server/http/request-url.js';
import type { Surface } from '../../server/surface.js';
import { PayloadV2 } from '../routes/apigw-v2.js';
import { httpRequestInfo } from '../routes/http-request.js';
import type { MappedResponse } from '../routes/payload-format.js';
import { jsonError, mapOutcome } from '../routes/payload-format.js';
import type { CorsConfig, UrlConfig } from './url-config.js';
import { URL_PREFIX, urlConfigs } from './url-config.js';

const codec = new PayloadV2();

export interface FunctionUrlDeps {
  readonly registry: Registry;
  readonly dispatcher: Dispatcher;
  readonly clock: Clock;
  readonly maxRequestBytes: number;
  /** Absent when the platform runs without authentication. */
  readonly authenticator?: SigV4Authenticator;
}

/**
 * Function URLs at /lambda-url/<url-id>/<path>: API Gateway 2.0 events as Lambda function URLs
 * send them (routeKey $default, rawPath without the prefix), optional SigV4 (AuthType AWS_IAM)
 * and CORS.
 */
export class FunctionUrlSurface implements Surface {
  readonly name = 'function-urls';
  readonly prefixes = [URL_PREFIX];
  private byId = new Map<string, { name: string; url: UrlConfig }>();

  constructor(private readonly deps: FunctionUrlDeps) {
    this.rebuild();
    deps.registry.on('change', () => this.rebuild());
  }

  async handle(req: IncomingMessage, res: ServerResponse, target: RequestTarget): Promise<void> {
    const requestId = newRequestId();
    let mapped: MappedResponse;
    let cors: CorsConfig | undefined;
    try {
      const rest = target.rawPath.slice(URL_PREFIX.length + 1);
      const slash = rest.indexOf('/');
      const id = slash < 0 ? rest : rest.slice(0, slash);
      const entry = this.byId.get(id);
      if (!entry) throw new ModelfnError('RESOURCE_NOT_FOUND', 'no function URL with this id');
      cors = entry.url.cors;
      const rawPath = slash < 0 ? '/' : rest.slice(slash);
      if (req.method === 'OPTIONS' && cors && req.headers['access-control-request-method']) {
        mapped = { status: 204, headers: {}, body: Buffer.alloc(0) };
      } else {
        const body = await readBody(req, this.deps.maxRequestBytes);
        let principal: Principal | undefined;
        if (entry.url.authType === 'AWS_IAM') {
          if (!this.deps.authenticator) throw new ModelfnError('ACCESS_DENIED', 'this function URL requires AWS_IAM authentication, which is disabled on this platform');
          principal = this.deps.authenticator.authenticate({ req, rawPath: target.rawPath, rawQuery: target.rawQuery, body }, ['lambda']);
        }
        const resolution = runAs(principal, () => this.deps.registry.resolve(entry.name, entry.url.qualifier || undefined));
        const payload = codec.buildEvent(
          httpRequestInfo(req, { rawPath, rawQuery: target.rawQuery, body, requestId, timeEpoch: this.deps.clock.now(), accountId: this.deps.registry.account.accountId }),
          { functionName: entry.name, route: { method: 'ANY', path: '$default', payloadFormat: '2.0' }, routeKey: '$default', payloadFormat: '2.0' },
          undefined,
        );
        const outcome = await this.deps.dispatcher.invoke(resolution, { requestId, payload });
        mapped = mapOutcome(codec, outcome);
      }
    } catch (err) {
      const error = toModelfnError(err);
      if (error.details.close === true) closeAfterResponse(res);
      mapped = jsonError(error.status, error.kind === 'system' ? 'Internal Server Error' : error.message, error.code);
    }
    const own = ['content-length', String(mapped.body.length), 'x-amzn-requestid', requestId];
    for (const [name, value] of Object.entries(corsHeaders(cors, req))) own.push(name, value);
    res.writeHead(mapped.status, headerList(mapped.headers, own));
    endWithBody(res, req.method === 'HEAD' ? undefined : mapped.body);
  }

  private rebuild(): void {
    const next = new Map<string, { name: string; url: UrlConfig }>();
    for (const doc of this.deps.registry.list()) for (const url of Object.values(urlConfigs(doc))) next.set(url.urlId, { name: doc.name, url });
    this.byId = next;
  }
}

function corsHeaders(cors: CorsConfig | undefined, req: IncomingMessage): Record<string, string> {
  if (!cors) return {};
  const origin = req.headers.origin;
  const origins = cors.AllowOrigins ?? [];
  const allowed = origins.includes('*') ? '*' : origin !== undefined && origins.includes(origin) ? origin : undefined;
  if (allowed === undefined) return {};
  return {
    'access-control-allow-origin': allowed,
    ...(cors.AllowMethods?.length ? { 'access-control-allow-methods': cors.AllowMethods.join(',') } : {}),
    ...(cors.AllowHeaders?.length ? { 'access-control-allow-headers': cors.AllowHeaders.join(',') } : {}),
    ...(cors.ExposeHeaders?.length ? { 'access-control-expose-headers': cors.ExposeHeaders.join(',') } : {}),
    ...(cors.MaxAge !== undefined ? { 'access-control-max-age': String(cors.MaxAge) } : {}),
    ...(cors.AllowCredentials ? { 'access-control-allow-credentials': 'true' } : {}),
  };
}
