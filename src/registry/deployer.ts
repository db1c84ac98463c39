import { createHash, randomUUID } from 'node:crypto';
import type { BlobStore } from '../artifacts/blob-store.js';
import type { BundleCache } from '../artifacts/bundle-cache.js';
import type { BundleLimits } from '../artifacts/limits.js';
import { inspectZip } from '../artifacts/zip-intake.js';
import { ModelfnError } from '../shared/errors.js';
import type { Clock } from '../shared/clock.js';
import type { RuntimeRegistry } from '../runtimes/runtime-registry.js';
import type { DeploySpec } from './function-spec.js';
import { DEFAULT_TMP_MB } from '../runtimes/sandbox/limits.js';
import type { Registry } from './registry.js';
import type { FunctionConfig, FunctionDocument, RouteSpec } from './types.js';
import { routeKey, routeShape } from './types.js';

export interface DeployPreconditions {
  /** CreateFunction: fail with 409 when the function exists. */
  readonly mustNotExist?: boolean;
  /** Update*: fail with 404 when it does not. */
  readonly mustExist?: boolean;
  /** Fail with 412 unless $LATEST still has this revision id. */
  readonly revisionId?: string;
}

export interface DeployOptions extends DeployPreconditions {
  /** A function created by this deploy starts with these extensions (CreateFunction's Tags); an existing one keeps its own. */
  readonly initialExtensions?: Readonly<Record<string, unknown>>;
  /** Set in the same write, on a new or an existing function (a key set to undefined is removed): UpdateFunctionConfiguration's DeadLetterConfig. */
  readonly setExtensions?: Readonly<Record<string, unknown>>;
}

