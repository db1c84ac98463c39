import { EventEmitter } from 'node:events';
import { own } from '../shared/json.js';
import { ModelfnError } from '../shared/errors.js';
import { DEFAULT_TENANT, asPlatform, canAccessTenant, currentPrincipal } from '../auth/principal-context.js';
import type { InvocationTarget } from '../scheduler/invocation.js';
import type { AccountContext } from './arn.js';
import { functionArn } from './arn.js';
import type { RegistryChange, RegistryStore } from './store.js';
import type { FunctionConfig, FunctionDocument, StoredDocument } from './types.js';

/** A function version chosen for one call, and whether it was picked by an alias. */
export interface Resolution extends InvocationTarget {
  readonly document: FunctionDocument;
}

/**
 * The registry as the platform uses it: an in-memory view of every function document, kept current
 * from the store's change feed, so resolving a function on the request path is a map lookup.
 * Writes go to the store first (compare-and-set) and reach this view through the feed.
 */
export class Registry extends EventEmitter {
  private readonly docs = new Map<string, StoredDocument>();
  /**
   * Resolutions of unqualified calls ($LATEST, the usual route), by function, while its document
   * stands: the same object (and ARN string) every call, where each call built both anew.
   */
  private readonly latest = new Map<string, Resolution>();
  private unwatch: (() => void) | undefined;

  constructor(
    readonly store: RegistryStore,
    readonly account: AccountContext,
    private readonly random: () => number = Math.random,
  ) {
    super();
    this.setMaxListeners(0);
  }

  async load(): Promise<void> {
    this.unwatch = this.store.watch((change) => this.apply(change));
    for (const stored of await this.store.list()) this.docs.set(stored.doc.name, stored);
  }

  close(): void {
    this.unwatch?.();
  }

  /** A function the current caller may see (another tenant's functions do not exist for it). */
  get(name: string): FunctionDocument | undefined {
    const doc = this.docs.get(name)?.doc;
    return doc && canAccessTenant(doc.tenant) ? doc : undefined;
  }

  getStored(name: string): StoredDocument | undefined {
    const stored = this.docs.get(name);
    return stored && canAccessTenant(stored.doc.tenant) ? stored : undefined;
  }

  list(): FunctionDocument[] {
    return [...this.docs.values()]
      .map((s) => s.doc)
      .filter((doc) => canAccessTenant(doc.tenant))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The configuration a call runs: $LATEST, a published version, or an alias (weighted). */
  resolve(name: string, qualifier?: string): Resolution {
    const doc = this.get(name);
    if (!doc) throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: ${functionArn(this.account, name, qualifier)}`);
    if (qualifier === undefined) {
      const known = this.latest.get(name);
      if (known !== undefined && known.document === doc) return known;
    }
    const config = this.configFor(doc, qualifier);
    const resolution: Resolution = {
      document: doc,
      config,
      scaling: doc.scaling,
      invokedFunctionArn: functionArn(this.account, name, qualifier),
    };
    if (qualifier === undefined) this.latest.set(name, resolution);
    return resolution;
  }

  /** A version's configuration by qualifier, resolving aliases (without weights). */
  versionConfig(doc: FunctionDocument, version: string): FunctionConfig | undefined {
    return version === '$LATEST' ? doc.latest : own(doc.versions, version);
  }

  /** Compare-and-set update with retries: mutate gets the freshest document each attempt. */
  async update(name: string, mutate: (doc: FunctionDocument | undefined) => FunctionDocument | null): Promise<StoredDocument | undefined> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.store.get(name);
      // Names are platform-wide: another tenant's function of this name is taken, not visible.
      if (current && !canAccessTenant(current.doc.tenant)) throw new ModelfnError('CONFLICT', `Function already exist: ${name}`);
      const mutated = mutate(current?.doc);
      const next = mutated && mutated.tenant === undefined ? { ...mutated, tenant: current?.doc.tenant ?? currentPrincipal()?.tenant ?? DEFAULT_TENANT } : mutated;
      if (next === null) {
        if (current) await this.store.delete(name, current.revision);
        return undefined;
      }
      try {
        return await this.store.put(next, current?.revision ?? null);
      } catch (err) {
        const raced = err instanceof ModelfnError && err.code === 'CONFLICT' && !('route' in err.details);
        if (!raced || attempt >= 4) throw err;
      }
    }
  }

  private configFor(doc: FunctionDocument, qualifier: string | undefined): FunctionConfig {
    if (qualifier === undefined || qualifier === '$LATEST') return doc.latest;
    if (/^[0-9]+$/.test(qualifier)) {
      const version = own(doc.versions, qualifier);
      if (!version) throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: ${functionArn(this.account, doc.name, qualifier)}`);
      return version;
    }
    const alias = own(doc.aliases, qualifier);
    if (!alias) throw new ModelfnError('FUNCTION_NOT_FOUND', `Function not found: ${functionArn(this.account, doc.name, qualifier)}`);
    let chosen = alias.functionVersion;
    let roll = this.random();
    for (const [version, weight] of Object.entries(alias.additionalVersionWeights)) {
      if (roll < weight) {
        chosen = version;
        break;
      }
      roll -= weight;
    }
    const config = this.versionConfig(doc, chosen);
    if (!config) throw new ModelfnError('FUNCTION_NOT_FOUND', `alias ${qualifier} points to version ${chosen}, which does not exist`);
    return config;
  }

  private apply(change: RegistryChange): void {
    if (change.type === 'put') {
      const known = this.docs.get(change.name);
      if (known && known.revision >= change.stored.revision) return;
      this.docs.set(change.name, change.stored);
    } else if (!this.docs.delete(change.name)) {
      return;
    }
    this.latest.delete(change.name);
    // Listeners rebuild platform-wide views (route tables, pools): never through a caller's tenant.
    asPlatform(() => this.emit('change', change));
  }
}
