import { isPlainObject } from '../../shared/json.js';
import type { HttpRequestInfo } from './http-request.js';
import { bodyAsText, clfTime, dictionary, domainPrefix, parseQuery } from './http-request.js';
import type { MappedResponse, PayloadFormatCodec } from './payload-format.js';
import { BAD_GATEWAY, HOP_BY_HOP, bodyBytes, headerText, parseStatus, writable } from './payload-format.js';
import type { RouteBinding } from './route-table.js';

/** API Gateway HTTP API payload format 2.0 (also Lambda function URLs). */
export class PayloadV2 implements PayloadFormatCodec {
  readonly version = '2.0' as const;

  buildEvent(request: HttpRequestInfo, binding: RouteBinding, pathParameters: Record<string, string> | undefined): Buffer {
    // Maps without a prototype: a header or parameter named constructor or __proto__ is data.
    const headers = dictionary<string>();
    let cookies: string[] | undefined;
    let userAgent: string | undefined;
    const raw = request.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!.toLowerCase();
      const value = raw[i + 1]!;
      if (name === 'cookie') {
        cookies ??= [];
        for (const c of value.split(';')) if (c.trim() !== '') cookies.push(c.trim());
        continue;
      }
      // The first user-agent sent (found in this pass, not by a second scan of the headers).
      if (name === 'user-agent' && userAgent === undefined) userAgent = value;
      headers[name] = name in headers ? `${headers[name]},${value}` : value;
    }
    let query: Record<string, string> | undefined;
    for (const [k, v] of parseQuery(request.rawQuery)) {
      query ??= dictionary();
      query[k] = k in query ? `${query[k]},${v}` : v;
    }
    const text = bodyAsText(request.body, headers['content-type']);
    // One literal of fixed shape (no spreads: this runs on every request). Optional members are
    // undefined when absent, and JSON.stringify leaves undefined members out, so the JSON is
    // the same as with the members omitted, in the same order.
    const event = {
      version: '2.0',
      routeKey: binding.routeKey,
      rawPath: request.rawPath,
      rawQueryString: request.rawQuery,
      cookies,
      headers,
      queryStringParameters: query,
      requestContext: {
        accountId: request.accountId,
        apiId: 'modelfn',
        domainName: request.host,
        domainPrefix: domainPrefix(request.host),
        http: {
          method: request.method,
          path: request.rawPath,
          protocol: request.protocol,
          sourceIp: request.sourceIp,
          userAgent: userAgent ?? '',
        },
        requestId: request.requestId,
        routeKey: binding.routeKey,
        stage: '$default',
        time: clfTime(request.timeEpoch),
        timeEpoch: request.timeEpoch,
      },
      pathParameters,
      body: request.body.length > 0 ? (text ? request.body.toString('utf8') : request.body.toString('base64')) : undefined,
      isBase64Encoded: !text,
    };
    return Buffer.from(JSON.stringify(event));
  }

  /**
   * A result with a statusCode is a response description; anything else valid JSON is the body
   * of a 200 application/json response, passed through byte for byte.
   */
  mapResult(payload: Buffer): MappedResponse {
    const first = firstNonSpace(payload);
    if (first !== 0x7b /* { */) return { status: 200, headers: { 'content-type': 'application/json' }, body: payload };
    let result: unknown;
    try {
      result = JSON.parse(payload.toString('utf8'));
    } catch {
      return BAD_GATEWAY;
    }
    if (!isPlainObject(result) || !('statusCode' in result)) {
      return { status: 200, headers: { 'content-type': 'application/json' }, body: payload };
    }
    const status = parseStatus(result.statusCode);
    const body = bodyBytes(result.body, result.isBase64Encoded);
    if (status === undefined || body === undefined) return BAD_GATEWAY;
    const headers = dictionary<string | string[]>();
    try {
      if (isPlainObject(result.headers)) {
        for (const [k, v] of Object.entries(result.headers)) {
          if (!HOP_BY_HOP.has(k.toLowerCase()) && v !== null && v !== undefined) headers[k.toLowerCase()] = headerText(v);
        }
      }
      if (Array.isArray(result.cookies) && result.cookies.length > 0) headers['set-cookie'] = result.cookies.map(headerText);
    } catch {
      return BAD_GATEWAY;
    }
    if (!('content-type' in headers) && body.length > 0) headers['content-type'] = 'application/json';
    return writable({ status, headers, body });
  }
}

function firstNonSpace(buf: Buffer): number {
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]!;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return c;
  }
  return -1;
}
