/** The Lambda context object handed to Node.js handlers. */

export interface InvokeHead {
  id: string;
  deadline: number;
  arn: string;
  clientContext?: string;
  identity?: string;
  trace?: string;
}

export interface LambdaContext {
  callbackWaitsForEmptyEventLoop: boolean;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly awsRequestId: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  readonly identity?: unknown;
  readonly clientContext?: unknown;
  getRemainingTimeInMillis(): number;
  succeed(result?: unknown): void;
  fail(err?: unknown): void;
  done(err?: unknown, result?: unknown): void;
}

export function makeContext(
  head: InvokeHead,
  env: NodeJS.ProcessEnv,
  settle: (err: unknown, result?: unknown) => void,
): LambdaContext {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME ?? '',
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
    invokedFunctionArn: head.arn,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '128',
    awsRequestId: head.id,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME ?? '',
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME ?? '',
    identity: parseOptionalJson(head.identity),
    clientContext: parseOptionalJson(head.clientContext),
    getRemainingTimeInMillis: () => Math.max(0, head.deadline - Date.now()),
    succeed: (result?: unknown) => settle(null, result),
    fail: (err?: unknown) => settle(err ?? new Error('handled')),
    done: (err?: unknown, result?: unknown) => settle(err ?? null, result),
  };
}

function parseOptionalJson(text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
