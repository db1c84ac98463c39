import type { IncomingMessage, ServerResponse } from 'node:http';
import FindMyWay from 'find-my-way';
import type { HTTPMethod } from 'find-my-way';
import { ModelfnError } from '../../shared/errors.js';
import { newRequestId } from '../../shared/ids.js';
import type { RequestTarget } from '../../server/http/request-url.js';
import type { Surface } from '../../server/surface.js';
import type { SigV4Authenticator } from '../../auth/authenticator.js';
import type { Principal } from '../../auth/access-keys.js';
import { readBody } from '../../server/http/body.js';
import { runAs } from '../../auth/principal-context.js';
import { sendAwsError } from './aws-errors.js';
import { setPrincipal } from './caller.js';
import type { InvokeDeps } from './invoke.js';
import type { FunctionDocument } from '../../registry/types.js';
import { handleInvoke } from './invoke.js';

/** One Lambda API operation: gets the request, its path parameters and query, answers itself. */
export type LambdaOperation = (
  req: IncomingMessage,
  res: ServerResponse,
  params: Record<string, string>,
  query: URLSearchParams,
  requestId: string,
) => Promise<void>;

export interface OperationOptions {
  /** The largest body this operation accepts (read, hashed for the signature, then handed over). */
  readonly maxBodyBytes?: number;
  /**
   * The operation runs as its caller (runAs with principalOf(req)) only where it reads what the
   * caller may see, instead of through all its awaits: Invoke, whose awaits are the function's
   * whole run, and while a caller's storage is on Node tracks every promise of the process
   * (principal-context.ts).
   */
  readonly scopesCaller?: boolean;
}

interface Registered {
  readonly op: LambdaOperation;
  readonly maxBodyBytes: number;
  readonly scopesCaller: boolean;
}

export interface LambdaApiOptions {
  /** Absent when the platform runs without authentication (`--auth none`). */
  readonly authenticator?: SigV4Authenticator;
  /** Default body limit (Lambda's 6 MB synchronous payload). */
  readonly maxBodyBytes: number;
}

/** The API versions in Lambda's paths: every request under one of them is the Lambda API's. */
export const LAMBDA_API_PREFIXES: readonly string[] = ['/2015-03-31', '/2016-08-19', '/2017-03-31', '/2017-10-31', '/2018-10-31', '/2019-09-25', '/2019-09-30', '/2020-04-22', '/2020-06-30', '/2021-07-20', '/2021-10-31', '/2022-10-31'];

/**
 * A function configuration member that another module keeps in the document's extensions (the
 * events module's DeadLetterConfig): CreateFunction and UpdateFunctionConfiguration hand it over
 * when the request carries it, and GetFunction(Configuration) and ListFunctions show it.
 */
export interface ConfigurationMember {
  /** The request and response member, e.g. DeadLetterConfig. */
  readonly member: string;
  /** Check the value (a 400 naming the member if it cannot be kept) and give the extensions to write; undefined removes one. */
  extensionsFor(value: unknown): Promise<Readonly<Record<string, unknown>>>;
  /** The member as the function's configuration shows it; undefined leaves it out. */
  view(doc: FunctionDocument): unknown;
}

/**
 * The AWS Lambda REST API (`/2015-03-31/...` and its later dated paths), so the AWS CLI and SDKs
 * work against modelfn. Operations register here by method and path; every one of them is
 * authenticated here with Signature Version 4 before it runs, never by the operation itself.
 */
export class LambdaApiSurface implements Surface {
  readonly name = 'lambda-api';
  readonly prefixes = LAMBDA_API_PREFIXES;
  private readonly router = FindMyWay({ caseSensitive: true, ignoreTrailingSlash: true, maxParamLength: 1024 });
  private readonly members: ConfigurationMember[] = [];

  constructor(
    deps: InvokeDeps,
    private readonly options: LambdaApiOptions = { maxBodyBytes: deps.maxSyncPayloadBytes },
  ) {
    this.operation('POST', '/2015-03-31/functions/:name/invocations', (req, res, params, query, id) => handleInvoke(deps, req, res, params.name!, query, id), {
      scopesCaller: true,
    });
  }

  /** Configuration members kept by other modules (the events module's DeadLetterConfig). */
  get configurationMembers(): readonly ConfigurationMember[] {
    return this.members;
  }

  addConfigurationMember(member: ConfigurationMember): void {
    this.members.push(member);
  }

  /** Add an operation (later capabilities register theirs: CreateFunction, aliases, ...). */
  operation(method: HTTPMethod, path: string, op: LambdaOperation, options: OperationOptions = {}): void {
    this.router.on(method, path, () => undefined, { op, maxBodyBytes: options.maxBodyBytes ?? this.options.maxBodyBytes, scopesCaller: options.scopesCaller === true } satisfies Registered);
  }

  async handle(req: IncomingMessage, res: ServerResponse, target: RequestTarget): Promise<void> {
    const requestId = newRequestId();
    try {
      let found;
      try {
        found = this.router.find((req.method ?? 'GET') as HTTPMethod, target.rawPath);
      } catch {
        found = null;
      }
      if (!found) {
        throw new ModelfnError('RESOURCE_NOT_FOUND', `no Lambda API operation matches ${req.method} ${target.rawPath}`);
      }
      const registered = found.store as Registered;
      // The body is read once, here: the signature covers it; operations get it from the cache.
      const body = await readBody(req, registered.maxBodyBytes);
      let principal: Principal | undefined;
      if (this.options.authenticator) {
        principal = this.options.authenticator.authenticate({ req, rawPath: target.rawPath, rawQuery: target.rawQuery, body }, ['lambda']);
        setPrincipal(req, principal);
      }
      const params: Record<string, string> = {};
      for (const [k, v] of Object.entries(found.params)) if (v !== undefined) params[k] = v;
      // The operation runs as its caller: the registry shows it only its own tenant's functions.
      const query = new URLSearchParams(target.rawQuery);
      if (registered.scopesCaller) await registered.op(req, res, params, query, requestId);
      else await runAs(principal, () => registered.op(req, res, params, query, requestId));
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendAwsError(res, err, requestId);
    }
  }
}
