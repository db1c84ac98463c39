import type { IncomingMessage, ServerResponse } from 'node:http';
import FindMyWay from 'find-my-way';
import type { HTTPMethod } from 'find-my-way';
import { ModelfnError, toModelfnError } from '../../shared/errors.js';
import { parseJsonBody } from '../../shared/json.js';
import { parseOrThrow } from '../../shared/validation.js';
import { functionArn } from '../../registry/arn.js';
import type { Deployer } from '../../registry/deployer.js';
import { deploySpecSchema, functionNameSchema } from '../../registry/function-spec.js';
import type { Registry } from '../../registry/registry.js';
import type { ColdStartRecord, Scheduler } from '../../scheduler/scheduler.js';
import type { StemCellStats } from '../../runtimes/stem-cells/stem-cells.js';
import type { LogStore } from '../../telemetry/logs/log-record.js';
import { readBody } from '../../server/http/body.js';
import { closeAfterResponse, sendJson } from '../../server/http/respond.js';
import type { RequestTarget } from '../../server/http/request-url.js';
import type { Surface } from '../../server/surface.js';
import { runAs } from '../../auth/principal-context.js';
import type { SigV4Authenticator } from '../../auth/authenticator.js';
import type { KeyStore, Principal } from '../../auth/access-keys.js';
import { registerKeyEndpoints } from './keys-endpoints.js';
import type { CodeLinks } from '../../auth/code-links.js';
import { functionView } from './function-view.js';
import { streamLogs } from './logs-endpoint.js';

export interface AdminDeps {
  readonly registry: Registry;
  readonly deployer: Deployer;
  readonly scheduler: Scheduler;
  readonly logs: LogStore;
  readonly maxBundleBytes: number;
  readonly version: string;
  /** Absent when the platform runs without authentication (`--auth none`). */
  readonly authenticator?: SigV4Authenticator;
  /** Verifies GetFunction's short-lived code download links. */
  readonly codeLinks?: CodeLinks;
  /** Access keys (managed by admin keys under /_modelfn/v1/keys). */
  readonly keys?: KeyStore;
  /** The stem cells of every runtime (switch, memory budget, waiting processes, hits and misses). */
  readonly stemCells?: () => StemCellStats;
}

export interface EndpointOptions {
  /** Served without a signature (health checks; links that carry their own token). */
  readonly public?: boolean;
  /** The largest body the endpoint takes (read once, covered by the signature). */
  readonly maxBodyBytes?: number;
  /**
   * The endpoint runs as its caller (runAs with adminPrincipalOf(req)) only for its lookups, not
   * through all its awaits: a stream that stays open (logs -f) would keep the caller's storage on,
   * and Node then tracks every promise of the process (principal-context.ts).
   */
  readonly scopesCaller?: boolean;
}

interface Endpoint {
  readonly handler: Handler;
  readonly public: boolean;
  readonly maxBodyBytes: number;
  readonly scopesCaller: boolean;
}

const principals = new WeakMap<IncomingMessage, Principal>();

/** Who signed this modelfn API request (undefined when authentication is off). */
export function adminPrincipalOf(req: IncomingMessage): Principal | undefined {
  return principals.get(req);
}

type Handler = (req: IncomingMessage, res: ServerResponse, params: Record<string, string>, query: URLSearchParams) => Promise<void>;

const ZIP_TYPES = new Set(['application/zip', 'application/x-zip-compressed', 'application/octet-stream']);
const METHODS: HTTPMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'];

/**
 * modelfn's own management API under /_modelfn/v1: what the CLI uses. Errors are
 * {"message", "code"} with the catalogue's status.
 */
export class AdminSurface implements Surface {
  readonly name = 'admin';
  readonly prefixes = ['/_modelfn'];
  private readonly router = FindMyWay({ caseSensitive: true, ignoreTrailingSlash: true, maxParamLength: 256 });

