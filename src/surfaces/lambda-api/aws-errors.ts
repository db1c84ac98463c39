import type { ServerResponse } from 'node:http';
import { toModelfnError } from '../../shared/errors.js';
import { closeAfterResponse, sendJson } from '../../server/http/respond.js';

/**
 * Errors as the AWS SDKs and CLI parse them for Lambda's REST-JSON protocol: the exception name in
 * X-Amzn-ErrorType and a JSON body with Type and message (and Reason for throttles).
 */
export function sendAwsError(res: ServerResponse, err: unknown, requestId: string): void {
  const error = toModelfnError(err);
  const body: Record<string, unknown> = {
    Type: error.kind === 'user' ? 'User' : 'Service',
    message: error.kind === 'system' ? 'An internal error occurred' : error.message,
  };
  if (typeof error.details.reason === 'string') body.Reason = error.details.reason;
  if (error.details.close === true) closeAfterResponse(res);
  const headers: Record<string, string> = { 'x-amzn-errortype': error.awsType, 'x-amzn-requestid': requestId };
  if (error.code === 'TOO_MANY_REQUESTS') headers['retry-after'] = '1';
  sendJson(res, error.status, body, headers);
}
