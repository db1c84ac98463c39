import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';

/** The parts of an HTTP request the API Gateway event formats carry. */
export interface HttpRequestInfo {
  readonly method: string;
  readonly rawPath: string;
  readonly rawQuery: string;
  /** Node's rawHeaders: [name, value, name, value, ...] as received. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly sourceIp: string;
  readonly protocol: string;
  readonly host: string;
  readonly requestId: string;
  readonly timeEpoch: number;
  readonly accountId: string;
}

/** What an event is built from: the request as Node received it (rawPath as the surface sees it). */
export function httpRequestInfo(
  req: IncomingMessage,
  parts: { rawPath: string; rawQuery: string; body: Buffer; requestId: string; timeEpoch: number; accountId: string },
): HttpRequestInfo {
  return {
    method: req.method ?? 'GET',
    rawPath: parts.rawPath,
    rawQuery: parts.rawQuery,
    rawHeaders: req.rawHeaders,
    body: parts.body,
    sourceIp: req.socket.remoteAddress ?? '',
    protocol: `HTTP/${req.httpVersion}`,
    host: req.headers.host ?? '',
    requestId: parts.requestId,
    timeEpoch: parts.timeEpoch,
    accountId: parts.accountId,
  };
}

const TEXT_TYPES = /^(text\/|application\/(json|[a-z0-9.+-]*\+json|xml|[a-z0-9.+-]*\+xml|javascript|x-www-form-urlencoded|graphql|x-ndjson|ld\+json)\b)/i;

/** A body travels as text when its type is textual and it is valid UTF-8; otherwise base64. */
export function bodyAsText(body: Buffer, contentType: string | undefined): boolean {
  if (body.length === 0) return true;
  if (contentType !== undefined && !TEXT_TYPES.test(contentType.trim())) return false;
  // An absent content type counts as text only when the bytes decode cleanly.
  return isUtf8(body);
}

let clfSecond = -1;
let clfText = '';

/** "12/Mar/2020:19:03:58 +0000", the requestContext.time format (formatted once per second). */
export function clfTime(epochMs: number): string {
  const second = Math.floor(epochMs / 1000);
  if (second === clfSecond) return clfText;
  clfSecond = second;
  clfText = formatClf(epochMs);
  return clfText;
}

function formatClf(epochMs: number): string {
  const d = new Date(epochMs);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** The host's first label ("api" of "api.example.com"), as host.split('.')[0] without the array. */
export function domainPrefix(host: string): string {
  const dot = host.indexOf('.');
  return dot < 0 ? host : host.slice(0, dot);
}

/** An empty object without a prototype, for maps keyed by names a client chooses. */
export function dictionary<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** Query parameters in order of appearance, decoded, '+' as space. */
export function parseQuery(rawQuery: string): Array<[string, string]> {
  if (rawQuery === '') return [];
  return [...new URLSearchParams(rawQuery)];
}
