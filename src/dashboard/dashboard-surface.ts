import type { IncomingMessage, ServerResponse } from 'node:http';
import { runAs } from '../auth/principal-context.js';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { KeyStore, Principal } from '../auth/access-keys.js';
import { ModelfnError, toModelfnError } from '../shared/errors.js';
import { parseJsonBody } from '../shared/json.js';
import { fromPackageRoot } from '../shared/paths.js';
import { readBody } from '../server/http/body.js';
import { send, sendJson } from '../server/http/respond.js';
import type { RequestTarget } from '../server/http/request-url.js';
import type { Surface } from '../server/surface.js';
import { DashboardApi } from './dashboard-api.js';
import type { DashboardData } from './dashboard-api.js';
import { SESSION_COOKIE, SessionSigner, checkCredentials, clearedSessionCookie, parseCookies, sessionCookie } from './session.js';

export interface DashboardOptions extends DashboardData {
  /**
   * The platform's access keys: the dashboard takes the same credentials as the API. Without a
   * key store (access keys not configured) the dashboard is as open as the API is.
   */
  readonly keys: KeyStore | undefined;
  /** Built front end (index.html, app.js, app.css); default dist/dashboard. */
  readonly assetsDir?: string;
  readonly sessions?: SessionSigner;
}

/** No valid session: the API answers 401 and the front end shows the sign-in form. */
class SignInRequired extends Error {}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
};

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/**
 * The web dashboard at /ui: the built front end (static files made at build time; nothing is
 * fetched at run time) and the JSON + server-sent-events API it reads under /ui/api. Signing in
 * takes an access key id and secret, checked against the platform's key store; the session is an
 * HMAC-signed HttpOnly SameSite=Strict cookie.
 */
export class DashboardSurface implements Surface {
  readonly name = 'dashboard';
  readonly prefixes = ['/ui'];
  private readonly sessions: SessionSigner;
  private readonly assetsDir: string;
  private readonly cache = new Map<string, Buffer>();
  private readonly api: DashboardApi;

  constructor(private readonly options: DashboardOptions) {
    this.sessions = options.sessions ?? new SessionSigner();
    this.assetsDir = options.assetsDir ?? fromPackageRoot('dist', 'dashboard');
    this.api = new DashboardApi(options);
  }

  get authRequired(): boolean {
    return this.options.keys !== undefined;
  }

  async handle(req: IncomingMessage, res: ServerResponse, target: RequestTarget): Promise<void> {
    const path = target.rawPath;
    const method = req.method ?? 'GET';
    try {
      if (path === '/ui' || path === '/ui/' || path === '/ui/index.html') return await this.asset(res, 'index.html', method);
      if (path.startsWith('/ui/assets/')) return await this.asset(res, path.slice('/ui/assets/'.length), method);
      if (path === '/ui/api/login' && method === 'POST') return await this.login(req, res);
      if (path === '/ui/api/logout' && method === 'POST') return this.logout(req, res);
      if (path === '/ui/api/session' && method === 'GET') return this.session(req, res);
      if (path.startsWith('/ui/api/')) {
        const principal = this.authenticate(req);
        const apiPath = path.slice('/ui/api'.length);
        const query = new URLSearchParams(target.rawQuery);
        // The live stream filters by its caller itself, for as long as the page is open.
        if (apiPath === '/events') return await this.api.handle(req, res, apiPath, query, principal);
        // The dashboard shows a tenant's key only its tenant's functions, like the API does.
        return await runAs(principal ?? undefined, () => this.api.handle(req, res, apiPath, query, principal));
      }
      throw new ModelfnError('RESOURCE_NOT_FOUND', `nothing at ${path}`);
    } catch (err) {
      if (err instanceof SignInRequired) {
        return sendJson(res, 401, { message: 'sign in with an access key first', code: 'UNAUTHENTICATED' }, { 'cache-control': 'no-store' });
      }
      const error = toModelfnError(err);
      sendJson(res, error.status, { message: error.kind === 'system' ? 'internal error' : error.message, code: error.code }, { 'cache-control': 'no-store' });
    }
  }

