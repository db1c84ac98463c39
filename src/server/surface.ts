import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestTarget } from './http/request-url.js';

/**
 * A wire protocol mounted on the gateway (user routes, the Lambda API, the modelfn API, OIP...).
 * It owns its path prefixes and answers every error in its own format.
 */
export interface Surface {
  readonly name: string;
  /** Path prefixes this surface owns; user routes may not use them. Empty for the catch-all. */
  readonly prefixes: readonly string[];
  handle(req: IncomingMessage, res: ServerResponse, target: RequestTarget): Promise<void>;
}
