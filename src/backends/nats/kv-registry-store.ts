import { headers } from 'nats';
import type { KV, KvEntry } from 'nats';
import { ModelfnError } from '../../shared/errors.js';
import type { RegistryChange, RegistryStore } from '../../registry/store.js';
import type { FunctionDocument, StoredDocument } from '../../registry/types.js';
import { routeKey } from '../../registry/types.js';
import type { NatsContext } from './connection.js';
import { START_BUDGET_MS, bytesOf, isCasConflict, jsonOf, kvEntries, openKv, watchKv } from './connection.js';
import { NAMES, token, untoken } from './names.js';

interface RouteClaim {
  readonly function: string;
  /** Epoch ms of the claim (a claim its owner's document never listed is released after a grace). */
  readonly at: number;
}

/** A route claim whose owner document does not list the route is stale after this long. */
const CLAIM_GRACE_MS = 30_000;

const fnKey = (name: string) => `fn.${token(name)}`;
const routeKeyOf = (key: string) => `route.${token(key)}`;

/**
 * The registry on JetStream KV: one key per function document (fn.<name>), written by
 * compare-and-set on the key's revision, and one key per route (route.<key>) naming its owner.
 * KV has no multi-key transaction, so a write claims its new routes first (create: one winner),
 * then writes the document (CAS), then releases the routes it dropped; a failed write gives back
 * what it claimed. A node that dies between the steps leaves at worst a claim its document never
 * listed, which another function may take over after CLAIM_GRACE_MS. Revisions are the KV's
 * (the bucket stream's sequence): they increase on every write, across the cluster.
 */
export class NatsRegistryStore implements RegistryStore {
  private readonly listeners = new Set<(change: RegistryChange) => void>();
  /** Highest revision announced per function, so a change reaches listeners once. */
  private readonly announced = new Map<string, number>();
  private stopWatch: (() => void) | undefined;

  private constructor(
    private readonly ctx: NatsContext,
    private readonly kv: KV,
    private readonly now: () => number,
  ) {}

  static async open(ctx: NatsContext, now: () => number = Date.now): Promise<NatsRegistryStore> {
    const kv = await openKv(ctx, NAMES.registryBucket);
    const store = new NatsRegistryStore(ctx, kv, now);
    store.stopWatch = await watchKv(kv, 'fn.>', (entry) => store.onEntry(entry), ctx);
    return store;
  }

  async get(name: string): Promise<StoredDocument | undefined> {
    const entry = await this.kv.get(fnKey(name));
    return entry && entry.operation === 'PUT' ? { doc: jsonOf<FunctionDocument>(entry.value), revision: entry.revision } : undefined;
  }

  async list(): Promise<StoredDocument[]> {
    // Read once, by the registry as the node starts (it keeps its own view after).
    const entries = await kvEntries(this.kv, 'fn.>', START_BUDGET_MS);
    return entries.map((e) => ({ doc: jsonOf<FunctionDocument>(e.value), revision: e.revision })).sort((a, b) => a.doc.name.localeCompare(b.doc.name));
  }

  async put(doc: FunctionDocument, expectedRevision: number | null): Promise<StoredDocument> {
    const current = await this.get(doc.name);
    if (expectedRevision === null && current) throw new ModelfnError('CONFLICT', `function ${doc.name} already exists`);
    if (expectedRevision !== null && current?.revision !== expectedRevision) {
      throw new ModelfnError('CONFLICT', `function ${doc.name} was changed by another request; retry`);
    }
    const wanted = new Set(doc.routes.map(routeKey));
    const claimed = await this.claimRoutes(doc.name, wanted);
    let revision: number;
    try {
      revision = expectedRevision === null ? await this.kv.create(fnKey(doc.name), bytesOf(doc)) : await this.kv.update(fnKey(doc.name), bytesOf(doc), expectedRevision);
    } catch (err) {
      await this.releaseRoutes(doc.name, claimed);
      if (isCasConflict(err) || /exists/i.test((err as Error).message)) {
        throw new ModelfnError('CONFLICT', expectedRevision === null ? `function ${doc.name} already exists` : `function ${doc.name} was changed by another request; retry`);
      }
      throw err;
    }
    const dropped = (current?.doc.routes ?? []).map(routeKey).filter((k) => !wanted.has(k));
    await this.releaseRoutes(doc.name, dropped);
    const stored = { doc, revision };
    this.announce({ type: 'put', name: doc.name, stored }, revision);
    return stored;
  }