  constructor(private readonly deps: AdminDeps) {
    this.on('GET', '/_modelfn/v1/health', async (_req, res) => this.health(res), { public: true });
    this.on('POST', '/_modelfn/v1/bundles', (req, res) => this.uploadBundle(req, res), { maxBodyBytes: deps.maxBundleBytes });
    this.on('GET', '/_modelfn/v1/bundles/:sha256', (_req, res, p, q) => this.downloadBundle(res, p.sha256!, q), { public: true });
    this.on('GET', '/_modelfn/v1/functions', async (_req, res) => this.listFunctions(res));
    this.on('GET', '/_modelfn/v1/functions/:name', async (_req, res, p) => this.getFunction(res, p.name!));
    this.on('PUT', '/_modelfn/v1/functions/:name', (req, res, p) => this.deploy(req, res, p.name!));
    this.on('DELETE', '/_modelfn/v1/functions/:name', (_req, res, p) => this.remove(res, p.name!));
    this.on('GET', '/_modelfn/v1/functions/:name/logs', (req, res, p, q) => this.logs(req, res, p.name!, q), { scopesCaller: true });
    this.on('GET', '/_modelfn/v1/functions/:name/cold-starts', async (_req, res, p) => this.coldStarts(res, p.name!));
    this.on('GET', '/_modelfn/v1/routes', async (_req, res) => this.routes(res));
    this.on('GET', '/_modelfn/v1/stem-cells', async (_req, res) => sendJson(res, 200, this.deps.stemCells?.() ?? { enabled: false, budgetMb: 0, usedMb: 0, runtimes: [] }));
    if (deps.keys) registerKeyEndpoints(this, deps.keys);
  }

  /** Add an endpoint; it is authenticated here (SigV4) unless it is public. */
  on(method: HTTPMethod, path: string, handler: Handler, options: EndpointOptions = {}): void {
    this.router.on(method, path, () => undefined, { handler, public: options.public ?? false, maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024, scopesCaller: options.scopesCaller === true } satisfies Endpoint);
  }

