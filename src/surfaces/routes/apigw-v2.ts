import { isPlainObject, jsonNumber, jsonString } from '../../shared/json.js';
import type { HttpRequestInfo } from './http-request.js';
import { bodyAsText, clfTime, dictionary, domainPrefix, parseQuery } from './http-request.js';
import type { MappedResponse, PayloadFormatCodec } from './payload-format.js';
import { BAD_GATEWAY, HOP_BY_HOP, bodyBytes, headerText, parseStatus, writable } from './payload-format.js';
import type { RouteBinding } from './route-table.js';

/** API Gateway HTTP API payload format 2.0 (also Lambda function URLs). */
export class PayloadV2 implements PayloadFormatCodec {
  readonly version = '2.0' as const;

  buildEvent(request: HttpRequestInfo, binding: RouteBinding, pathParameters: Record<string, string> | undefined): Buffer {
    // Maps, not objects: a header named constructor or __proto__ is data, and no object in
    // V8's slow dictionary mode is built and then serialised on every request.
    const headers = new Map<string, string>();
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
      const seen = headers.get(name);
      headers.set(name, seen === undefined ? value : `${seen},${value}`);
    }
    let query: Map<string, string> | undefined;
    for (const [k, v] of parseQuery(request.rawQuery)) {
      query ??= new Map();
      const seen = query.get(k);
      query.set(k, seen === undefined ? v : `${seen},${v}`);
    }
    const text = bodyAsText(request.body, headers.get('content-type'));
    const routeKey = jsonString(binding.routeKey);
    const rawPath = jsonString(request.rawPath);
    // The event's JSON written out member by member, in the order (and with the members left
    // out when absent) that JSON.stringify of the event object gives: the unit tests hold both equal.
    let json = `{"version":"2.0","routeKey":${routeKey},"rawPath":${rawPath},"rawQueryString":${jsonString(request.rawQuery)}`;
    if (cookies !== undefined) json += `,"cookies":${JSON.stringify(cookies)}`;
    json += `,"headers":${mapJson(headers)}`;
    if (query !== undefined) json += `,"queryStringParameters":${mapJson(query)}`;
    json +=
      `,"requestContext":{"accountId":${jsonString(request.accountId)},"apiId":"modelfn","domainName":${jsonString(request.host)}` +
      `,"domainPrefix":${jsonString(domainPrefix(request.host))},"http":{"method":${jsonString(request.method)},"path":${rawPath}` +
      `,"protocol":${jsonString(request.protocol)},"sourceIp":${jsonString(request.sourceIp)},"userAgent":${jsonString(userAgent ?? '')}}` +
      `,"requestId":${jsonString(request.requestId)},"routeKey":${routeKey},"stage":"$default","time":${jsonString(clfTime(request.timeEpoch))}` +
      `,"timeEpoch":${jsonNumber(request.timeEpoch)}}`;
    if (pathParameters !== undefined) json += `,"pathParameters":${JSON.stringify(pathParameters)}`;
    if (request.body.length > 0) json += `,"body":${jsonString(text ? request.body.toString('utf8') : request.body.toString('base64'))}`;
    json += `,"isBase64Encoded":${!text}}`;
    return Buffer.from(json);
  }

  /**
   * A result with a statusCode is a response description; anything else valid JSON is the body
   * of a 200 application/json response, passed through byte for byte.
   */
  mapResult(payload: Buffer, validJson = false): MappedResponse {
    const first = firstNonSpace(payload);
    if (first !== 0x7b /* { */) return { status: 200, headers: { 'content-type': 'application/json' }, body: payload };
    // Valid JSON without the bytes "statusCode" and without a backslash (so no escaped spelling of
    // it either) cannot be an object with a statusCode member: it is the body, unparsed.
    if (validJson && payload.indexOf(STATUS_CODE_KEY) < 0 && payload.indexOf(0x5c /* \ */) < 0) {
      return { status: 200, headers: { 'content-type': 'application/json' }, body: payload };
    }
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

const STATUS_CODE_KEY = Buffer.from('"statusCode"');

function firstNonSpace(buf: Buffer): number {
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]!;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return c;
  }
  return -1;
}

/** A JSON object of a string map, in insertion order. */
function mapJson(map: ReadonlyMap<string, string>): string {
  let json = '{';
  for (const [k, v] of map) json += `${json.length > 1 ? ',' : ''}${jsonString(k)}:${jsonString(v)}`;
  return `${json}}`;
}