  async delete(name: string, expectedRevision?: number): Promise<boolean> {
    const current = await this.get(name);
    if (!current) return false;
    if (expectedRevision !== undefined && current.revision !== expectedRevision) {
      throw new ModelfnError('CONFLICT', `function ${name} was changed by another request; retry`);
    }
    // A delete marker published with the expected last revision, so the delete is a CAS too and
    // its own revision is known (watchers order it against later writes).
    const h = headers();
    h.set('KV-Operation', 'DEL');
    let revision: number;
    try {
      const ack = await this.ctx.js.publish(`$KV.${NAMES.registryBucket}.${fnKey(name)}`, undefined, { headers: h, expect: { lastSubjectSequence: current.revision } });
      revision = ack.seq;
    } catch (err) {
      if (isCasConflict(err)) throw new ModelfnError('CONFLICT', `function ${name} was changed by another request; retry`);
      throw err;
    }
    await this.releaseRoutes(name, current.doc.routes.map(routeKey));
    this.announce({ type: 'delete', name }, revision);
    return true;
  }

  watch(listener: (change: RegistryChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.stopWatch?.();
    this.listeners.clear();
  }

  private onEntry(entry: KvEntry): void {
    const name = untoken(entry.key.slice('fn.'.length));
    if (entry.operation === 'PUT') {
      this.announce({ type: 'put', name, stored: { doc: jsonOf<FunctionDocument>(entry.value), revision: entry.revision } }, entry.revision);
    } else {
      this.announce({ type: 'delete', name }, entry.revision);
    }
  }

  /** Tell listeners about a change unless a later (or the same) revision was already told. */
  private announce(change: RegistryChange, revision: number): void {
    if ((this.announced.get(change.name) ?? 0) >= revision) return;
    this.announced.set(change.name, revision);
    for (const listener of this.listeners) listener(change);
  }

  /** Claim every wanted route not yet ours; on a route owned by another function, give back what was taken and throw. */
  private async claimRoutes(name: string, wanted: ReadonlySet<string>): Promise<string[]> {
    const taken: string[] = [];
    try {
      for (const key of wanted) {
        if (await this.claim(name, key)) taken.push(key);
      }
    } catch (err) {
      await this.releaseRoutes(name, taken);
      throw err;
    }
    return taken;
  }

  /** True when this call took the claim, false when it was already ours. */
  private async claim(name: string, key: string): Promise<boolean> {
    const value = bytesOf({ function: name, at: this.now() } satisfies RouteClaim);
    for (let attempt = 0; attempt < 5; attempt++) {
      const entry = await this.kv.get(routeKeyOf(key));
      try {
        if (!entry || entry.operation !== 'PUT') {
          await this.kv.create(routeKeyOf(key), value);
          return true;
        }
        const claim = jsonOf<RouteClaim>(entry.value);
        if (claim.function === name) return false;
        const owner = await this.get(claim.function);
        const listed = owner?.doc.routes.some((r) => routeKey(r) === key) ?? false;
        if (listed || this.now() - claim.at < CLAIM_GRACE_MS) {
          throw new ModelfnError('CONFLICT', `route ${key} already belongs to function ${claim.function}`, { details: { route: key, owner: claim.function } });
        }
        await this.kv.update(routeKeyOf(key), value, entry.revision);
        return true;
      } catch (err) {
        if (err instanceof ModelfnError) throw err;
        if (!isCasConflict(err) && !/exists/i.test((err as Error).message)) throw err;
        // Someone else wrote the claim meanwhile: look again.
      }
    }
    throw new ModelfnError('CONFLICT', `route ${key} is being claimed by another request; retry`);
  }

  /** Give back claims that are still ours (compare-and-set: never a claim someone took over). */
  private async releaseRoutes(name: string, keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      const entry = await this.kv.get(routeKeyOf(key));
      if (!entry || entry.operation !== 'PUT' || jsonOf<RouteClaim>(entry.value).function !== name) continue;
      await this.kv.delete(routeKeyOf(key), { previousSeq: entry.revision }).catch(() => undefined);
    }
  }
}