function mergedExtensions(base: Readonly<Record<string, unknown>>, set: Readonly<Record<string, unknown>> | undefined): Readonly<Record<string, unknown>> {
  if (!set) return base;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(set)) {
    if (value === undefined) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

function checkPreconditions(name: string, existing: FunctionDocument | undefined, p: DeployPreconditions): void {
  if (p.mustNotExist && existing) throw new ModelfnError('CONFLICT', `Function already exist: ${name}`);
  if (p.mustExist && !existing) throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: ${name}`);
  if (p.revisionId !== undefined && existing?.latest.revisionId !== p.revisionId) {
    throw new ModelfnError('PRECONDITION_FAILED', 'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id');
  }
}

export interface UploadedBundle {
  readonly sha256: string;
  readonly size: number;
  readonly files: number;
  readonly unpackedBytes: number;
}

/**
 * Deploys: bundle intake (validate, unpack, store by hash) and the function document update.
 * Order makes a crash harmless: the bundle is complete on disk before any document points to it,
 * and the document changes in one compare-and-set.
 */
export class Deployer {
  constructor(
    private readonly registry: Registry,
    private readonly blobs: BlobStore,
    private readonly bundles: BundleCache,
    private readonly runtimes: RuntimeRegistry,
    private readonly limits: BundleLimits,
    /** Path prefixes the platform's own surfaces own (asked at deploy time: surfaces mount later). */
    private readonly reservedPrefixes: () => readonly string[],
    private readonly clock: Clock,
  ) {}

  /** Validate a zip completely, unpack it read-only, then store it under its sha256. */
  async uploadBundle(zip: Buffer): Promise<UploadedBundle> {
    const sha256 = createHash('sha256').update(zip).digest('hex');
    const { zipfile, inspected } = await inspectZip(zip, this.limits);
    zipfile.close();
    if (inspected.entries.filter((e) => !e.directory).length === 0) {
      throw new ModelfnError('INVALID_BUNDLE', 'bundle is empty: it holds no files');
    }
    await this.bundles.unpackBytes(sha256, zip);
    await this.blobs.put(zip);
    return {
      sha256,
      size: zip.length,
      files: inspected.entries.filter((e) => !e.directory).length,
      unpackedBytes: inspected.unpackedBytes,
    };
  }

  /**
   * Create or replace $LATEST. Instances of the old code finish what they run, then stop.
   * Preconditions (Lambda's CreateFunction / Update* semantics) are checked inside the
   * compare-and-set, so two racing requests cannot both pass them.
   */
  async deploy(name: string, spec: DeploySpec, options: DeployOptions = {}): Promise<FunctionDocument> {
    const runtime = this.runtimes.get(spec.runtime);
    runtime.validate?.({ handler: spec.handler, runtime: spec.runtime, network: sandboxSettings(spec, this.registry.get(name)?.latest).network ?? 'allow' });
    const size = await this.blobs.size(spec.code.sha256);
    if (size === undefined) {
      throw new ModelfnError('INVALID_PARAMETER', `code bundle ${spec.code.sha256} was not uploaded; upload it to /_modelfn/v1/bundles first`);
    }
    const codeDir = await this.bundles.ensure(spec.code.sha256);
    if (spec.routes) this.checkRoutes(name, spec.routes);
    const facts = await runtime.validateBundle?.(codeDir, { name, handler: spec.handler, runtime: spec.runtime, memoryMb: spec.memoryMb, environment: spec.environment });
    if (spec.batching && !facts?.model) {
      throw new ModelfnError('INVALID_PARAMETER', `batching: only model functions (runtime "model") batch requests; ${spec.runtime} functions serve one event per instance`);
    }
    const now = new Date(this.clock.now()).toISOString();
    const stored = await this.registry.update(name, (existing) => {
      checkPreconditions(name, existing, options);
      // Batching: undefined keeps the function's setting (as routes do), null turns it off.
      const batching = !facts?.model ? undefined : spec.batching === undefined ? existing?.latest.batching : (spec.batching ?? undefined);
      // The keep-alive policy likewise: undefined keeps it, null goes back to the platform default.
      const keepAlivePolicy = spec.keepAlivePolicy === undefined ? existing?.scaling.keepAlivePolicy : (spec.keepAlivePolicy ?? undefined);
      const latest: FunctionConfig = {
        name,
        version: '$LATEST',
        runtime: spec.runtime,
        handler: spec.handler,
        memoryMb: spec.memoryMb,
        timeoutSec: spec.timeoutSec,
        environment: spec.environment,
        description: spec.description,
        codeSha256: spec.code.sha256,
        codeSize: size,
        revisionId: randomUUID(),
        lastModified: now,
        ...(spec.role !== undefined ? { role: spec.role } : existing?.latest.role !== undefined ? { role: existing.latest.role } : {}),
        ...(facts?.model ? { model: facts.model } : {}),
        ...(batching ? { batching } : {}),
        ...sandboxSettings(spec, existing?.latest),
      };
      return {
        name,
        createdAt: existing?.createdAt ?? now,
        latest,
        versions: existing?.versions ?? {},
        lastPublishedVersion: existing?.lastPublishedVersion ?? 0,
        aliases: existing?.aliases ?? {},
        routes: spec.routes ?? existing?.routes ?? [],
        scaling: { reservedConcurrency: spec.reservedConcurrency, keepAliveSec: spec.keepAliveSec, ...(keepAlivePolicy ? { keepAlivePolicy } : {}) },
        extensions: mergedExtensions(existing?.extensions ?? options.initialExtensions ?? {}, options.setExtensions),
      };
    });
    return stored!.doc;
  }

  /** A stored bundle's bytes (GetFunction's code download). */
  async bundleBytes(sha256: string): Promise<Buffer | undefined> {
    return this.blobs.get(sha256);
  }

  async remove(name: string): Promise<boolean> {
    if (!this.registry.get(name) && !(await this.registry.store.get(name))) return false;
    await this.registry.update(name, () => null);
    return true;
  }

  private checkRoutes(name: string, routes: readonly RouteSpec[]): void {
    const seen = new Set<string>();
    const shapes = new Map<string, string>();
    for (const route of routes) {
      const key = routeKey(route);
      if (seen.has(key)) throw new ModelfnError('INVALID_PARAMETER', `route ${key} is listed twice`);
      seen.add(key);
      const twin = shapes.get(routeShape(route));
      if (twin !== undefined) throw new ModelfnError('INVALID_PARAMETER', `routes ${twin} and ${key} match the same requests`);
      shapes.set(routeShape(route), key);
      if (route.path === '$default') continue;
      const clash = this.reservedPrefixes().find((p) => route.path === p || route.path.startsWith(`${p}/`));
      if (clash) {
        throw new ModelfnError('INVALID_PARAMETER', `route ${key} is under ${clash}, which the platform reserves for its own API`);
      }
    }
    // Same shape, other key, other function (the same key is the store's claim: a 409 there too).
    for (const doc of this.registry.list()) {
      if (doc.name === name) continue;
      for (const other of doc.routes) {
        const key = shapes.get(routeShape(other));
        if (key !== undefined && key !== routeKey(other)) {
          throw new ModelfnError('CONFLICT', `route ${key} matches the same requests as route ${routeKey(other)} of function ${doc.name}`);
        }
      }
    }
  }
}

/**
 * The sandbox settings of a deploy: undefined in the spec keeps the function's (as batching does);
 * the defaults (network allowed, 512 MB /tmp) are stored as absent.
 */
function sandboxSettings(spec: DeploySpec, existing: FunctionConfig | undefined): Pick<FunctionConfig, 'network' | 'tmpSizeMb'> {
  const network = spec.network ?? existing?.network ?? 'allow';
  const tmpSizeMb = spec.tmpSizeMb ?? existing?.tmpSizeMb ?? DEFAULT_TMP_MB;
  return { ...(network === 'deny' ? { network } : {}), ...(tmpSizeMb !== DEFAULT_TMP_MB ? { tmpSizeMb } : {}) };
}
