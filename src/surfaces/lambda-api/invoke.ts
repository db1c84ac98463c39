import type { IncomingMessage, ServerResponse } from 'node:http';
import { ModelfnError } from '../../shared/errors.js';
import type { Registry } from '../../registry/registry.js';
import { parseFunctionReference, reconcileQualifier } from '../../registry/arn.js';
import type { Dispatcher } from '../../scheduler/dispatcher.js';
import { readBody } from '../../server/http/body.js';
import { endWithBody } from '../../server/http/respond.js';
import { eventIntakeFor } from '../../events/async/event-intake.js';
import { traceFromHeaders } from '../../telemetry/trace/trace-context.js';
import { runAs } from '../../auth/principal-context.js';
import { principalOf } from './caller.js';

export interface InvokeDeps {
  readonly registry: Registry;
  readonly dispatcher: Dispatcher;
  readonly maxSyncPayloadBytes: number;
}

const LOG_TAIL_BYTES = 4096;
const CLIENT_CONTEXT_MAX = 3583;

/** Lambda Invoke: POST /2015-03-31/functions/{name}/invocations. */
export async function handleInvoke(
  deps: InvokeDeps,
  req: IncomingMessage,
  res: ServerResponse,
  functionRef: string,
  query: URLSearchParams,
  requestId: string,
): Promise<void> {
  const ref = parseFunctionReference(functionRef, deps.registry.account);
  const qualifier = reconcileQualifier(ref.qualifier, query.get('Qualifier') ?? undefined);
  const invocationType = header(req, 'x-amz-invocation-type') ?? 'RequestResponse';
  if (!['RequestResponse', 'Event', 'DryRun'].includes(invocationType)) {
    throw new ModelfnError('INVALID_PARAMETER', `X-Amz-Invocation-Type must be RequestResponse, Event or DryRun, not ${JSON.stringify(invocationType)}`);
  }
  const logType = header(req, 'x-amz-log-type') ?? 'None';
  if (logType !== 'None' && logType !== 'Tail') {
    throw new ModelfnError('INVALID_PARAMETER', `X-Amz-Log-Type must be None or Tail, not ${JSON.stringify(logType)}`);
  }
  const payload = await readBody(req, deps.maxSyncPayloadBytes);
  if (payload.length > 0) {
    try {
      JSON.parse(payload.toString('utf8'));
    } catch (err) {
      throw new ModelfnError('INVALID_JSON', `Could not parse request body into json: ${(err as Error).message}`);
    }
  }
  const clientContext = decodeClientContext(header(req, 'x-amz-client-context'));
  // As its caller: another tenant's function does not exist for it (the rest runs as the platform).
  const resolution = runAs(principalOf(req), () => deps.registry.resolve(ref.name, qualifier));
  if (invocationType === 'DryRun') {
    res.writeHead(204, { 'x-amzn-requestid': requestId, 'x-amz-executed-version': resolution.config.version });
    res.end();
    return;
  }
  if (invocationType === 'Event') {
    // Asynchronous invocation (events module): stored durably (404 / 413 checked there), then 202.
    const events = eventIntakeFor(deps.registry);
    if (!events) throw new ModelfnError('INVALID_PARAMETER', 'asynchronous (Event) invocations need the event queue, which is not enabled on this platform');
    const traceId = header(req, 'x-amzn-trace-id');
    await events.submit({ functionName: ref.name, qualifier, payload: payload.length > 0 ? payload : Buffer.from('{}'), requestId, source: 'invoke', ...(traceId ? { traceId } : {}) });
    res.writeHead(202, { 'x-amzn-requestid': requestId, 'content-length': '0' });
    res.end();
    return;
  }
  // W3C traceparent wins over X-Amzn-Trace-Id; the function gets the X-Ray form, the caller a traceparent.
  const trace = traceFromHeaders(header(req, 'traceparent'), header(req, 'x-amzn-trace-id'));
  const outcome = await deps.dispatcher.invoke(resolution, {
    requestId,
    payload: payload.length > 0 ? payload : Buffer.from('{}'),
    clientContext,
    traceId: trace.amznTraceId,
    wantLogs: logType === 'Tail',
  });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-amzn-requestid': requestId,
    'x-amz-executed-version': outcome.executedVersion,
    traceparent: trace.traceparent,
  };
  if (logType === 'Tail') headers['x-amz-log-result'] = tail(outcome.logs ?? '');
  let body: Buffer;
  if (outcome.result.ok) body = outcome.result.payload;
  else {
    headers['x-amz-function-error'] = 'Unhandled';
    const { errorType, errorMessage, stackTrace } = outcome.result.error;
    body = Buffer.from(JSON.stringify({ errorMessage, errorType, ...(stackTrace && stackTrace.length > 0 ? { stackTrace } : {}) }));
  }
  headers['content-length'] = String(body.length);
  res.writeHead(200, headers);
  endWithBody(res, body);
}


function decodeClientContext(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.length > CLIENT_CONTEXT_MAX) throw new ModelfnError('INVALID_PARAMETER', `X-Amz-Client-Context must be at most ${CLIENT_CONTEXT_MAX} bytes`);
  const text = Buffer.from(value, 'base64').toString('utf8');
  try {
    JSON.parse(text);
  } catch {
    throw new ModelfnError('INVALID_PARAMETER', 'X-Amz-Client-Context must be base64-encoded JSON');
  }
  return text;
}

/** The last 4 KB of the invocation's log, base64, as X-Amz-Log-Result carries it. */
function tail(log: string): string {
  const bytes = Buffer.from(log);
  return bytes.subarray(Math.max(0, bytes.length - LOG_TAIL_BYTES)).toString('base64');
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : Array.isArray(value) ? value[0] : undefined;
}
