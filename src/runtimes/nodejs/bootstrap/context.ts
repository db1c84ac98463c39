/** The Lambda context object handed to Node.js handlers. */

export interface InvokeHead {
  id: string;
  /** Epoch ms by which the function must answer; set by the runtime when the invocation starts. */
  deadline: number;
  /** The function's timeout in ms: an invocation handed over ahead of its start gets its deadline when it starts. */
  timeout?: number;
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

/** What every invocation's context shares, read from the environment once (process.env reads are getenv calls). */
export interface FunctionFacts {
  readonly functionName: string;
  readonly functionVersion: string;
  readonly memoryLimitInMB: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
}

export function functionFacts(env: NodeJS.ProcessEnv): FunctionFacts {
  return {
    functionName: env.AWS_LAMBDA_FUNCTION_NAME ?? '',
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '128',
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME ?? '',
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME ?? '',
  };
}

type Settle = (err: unknown, result?: unknown) => void;

/** One invocation's context: fields, and methods on the prototype (no closures per call). */
class Context implements LambdaContext {
  callbackWaitsForEmptyEventLoop = true;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly awsRequestId: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  readonly identity?: unknown;
  readonly clientContext?: unknown;
  readonly #deadline: number;
  readonly #settle: Settle;

  constructor(head: InvokeHead, facts: FunctionFacts, settle: Settle) {
    this.functionName = facts.functionName;
    this.functionVersion = facts.functionVersion;
    this.invokedFunctionArn = head.arn;
    this.memoryLimitInMB = facts.memoryLimitInMB;
    this.awsRequestId = head.id;
    this.logGroupName = facts.logGroupName;
    this.logStreamName = facts.logStreamName;
    if (head.identity) this.identity = parseOptionalJson(head.identity);
    if (head.clientContext) this.clientContext = parseOptionalJson(head.clientContext);
    this.#deadline = head.deadline;
    this.#settle = settle;
  }

  getRemainingTimeInMillis(): number {
    return Math.max(0, this.#deadline - Date.now());
  }

  succeed(result?: unknown): void {
    this.#settle(null, result);
  }

  fail(err?: unknown): void {
    this.#settle(err ?? new Error('handled'));
  }

  done(err?: unknown, result?: unknown): void {
    this.#settle(err ?? null, result);
  }
}

export function makeContext(head: InvokeHead, facts: FunctionFacts, settle: Settle): LambdaContext {
  return new Context(head, facts, settle);
}

function parseOptionalJson(text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