  /** The signed-in principal; null in open mode; throws 401 otherwise. */
  private authenticate(req: IncomingMessage): Principal | null {
    const keys = this.options.keys;
    if (!keys) return null;
    const claims = this.sessions.verify(parseCookies(req.headers.cookie).get(SESSION_COOKIE));
    const key = claims && keys.get(claims.accessKeyId);
    if (!key || key.revoked) throw new SignInRequired();
    return { accessKeyId: key.accessKeyId, tenant: key.tenant, admin: key.admin };
  }

  private session(req: IncomingMessage, res: ServerResponse): void {
    if (!this.options.keys) return sendJson(res, 200, { authRequired: false, signedIn: true }, { 'cache-control': 'no-store' });
    let principal: Principal | null = null;
    try {
      principal = this.authenticate(req);
    } catch {
      /* not signed in */
    }
    sendJson(res, 200, { authRequired: true, signedIn: principal !== null, ...(principal ? { accessKeyId: principal.accessKeyId, tenant: principal.tenant, admin: principal.admin } : {}) }, { 'cache-control': 'no-store' });
  }

  private async login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const keys = this.options.keys;
    if (!keys) return sendJson(res, 200, { authRequired: false, signedIn: true });
    // JSON only: a cross-site form cannot send it without a CORS preflight (and the cookie is SameSite=Strict).
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') throw new ModelfnError('UNSUPPORTED_MEDIA_TYPE', 'send the credentials as application/json');
    const parsed = parseJsonBody(await readBody(req, 16 * 1024));
    // null, a number or a list is JSON too: read the two fields only from an object.
    const body = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { accessKeyId?: unknown; secretAccessKey?: unknown };
    const id = typeof body.accessKeyId === 'string' ? body.accessKeyId.trim() : '';
    const secret = typeof body.secretAccessKey === 'string' ? body.secretAccessKey.trim() : '';
    const key = id !== '' && secret !== '' ? checkCredentials(keys, id, secret) : undefined;
    if (!key) {
      // A short pause makes guessing slow; the answer does not say which half was wrong.
      await new Promise((r) => setTimeout(r, 250));
      return sendJson(res, 401, { message: 'unknown access key id or wrong secret (or the key is revoked)', code: 'UNRECOGNIZED_CLIENT' }, { 'cache-control': 'no-store' });
    }
    const { token } = this.sessions.issue(key.accessKeyId);
    const secure = (req.socket as { encrypted?: boolean }).encrypted === true || req.headers['x-forwarded-proto'] === 'https';
    sendJson(res, 200, { authRequired: true, signedIn: true, accessKeyId: key.accessKeyId, tenant: key.tenant, admin: key.admin }, {
      'set-cookie': sessionCookie(token, Math.floor(this.sessions.ttlMs / 1000), secure),
      'cache-control': 'no-store',
    });
  }

  private logout(req: IncomingMessage, res: ServerResponse): void {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') throw new ModelfnError('UNSUPPORTED_MEDIA_TYPE', 'POST /ui/api/logout with application/json');
    sendJson(res, 200, { signedIn: false }, { 'set-cookie': clearedSessionCookie(), 'cache-control': 'no-store' });
  }

  private async asset(res: ServerResponse, name: string, method: string): Promise<void> {
    if (method !== 'GET' && method !== 'HEAD') throw new ModelfnError('METHOD_NOT_ALLOWED', `${method} is not allowed here`);
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9]+)+$/.test(name)) throw new ModelfnError('RESOURCE_NOT_FOUND', `no asset ${name}`);
    let body = this.cache.get(name);
    if (!body) {
      try {
        body = await readFile(join(this.assetsDir, name));
      } catch {
        if (name === 'index.html') throw new ModelfnError('RESOURCE_NOT_FOUND', 'the dashboard is not built: run `npm run build`');
        throw new ModelfnError('RESOURCE_NOT_FOUND', `no asset ${name}`);
      }
      this.cache.set(name, body);
    }
    const type = TYPES[extname(name)] ?? 'application/octet-stream';
    send(res, 200, method === 'HEAD' ? Buffer.alloc(0) : body, { 'content-type': type, 'cache-control': name === 'index.html' ? 'no-cache' : 'public, max-age=300', ...SECURITY_HEADERS });
  }
}
