import { isPlainObject } from '../../shared/json.js';
import type { HttpRequestInfo } from './http-request.js';
import { bodyAsText, clfTime, dictionary, domainPrefix, parseQuery } from './http-request.js';
import type { MappedResponse, PayloadFormatCodec } from './payload-format.js';
import { BAD_GATEWAY, HOP_BY_HOP, bodyBytes, headerText, parseStatus, writable } from './payload-format.js';
import type { RouteBinding } from './route-table.js';

/** API Gateway payload format 1.0 (REST API proxy integration shape). */
export class PayloadV1 implements PayloadFormatCodec {
  readonly version = '1.0' as const;

  buildEvent(request: HttpRequestInfo, binding: RouteBinding, pathParameters: Record<string, string> | undefined): Buffer {
    // Maps without a prototype: a header or parameter named constructor or __proto__ is data.
    const headers = dictionary<string>();
    const multiValueHeaders = dictionary<string[]>();
    // The first content-type and user-agent sent (case-insensitive), found in the same pass.
    let contentType: string | undefined;
    let userAgent: string | undefined;
    const raw = request.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      const value = raw[i + 1]!;
      headers[name] = value;
      (multiValueHeaders[name] ??= []).push(value);
      if (contentType === undefined || userAgent === undefined) {
        const lower = name.toLowerCase();
        if (lower === 'content-type') contentType ??= value;
        else if (lower === 'user-agent') userAgent ??= value;
      }
    }
    let query: Record<string, string> | null = null;
    let multiQuery: Record<string, string[]> | null = null;
    for (const [k, v] of parseQuery(request.rawQuery)) {
      (query ??= dictionary())[k] = v;
      ((multiQuery ??= dictionary())[k] ??= []).push(v);
    }
    const text = bodyAsText(request.body, contentType);
    const resource = binding.route.path === '$default' ? '$default' : binding.route.path;
    const event = {
      version: '1.0',
      resource,
      path: request.rawPath,
      httpMethod: request.method,
      headers,
      multiValueHeaders,
      queryStringParameters: query,
      multiValueQueryStringParameters: multiQuery,
      requestContext: {
        accountId: request.accountId,
        apiId: 'modelfn',
        domainName: request.host,
        domainPrefix: domainPrefix(request.host),
        extendedRequestId: request.requestId,
        httpMethod: request.method,
        identity: {
          accessKey: null,
          accountId: null,
          caller: null,
          cognitoAuthenticationProvider: null,
          cognitoAuthenticationType: null,
          cognitoIdentityId: null,
          cognitoIdentityPoolId: null,
          principalOrgId: null,
          sourceIp: request.sourceIp,
          user: null,
          userAgent: userAgent ?? null,
          userArn: null,
        },
        path: request.rawPath,
        protocol: request.protocol,
        requestId: request.requestId,
        requestTime: clfTime(request.timeEpoch),
        requestTimeEpoch: request.timeEpoch,
        resourceId: binding.routeKey,
        resourcePath: resource,
        stage: '$default',
      },
      pathParameters: pathParameters ?? null,
      stageVariables: null,
      body: request.body.length > 0 ? (text ? request.body.toString('utf8') : request.body.toString('base64')) : null,
      isBase64Encoded: !text,
    };
    return Buffer.from(JSON.stringify(event));
  }

  /** Format 1.0 has no default: the result must describe the response (statusCode at least). */
  mapResult(payload: Buffer): MappedResponse {
    let result: unknown;
    try {
      result = JSON.parse(payload.toString('utf8'));
    } catch {
      return BAD_GATEWAY;
    }
    if (!isPlainObject(result)) return BAD_GATEWAY;
    const status = parseStatus(result.statusCode);
    const body = bodyBytes(result.body, result.isBase64Encoded);
    if (status === undefined || body === undefined) return BAD_GATEWAY;
    const headers = dictionary<string | string[]>();
    try {
      if (isPlainObject(result.multiValueHeaders)) {
        for (const [k, v] of Object.entries(result.multiValueHeaders)) {
          if (Array.isArray(v) && !HOP_BY_HOP.has(k.toLowerCase())) headers[k.toLowerCase()] = v.map(headerText);
        }
      }
      if (isPlainObject(result.headers)) {
        for (const [k, v] of Object.entries(result.headers)) {
          if (!HOP_BY_HOP.has(k.toLowerCase()) && v !== null && v !== undefined) headers[k.toLowerCase()] = headerText(v);
        }
      }
    } catch {
      return BAD_GATEWAY;
    }
    return writable({ status, headers, body });
  }
}
