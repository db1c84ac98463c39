import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AccessKey, KeyStore } from '../auth/access-keys.js';

export const SESSION_COOKIE = 'modelfn_session';

export interface SessionClaims {
  readonly accessKeyId: string;
  /** Epoch ms after which the session is void. */
  readonly expiresAt: number;
}

/**
 * Dashboard sessions as HMAC-SHA256-signed cookies: `v1.<base64url claims>.<base64url mac>`.
 * The key is random per platform process unless given, so a restart ends every session; the
 * claims name the access key, and every request checks again that the key exists and is not
 * revoked, so revoking a key ends its sessions at once.
 */
export class SessionSigner {
  constructor(
    private readonly secret: Buffer = randomBytes(32),
    readonly ttlMs: number = 12 * 3_600_000,
    private readonly now: () => number = Date.now,
  ) {}

  issue(accessKeyId: string): { token: string; claims: SessionClaims } {
    const claims: SessionClaims = { accessKeyId, expiresAt: this.now() + this.ttlMs };
    const body = Buffer.from(JSON.stringify({ k: claims.accessKeyId, e: claims.expiresAt })).toString('base64url');
    return { token: `v1.${body}.${this.mac(body)}`, claims };
  }

  /** The claims of a genuine, unexpired token; undefined for anything else. */
  verify(token: string | undefined): SessionClaims | undefined {
    if (token === undefined || token.length > 1024) return undefined;
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== 'v1') return undefined;
    const [, body, mac] = parts as [string, string, string];
    const expected = Buffer.from(this.mac(body));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let claims: { k?: unknown; e?: unknown };
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { k?: unknown; e?: unknown };
    } catch {
      return undefined;
    }
    if (typeof claims.k !== 'string' || typeof claims.e !== 'number' || claims.e <= this.now()) return undefined;
    return { accessKeyId: claims.k, expiresAt: claims.e };
  }

  private mac(body: string): string {
    return createHmac('sha256', this.secret).update(`modelfn-dashboard-session.${body}`).digest('base64url');
  }
}

/**
 * The access key for an id and secret, or undefined (unknown, revoked or wrong secret). The
 * secrets are compared as SHA-256 digests with timingSafeEqual: constant time whatever their length.
 */
export function checkCredentials(keys: KeyStore, accessKeyId: string, secretAccessKey: string): AccessKey | undefined {
  const key = keys.get(accessKeyId);
  // Compare even for an unknown id, so the answer takes as long either way.
  const expected = createHash('sha256').update(key?.secretAccessKey ?? 'no such key: never matches').digest();
  const given = createHash('sha256').update(secretAccessKey).digest();
  const same = timingSafeEqual(expected, given);
  if (!key || key.revoked || !same) return undefined;
  return key;
}

/** Cookie header -> name/value pairs (first wins). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (!out.has(name)) out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}

/** The Set-Cookie value for a session (HttpOnly, SameSite=Strict, scoped to /ui). */
export function sessionCookie(token: string, maxAgeSec: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSec}${secure ? '; Secure' : ''}`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0`;
}
