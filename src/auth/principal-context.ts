import { AsyncLocalStorage } from 'node:async_hooks';
import type { Principal } from './access-keys.js';

/**
 * The signed caller of the request being served, for everything that runs on its behalf. The
 * registry reads it to show a key only its own tenant's functions; code that runs for no caller
 * (public routes, async events, schedules) sees everything, as the platform itself does.
 */
const current = new AsyncLocalStorage<Principal>();

export function runAs<T>(principal: Principal | undefined, fn: () => T): T {
  return principal ? current.run(principal, fn) : fn();
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
