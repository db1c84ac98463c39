import type { IncomingMessage } from 'node:http';
import { ModelfnError } from '../shared/errors.js';
import type { Clock } from '../shared/clock.js';
import type { KeyStore, Principal } from './access-keys.js';
import { SigV4Error, canonicalRequest, parseAmzDate, parseAuthorization, sha256Hex, signature, signaturesMatch } from './sigv4.js';

const MAX_SKEW_MS = 15 * 60 * 1000;

export interface AuthRequest {
  readonly req: IncomingMessage;
  readonly rawPath: string;
  readonly rawQuery: string;
  readonly body: Buffer;
}

/**
 * Verifies AWS Signature Version 4 on a request against the platform's access keys, and answers
 * failures exactly as AWS does (403 with the exception the SDKs expect).
 */
export class SigV4Authenticator {
  constructor(
    private readonly keys: KeyStore,
    private readonly region: string,
    private readonly clock: Clock,
  ) {}

  authenticate(request: AuthRequest, services: readonly string[]): Principal {
    const header = request.req.headers.authorization;
    if (header === undefined || header === '') {
      throw new ModelfnError('MISSING_AUTHENTICATION', 'Missing Authentication Token: sign the request with AWS Signature Version 4');
    }
    let auth;
    try {
      auth = parseAuthorization(header);
    } catch (err) {
      throw new ModelfnError('INCOMPLETE_SIGNATURE', err instanceof SigV4Error ? err.message : 'malformed Authorization header');
    }
    const key = this.keys.get(auth.accessKeyId);
    if (!key || key.revoked) {
      throw new ModelfnError('UNRECOGNIZED_CLIENT', 'The security token included in the request is invalid.');
    }
    const amzDate = headerValue(request.req, 'x-amz-date');
    const dateHeader = headerValue(request.req, 'date');
    const signedAt = amzDate !== undefined ? parseAmzDate(amzDate) : dateHeader !== undefined ? Date.parse(dateHeader) : undefined;
    if (signedAt === undefined || Number.isNaN(signedAt)) {
      throw new ModelfnError('INCOMPLETE_SIGNATURE', "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    }
    const now = this.clock.now();
    if (now - signedAt > MAX_SKEW_MS) {
      throw new ModelfnError('INVALID_SIGNATURE', `Signature expired: ${compact(signedAt)} is now earlier than ${compact(now - MAX_SKEW_MS)} (${compact(now)} - 15 min.)`);
    }
    if (signedAt - now > MAX_SKEW_MS) {
      throw new ModelfnError('INVALID_SIGNATURE', `Signature not yet current: ${compact(signedAt)} is still later than ${compact(now + MAX_SKEW_MS)} (${compact(now)} + 15 min.)`);
    }
    const signedAtCompact = amzDate ?? compact(signedAt);
    if (auth.date !== signedAtCompact.slice(0, 8)) {
      throw new ModelfnError('INVALID_SIGNATURE', `Credential should be scoped to a valid date: ${auth.date} does not match the request date ${signedAtCompact.slice(0, 8)}`);
    }
    if (auth.region !== this.region) {
      throw new ModelfnError('INVALID_SIGNATURE', `Credential should be scoped to a valid region. This platform's region is ${this.region}, not ${auth.region}.`);
    }
    if (!services.includes(auth.service)) {
      throw new ModelfnError('INVALID_SIGNATURE', `Credential should be scoped to correct service: '${services[0]}'.`);
    }
    if (!auth.signedHeaders.includes('host')) {
      throw new ModelfnError('INVALID_SIGNATURE', "'Host' must be a signed header");
    }
    const computedHash = sha256Hex(request.body);
    const declaredHash = headerValue(request.req, 'x-amz-content-sha256');
    let payloadHash = computedHash;
    if (declaredHash !== undefined) {
      if (declaredHash !== 'UNSIGNED-PAYLOAD' && declaredHash !== computedHash) {
        throw new ModelfnError('INVALID_SIGNATURE', "The provided 'x-amz-content-sha256' header does not match what was computed.");
      }
      payloadHash = declaredHash;
    }
    const canonical = canonicalRequest(
      { method: request.req.method ?? 'GET', rawPath: request.rawPath, rawQuery: request.rawQuery, rawHeaders: request.req.rawHeaders, payloadHash },
      auth.signedHeaders,
    );
    const expected = signature(key.secretAccessKey, auth, signedAtCompact, canonical);
    if (!signaturesMatch(expected, auth.signature)) {
      throw new ModelfnError(
        'INVALID_SIGNATURE',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      );
    }
    return { accessKeyId: key.accessKeyId, tenant: key.tenant, admin: key.admin };
  }
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Epoch ms -> "20150830T123600Z". */
function compact(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}