  async handle(req: IncomingMessage, res: ServerResponse, target: RequestTarget): Promise<void> {
    try {
      const method = (req.method ?? 'GET') as HTTPMethod;
      const found = safeFind(this.router, method, target.rawPath);
      if (!found) {
        const allowed = METHODS.filter((m) => safeFind(this.router, m, target.rawPath));
        if (allowed.length > 0) {
          throw new ModelfnError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${target.rawPath}; allowed: ${allowed.join(', ')}`, { details: { allowed: allowed.join(', ') } });
        }
        throw new ModelfnError('RESOURCE_NOT_FOUND', `no modelfn API endpoint matches ${method} ${target.rawPath}`);
      }
      const endpoint = found.store as Endpoint;
      let principal: Principal | undefined;
      if (!endpoint.public && this.deps.authenticator) {
        const body = await readBody(req, endpoint.maxBodyBytes);
        principal = this.deps.authenticator.authenticate({ req, rawPath: target.rawPath, rawQuery: target.rawQuery, body }, ['modelfn', 'lambda']);
        principals.set(req, principal);
      }
      const params: Record<string, string> = {};
      for (const [k, v] of Object.entries(found.params)) if (v !== undefined) params[k] = v;
      const query = new URLSearchParams(target.rawQuery);
      if (endpoint.scopesCaller) await endpoint.handler(req, res, params, query);
      else await runAs(principal, () => endpoint.handler(req, res, params, query));
    } catch (err) {
      const error = toModelfnError(err);
      if (error.details.close === true) closeAfterResponse(res);
      const headers: Record<string, string> = {};
      if (error.code === 'METHOD_NOT_ALLOWED') headers.allow = String(error.details.allowed);
      sendJson(res, error.status, { message: error.kind === 'system' ? 'internal error' : error.message, code: error.code }, headers);
    }
  }

  private health(res: ServerResponse): void {
    const pools = this.deps.scheduler.snapshot();
    sendJson(res, 200, {
      status: 'ok',
      version: this.deps.version,
      functions: this.deps.registry.list().length,
      instances: pools.reduce((n, p) => n + p.instances, 0),
      memoryUsedMb: this.deps.scheduler.memoryUsedMb,
    });
  }

  private async uploadBundle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!ZIP_TYPES.has(type)) {
      throw new ModelfnError('UNSUPPORTED_MEDIA_TYPE', `upload a zip with Content-Type application/zip (got ${JSON.stringify(type || '(none)')})`);
    }
    const zip = await readBody(req, this.deps.maxBundleBytes);
    const bundle = await this.deps.deployer.uploadBundle(zip);
    sendJson(res, 201, bundle);
  }

  private async downloadBundle(res: ServerResponse, sha256: string, query: URLSearchParams): Promise<void> {
    if (!this.deps.codeLinks?.verify(sha256, query)) throw new ModelfnError('ACCESS_DENIED', 'this code download link is invalid or has expired; call GetFunction again for a new one');
    const zip = await this.deps.deployer.bundleBytes(sha256);
    if (!zip) throw new ModelfnError('RESOURCE_NOT_FOUND', `bundle ${sha256} does not exist`);
    res.writeHead(200, { 'content-type': 'application/zip', 'content-length': zip.length, 'content-disposition': `attachment; filename="${sha256}.zip"` });
    res.end(zip);
  }

  private listFunctions(res: ServerResponse): void {
    sendJson(res, 200, { functions: this.deps.registry.list().map((doc) => this.view(doc.name)!) });
  }

  private getFunction(res: ServerResponse, name: string): void {
    const view = this.view(name);
    if (!view) throw notFound(name);
    sendJson(res, 200, view);
  }

  private async deploy(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    parseOrThrow(functionNameSchema, name, 'function name');
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') throw new ModelfnError('UNSUPPORTED_MEDIA_TYPE', 'send the function configuration as application/json');
    const body = parseJsonBody(await readBody(req, 1024 * 1024));
    const spec = parseOrThrow(deploySpecSchema, body, 'function configuration');
    const existed = this.deps.registry.get(name) !== undefined;
    await this.deps.deployer.deploy(name, spec);
    sendJson(res, existed ? 200 : 201, this.view(name));
  }

  private async remove(res: ServerResponse, name: string): Promise<void> {
    if (!(await this.deps.deployer.remove(name))) throw notFound(name);
    await this.deps.logs.deleteFunction(name);
    res.writeHead(204);
    res.end();
  }

  private async logs(req: IncomingMessage, res: ServerResponse, name: string, query: URLSearchParams): Promise<void> {
    // As its caller: another tenant's function does not exist for it. The logs (and a follow,
    // open as long as the client stays) are read as the platform.
    if (!runAs(adminPrincipalOf(req), () => this.deps.registry.get(name))) throw notFound(name);
    await streamLogs(this.deps.logs, req, res, name, query);
  }

  /** The function's last cold starts (newest first) with their phases, and its keep-alive decisions. */
  private coldStarts(res: ServerResponse, name: string): void {
    const doc = this.deps.registry.get(name);
    if (!doc) throw notFound(name);
    sendJson(res, 200, {
      function: name,
      coldStarts: this.deps.scheduler.recentColdStarts(name).map(coldStartView),
      keepAlive: this.deps.scheduler.keepAliveStatus(name, doc.scaling),
    });
  }

  private routes(res: ServerResponse): void {
    const routes = this.deps.registry.list().flatMap((doc) =>
      doc.routes.map((r) => ({ method: r.method, path: r.path, function: doc.name, qualifier: r.qualifier ?? null, payloadFormat: r.payloadFormat })),
    );
    sendJson(res, 200, { routes });
  }

  private view(name: string) {
    const doc = this.deps.registry.get(name);
    if (!doc) return undefined;
    const pools = this.deps.scheduler.snapshot().filter((p) => p.functionName === name);
    const counts = pools.reduce(
      (acc, p) => ({
        instances: acc.instances + p.instances,
        idle: acc.idle + p.idle,
        busy: acc.busy + p.busy,
        starting: acc.starting + p.starting,
        waiting: acc.waiting + p.waiting,
      }),
      { instances: 0, idle: 0, busy: 0, starting: 0, waiting: 0 },
    );
    return functionView(doc, counts, functionArn(this.deps.registry.account, name), this.deps.scheduler.keepAliveStatus(name, doc.scaling));
  }
}

/** A cold start as the API shows it: phases in ms, rounded to µs. */
export function coldStartView(r: ColdStartRecord) {
  const ms = (v: number | undefined) => (v === undefined ? null : Math.round(v * 1000) / 1000);
  return {
    at: r.startedAt === undefined ? null : new Date(r.startedAt).toISOString(),
    version: r.version,
    instanceId: r.instanceId ?? null,
    trigger: r.trigger ?? 'request',
    requestId: r.requestId ?? null,
    stemCell: r.stemCell ?? false,
    initDurationMs: ms(r.initDurationMs),
    phases: {
      fetchMs: ms(r.phases?.fetchMs),
      processStartMs: ms(r.phases?.processStartMs),
      runtimeInitMs: ms(r.phases?.runtimeInitMs),
      userInitMs: ms(r.phases?.userInitMs),
      firstInvokeMs: ms(r.phases?.firstInvokeMs),
    },
  };
}

function notFound(name: string): ModelfnError {
  return new ModelfnError('FUNCTION_NOT_FOUND', `function ${name} does not exist`);
}

function safeFind(router: FindMyWay.Instance<FindMyWay.HTTPVersion.V1>, method: HTTPMethod, path: string) {
  try {
    return router.find(method, path);
  } catch {
    return null;
  }
}
