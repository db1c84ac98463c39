import type { ModelSignature } from '../models/codecs/signature.js';
import type { KeepAlivePolicyName } from '../scheduler/keepalive/hybrid-policy.js';

/**
 * What the registry stores. A function is one document (its $LATEST configuration, published
 * versions, aliases, routes and scaling settings) so that a backend can update it with one
 * compare-and-set: SQLite with a revision column, JetStream KV with its per-key revision.
 */

export type PayloadFormat = '1.0' | '2.0';

/** An immutable snapshot of what an instance runs. $LATEST changes by replacement, never in place. */
export interface FunctionConfig {
  readonly name: string;
  /** '$LATEST' or a published version number as a string. */
  readonly version: string;
  readonly runtime: string;
  readonly handler: string;
  readonly memoryMb: number;
  readonly timeoutSec: number;
  readonly environment: Readonly<Record<string, string>>;
  readonly description: string;
  /** Hex sha256 of the code bundle (a zip) in the blob store. */
  readonly codeSha256: string;
  readonly codeSize: number;
  /** Changes on every update; instances started from an older revision are retired. */
  readonly revisionId: string;
  readonly lastModified: string;
  /** The execution role ARN a Lambda client sent (kept for round trips; modelfn has no IAM). */
  readonly role?: string;
  /** Model functions (runtime "model"): the model's inputs and outputs, read at deploy time. */
  readonly model?: ModelSignature;
  /** Model functions: merge concurrent requests into one engine call (off when absent). */
  readonly batching?: BatchingConfig;
  /** deny: the sandbox has no network (loopback only); absent: allowed. */
  readonly network?: 'allow' | 'deny';
  /** Size of the private /tmp in MB (Lambda's ephemeral storage); absent: 512. */
  readonly tmpSizeMb?: number;
}

/** Dynamic batching of a model function, as Triton's dynamic batcher. */
export interface BatchingConfig {
  /** Most rows (batch dimension) in one engine call. */
  readonly maxBatchSize: number;
  /** Longest a request waits for others before its batch runs. */
  readonly maxDelayMs: number;
}

export interface RouteSpec {
  /** HTTP method in upper case, or ANY. */
  readonly method: string;
  /** '/path/{param}/{proxy+}' or '$default'. */
  readonly path: string;
  /** Version or alias the route invokes; undefined means $LATEST. */
  readonly qualifier?: string;
  readonly payloadFormat: PayloadFormat;
  /** Invoke asynchronously: the caller gets 202 and the request id once the event is stored. */
  readonly async?: boolean;
  /** aws_iam: the route requires a SigV4 signature (as API Gateway's IAM authorizer); absent or none: public. */
  readonly auth?: 'none' | 'aws_iam';
}

/** Scheduling settings: function-wide, not part of a version (as Lambda's reserved concurrency). */
export interface ScalingSettings {
  /** Cap (and guaranteed share) of concurrent executions; null = only the platform limits apply. */
  readonly reservedConcurrency: number | null;
  /** Idle instances are stopped after this long; null = the platform default. */
  readonly keepAliveSec: number | null;
  /**
   * 'fixed': keepAliveSec after each instance went idle; 'adaptive': the hybrid histogram policy
   * (pre-warm and keep-alive from the function's idle times, keepAliveSec as its fallback).
   * Absent: the platform default.
   */
  readonly keepAlivePolicy?: KeepAlivePolicyName;
}

export interface AliasConfig {
  readonly name: string;
  readonly functionVersion: string;
  readonly description: string;
  /** Extra version -> weight (0..1): that share of calls goes to the other version. */
  readonly additionalVersionWeights: Readonly<Record<string, number>>;
  readonly revisionId: string;
}

export interface FunctionDocument {
  readonly name: string;
  /** The tenant (namespace) owning the function; absent means "default". */
  readonly tenant?: string;
  readonly createdAt: string;
  readonly latest: FunctionConfig;
  /** Published versions by number. */
  readonly versions: Readonly<Record<string, FunctionConfig>>;
  readonly lastPublishedVersion: number;
  readonly aliases: Readonly<Record<string, AliasConfig>>;
  readonly routes: readonly RouteSpec[];
  readonly scaling: ScalingSettings;
  /** Room for later capabilities (event invoke config, URL config, ...) without a schema change. */
  readonly extensions: Readonly<Record<string, unknown>>;
}

export interface StoredDocument {
  readonly doc: FunctionDocument;
  /** Backend revision for compare-and-set; increases on every write. */
  readonly revision: number;
}

export function routeKey(route: Pick<RouteSpec, 'method' | 'path'>): string {
  return route.path === '$default' ? '$default' : `${route.method} ${route.path}`;
}

/**
 * What a route matches, without its parameter names: GET /items/{id} and GET /items/{key} are two
 * route keys but one shape, and the router can hold only one of them.
 */
export function routeShape(route: Pick<RouteSpec, 'method' | 'path'>): string {
  return routeKey({ method: route.method, path: route.path.replace(/\{[A-Za-z0-9_]+(\+?)\}/g, '{$1}') });
}
