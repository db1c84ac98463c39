import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * AWS Signature Version 4, the server side: rebuild the canonical request from what arrived and
 * compare signatures. Pure functions; the caller supplies the secret for the key id.
 * Spec: "Create a signed AWS API request" (AWS IAM user guide) and the SigV4 test suite.
 */

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export interface ParsedAuthorization {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

export class SigV4Error extends Error {
  constructor(
    readonly kind: 'missing' | 'malformed' | 'expired' | 'mismatch' | 'scope',
    message: string,
  ) {
    super(message);
  }
}

/** "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, SignedHeaders=a;b, Signature=hex" */
export function parseAuthorization(header: string): ParsedAuthorization {
  if (!header.startsWith(`${ALGORITHM} `)) {
    throw new SigV4Error('malformed', `Authorization header must use ${ALGORITHM}`);
  }
  const fields = new Map<string, string>();
  for (const part of header.slice(ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!credential || !signedHeaders || !signature) {
    throw new SigV4Error('malformed', "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters");
  }
  const scope = credential.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request' || !/^\d{8}$/.test(scope[1]!)) {
    throw new SigV4Error('malformed', `Credential should be scoped to a valid region and service, e.g. AKID/20150830/us-east-1/lambda/aws4_request; got ${credential}`);
  }
  if (!/^[0-9a-f]{64}$/.test(signature)) throw new SigV4Error('malformed', 'Signature must be 64 lowercase hex characters');
  return {
    accessKeyId: scope[0]!,
    date: scope[1]!,
    region: scope[2]!,
    service: scope[3]!,
    signedHeaders: signedHeaders.split(';'),
    signature,
  };
}

/** RFC 3986 encoding as SigV4 wants it: unreserved characters stay, everything else is %XX (upper hex). */
export function uriEncode(value: string): string {
  const encoded = encodeURIComponent(value);
  return RESERVED_BY_SIGV4.test(encoded) ? encoded.replace(RESERVED_ALL, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`) : encoded;
}

// encodeURIComponent leaves these alone; RFC 3986 (and SigV4) escapes them.
const RESERVED_BY_SIGV4 = /[!'()*]/;
const RESERVED_ALL = /[!'()*]/g;

/**
 * The canonical URI of a (non-S3) request: the path as sent, dot segments and empty segments
 * removed, then every segment encoded once more ("double encoding").
 */
export function canonicalUri(rawPath: string): string {
  const segments: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && rawPath.endsWith('/') ? '/' : '';
  return `/${segments.map(uriEncode).join('/')}${trailing}`;
}

/** Parameters decoded, re-encoded, sorted by name then value. */
export function canonicalQuery(rawQuery: string): string {
  if (rawQuery === '') return '';
  const pairs: Array<[string, string]> = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    if (key === 'X-Amz-Signature') continue;
    pairs.push([uriEncode(safeDecode(key)), uriEncode(safeDecode(value))]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

// Only ASCII spaces and tabs count (CR/LF cannot reach here): Node hands header bytes over as
// latin1, and a 0xA0 byte is a no-break space to JavaScript's \s and trim() but text to SigV4.
const SPACE_RUN = /[ \t][ \t]|[\t\n\r]|^ | $/;
const SPACE_RUNS = /[ \t\n\r]+/g;
const EDGE_SPACES = /^ | $/g;

/** Signed headers, lower-cased, values trimmed with inner runs of spaces collapsed, repeats joined by ','. */
export function canonicalHeaders(rawHeaders: readonly string[], signed: readonly string[]): string {
  const values = new Map<string, string[]>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const list = values.get(name);
    const raw = rawHeaders[i + 1]!;
    const value = SPACE_RUN.test(raw) ? raw.replace(SPACE_RUNS, ' ').replace(EDGE_SPACES, '') : raw;
    if (list) list.push(value);
    else values.set(name, [value]);
  }
  return signed.map((name) => `${name}:${(values.get(name) ?? []).join(',')}\n`).join('');
}

export interface SignableRequest {
  readonly method: string;
  readonly rawPath: string;
  readonly rawQuery: string;
  readonly rawHeaders: readonly string[];
  /** Hex sha256 of the body (or UNSIGNED-PAYLOAD where allowed). */
  readonly payloadHash: string;
}

export function canonicalRequest(request: SignableRequest, signedHeaders: readonly string[]): string {
  return [
    request.method.toUpperCase(),
    canonicalUri(request.rawPath),
    canonicalQuery(request.rawQuery),
    canonicalHeaders(request.rawHeaders, signedHeaders),
    signedHeaders.join(';'),
    request.payloadHash,
  ].join('\n');
}

export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return [ALGORITHM, amzDate, scope, sha256Hex(canonical)].join('\n');
}

export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = hmac(`AWS4${secret}`, date);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  return hmac(kService, 'aws4_request');
}

/**
 * Signing keys change once a day per key, region and service; deriving one costs four HMACs, so
 * they are kept (a small cache: one entry per active key and day).
 */
const keyCache = new Map<string, Buffer>();

function cachedSigningKey(secret: string, date: string, region: string, service: string): Buffer {
  const id = `${secret}\n${date}\n${region}\n${service}`;
  let key = keyCache.get(id);
  if (!key) {
    if (keyCache.size >= 1000) keyCache.delete(keyCache.keys().next().value!);
    key = signingKey(secret, date, region, service);
    keyCache.set(id, key);
  }
  return key;
}

export function signature(secret: string, auth: Pick<ParsedAuthorization, 'date' | 'region' | 'service'>, amzDate: string, canonical: string): string {
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  return createHmac('sha256', cachedSigningKey(secret, auth.date, auth.region, auth.service)).update(stringToSign(amzDate, scope, canonical)).digest('hex');
}

/** Constant-time comparison of two hex signatures. */
export function signaturesMatch(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'hex');
  const b = Buffer.from(given, 'hex');
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
}

/** "20150830T123600Z" -> epoch ms (undefined when malformed). */
export function parseAmzDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isNaN(ms) ? undefined : ms;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
