import type { IncomingMessage, ServerResponse } from 'node:http';
import { ModelfnError, toModelfnError } from '../../shared/errors.js';
import { newRequestId } from '../../shared/ids.js';
import { headerValue, traceFromHeaders } from '../../telemetry/trace/trace-context.js';
import type { Clock } from '../../shared/clock.js';
import type { Registry } from '../../registry/registry.js';
import type { Dispatcher } from '../../scheduler/dispatcher.js';
import type { SigV4Authenticator } from '../../auth/authenticator.js';
import type { Principal } from '../../auth/access-keys.js';
import { runAs } from '../../auth/principal-context.js';
import { readBody } from '../../server/http/body.js';
import { closeAfterResponse, endWithBody, headerList } from '../../server/http/respond.js';
import type { RequestTarget } from '../../server/http/request-url.js';
import type { Surface } from '../../server/surface.js';
import { PayloadV1 } from './apigw-v1.js';
import { PayloadV2 } from './apigw-v2.js';
import { httpRequestInfo } from './http-request.js';
import type { MappedResponse, PayloadFormatCodec } from './payload-format.js';
import { jsonError, mapOutcome } from './payload-format.js';
import { RouteTable } from './route-table.js';
import { eventIntakeFor } from '../../events/async/event-intake.js';

const CODECS: Record<'1.0' | '2.0', PayloadFormatCodec> = { '1.0': new PayloadV1(), '2.0': new PayloadV2() };

export interface RoutesSurfaceOptions {
  readonly registry: Registry;
  readonly dispatcher: Dispatcher;
  readonly clock: Clock;
  readonly maxRequestBytes: number;
  /** Checks signatures on routes that ask for aws_iam; absent when the platform runs without auth. */
  readonly authenticator?: SigV4Authenticator;
}

/** User routes: API Gateway HTTP API events in, API Gateway responses out. */
export class RoutesSurface implements Surface {
  readonly name = 'routes';
  readonly prefixes: readonly string[] = [];
  private table: RouteTable;

  constructor(private readonly options: RoutesSurfaceOptions) {
    this.table = this.build();
    options.registry.on('change', () => {
      this.table = this.build();
    });
  }

  get routes(): RouteTable {
    return this.table;
  }

  /** One async function for the whole request: each await of a nested one cost a promise. */
  async handle(req: IncomingMessage, res: ServerResponse, target: RequestTarget): Promise<void> {
    const requestId = newRequestId();
    const trace = traceFromHeaders(headerValue(req.headers.traceparent), headerValue(req.headers['x-amzn-trace-id']));
    let mapped: MappedResponse;
    try {
      const method = req.method ?? 'GET';
      const match = this.table.match(method, target.rawPath);
      if (match.kind === 'not-found') throw new ModelfnError('ROUTE_NOT_FOUND', `no route matches ${method} ${target.rawPath}`);
      if (match.kind === 'method-not-allowed') {
        throw new ModelfnError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${target.rawPath}; allowed: ${match.allowed.join(', ')}`, {
          details: { allowed: match.allowed.join(', ') },
        });
      }
      const { binding, pathParameters } = match;
      const body = await readBody(req, this.options.maxRequestBytes);
      let principal: Principal | undefined;
      if (binding.route.auth === 'aws_iam' && this.options.authenticator) {
        principal = this.options.authenticator.authenticate({ req, rawPath: target.rawPath, rawQuery: target.rawQuery, body }, ['execute-api', 'lambda']);
      }
      // A signed route admits keys of the function's tenant (and admins) only.
      const resolution = runAs(principal, () => this.options.registry.resolve(binding.functionName, binding.route.qualifier));
      const codec = CODECS[binding.payloadFormat];
      const request = httpRequestInfo(req, {
        rawPath: target.rawPath,
        rawQuery: target.rawQuery,
        body,
        requestId,
        timeEpoch: this.options.clock.now(),
        accountId: this.options.registry.account.accountId,
      });
      const payload = codec.buildEvent(request, binding, pathParameters);
      const events = binding.route.async ? eventIntakeFor(this.options.registry) : undefined;
      if (events) {
        // Routes configured as async (events module): store the event, answer 202 with its request id.
        await events.submit({ functionName: binding.functionName, qualifier: binding.route.qualifier, payload, requestId, source: 'route' });
        mapped = { status: 202, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ requestId })) };
      } else {
        const outcome = await this.options.dispatcher.invoke(resolution, { requestId, payload, traceId: trace.amznTraceId });
        mapped = mapOutcome(codec, outcome);
      }
    } catch (err) {
      const error = toModelfnError(err);
      if (error.details.close === true) closeAfterResponse(res);
      const message = error.kind === 'system' ? 'Internal Server Error' : error.message;
      mapped = jsonError(error.status, message, error.code);
      if (error.code === 'METHOD_NOT_ALLOWED') mapped.headers.allow = String(error.details.allowed);
    }
    res.writeHead(mapped.status, headerList(mapped.headers, ['content-length', String(mapped.body.length), 'x-amzn-requestid', requestId, 'apigw-requestid', requestId, 'traceparent', trace.traceparent]));
    endWithBody(res, req.method === 'HEAD' ? undefined : mapped.body);
  }

  private build(): RouteTable {
    return RouteTable.fromRoutes(
      this.options.registry.list().flatMap((doc) => doc.routes.map((route) => ({ functionName: doc.name, route }))),
    );
  }
}
