import type { IncomingMessage } from 'node:http';
import type { Principal } from '../../auth/access-keys.js';

const principals = new WeakMap<IncomingMessage, Principal>();

/** The surface records who signed a Lambda API request once it has checked the signature. */
export function setPrincipal(req: IncomingMessage, principal: Principal): void {
  principals.set(req, principal);
}

/** Who signed this Lambda API request (undefined when authentication is off). */
export function principalOf(req: IncomingMessage): Principal | undefined {
  return principals.get(req);
}
