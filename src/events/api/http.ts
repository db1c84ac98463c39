import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HTTPMethod } from 'find-my-way';
import { readBody } from '../../server/http/body.js';
import { sendJson } from '../../server/http/respond.js';
import { ModelfnError } from '../../shared/errors.js';
import type { ConfigurationMember } from '../../surfaces/lambda-api/lambda-api-surface.js';
import { parseJsonBody } from '../../shared/json.js';

/** The Lambda API surface as the event module uses it (LambdaApiSurface.operation). */
export interface LambdaOperationRegistrar {
  addConfigurationMember(member: ConfigurationMember): void;
  operation(
    method: HTTPMethod,
    path: string,
    op: (req: IncomingMessage, res: ServerResponse, params: Record<string, string>, query: URLSearchParams, requestId: string) => Promise<void>,
  ): void;
}

export type AdminHandler = (req: IncomingMessage, res: ServerResponse, params: Record<string, string>, query: URLSearchParams) => Promise<void>;

/** The modelfn API surface as the event module uses it (AdminSurface.on). */
export interface AdminRegistrar {
  on(method: HTTPMethod, path: string, handler: AdminHandler): void;
}

/** Register with a body limit where the surface supports one (it reads and signs the body first). */
export function onWithBody(admin: AdminRegistrar, method: HTTPMethod, path: string, handler: AdminHandler, maxBodyBytes: number): void {
  (admin.on as (m: HTTPMethod, p: string, h: AdminHandler, o: { maxBodyBytes: number }) => void).call(admin, method, path, handler, { maxBodyBytes });
}

export async function jsonBody(req: IncomingMessage, limit = 1024 * 1024): Promise<unknown> {
  const body = await readBody(req, limit);
  if (body.length === 0) return {};
  return parseJsonBody(body);
}

export function sendAws(res: ServerResponse, status: number, value: unknown, requestId: string): void {
  sendJson(res, status, value, { 'x-amzn-requestid': requestId });
}

export function noContent(res: ServerResponse, headers: Record<string, string> = {}): void {
  res.writeHead(204, headers);
  res.end();
}

/** A whole number query parameter within a range, or the default. */
export function intParam(query: URLSearchParams, name: string, def: number, min: number, max: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ModelfnError('INVALID_PARAMETER', `${name} must be a whole number from ${min} to ${max}`);
  }
  return n;
}
