import { AsyncLocalStorage } from 'node:async_hooks';
import type { Principal } from './access-keys.js';

/**
 * The signed caller of the request being served, for everything that runs on its behalf. The
 * registry reads it to show a key only its own tenant's functions; code that runs for no caller
 * (public routes, async events, schedules) sees everything, as the platform itself does.
 */
const current = new AsyncLocalStorage<Principal>();

/** runAs() calls with a principal that have not finished (their promise has not settled). */
let open = 0;

/**
 * Run fn as the principal: what it calls, and every await and callback that follows from it, see
 * that caller. An AsyncLocalStorage carries it, and on Node 20 one that is enabled has Node track
 * every promise and async resource of the process, the public routes' too: 2.1-5.6 µs more per
 * routed request on the request thread, from the first signed call on, forever (two A/B runs and
 * `npm run bench core`). So the storage is switched off again whenever no signed call is in
 * flight, and the call paths (routes, function URLs, Invoke, the model protocols) run only their
 * lookups as the caller, not the whole call. Code that a signed call left running after it
 * finished (fire and forget) then runs as the platform, as all background work does.
 */
export function runAs<T>(principal: Principal | undefined, fn: () => T): T {
  if (!principal) return fn();
  open++;
  let result: T;
  try {
    result = current.run(principal, fn);
  } catch (err) {
    close();
    throw err;
  }
  if (isThenable(result)) result.then(close, close);
  else close();
  return result;
}

function close(): void {
  open--;
  if (open === 0) current.disable();
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as PromiseLike<unknown>).then === 'function';
}

/** Is the storage on (tests: it is off whenever no signed call is in flight)? */
export function principalTracking(): boolean {
  return open > 0;
}

/** Run as the platform itself (sees every tenant): change listeners, caches, background work. */
export function asPlatform<T>(fn: () => T): T {
  return current.exit(fn);
}

export function currentPrincipal(): Principal | undefined {
  return current.getStore();
}

export const DEFAULT_TENANT = 'default';

/** May the current caller see a resource of this tenant? */
export function canAccessTenant(tenant: string | undefined): boolean {
  const principal = current.getStore();
  return principal === undefined || principal.admin || principal.tenant === (tenant ?? DEFAULT_TENANT);
}
