import type { ModelSignature } from '../models/codecs/signature.js';
import type { FunctionConfig } from '../registry/types.js';

/** Lambda's error shape, used on every surface that reports a function's failure. */
export interface LambdaError {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly stackTrace?: readonly string[];
}

/**
 * The Lambda error JSON a runtime's private channel carries (Node.js bootstrap, model host): its
 * three members kept when they have the right types; a body that is not JSON is the `sender`'s fault.
 */
export function parseChannelError(body: Buffer, sender: string): LambdaError {
  try {
    const e = JSON.parse(body.toString('utf8')) as Partial<LambdaError>;
    return {
      errorType: typeof e.errorType === 'string' ? e.errorType : 'Error',
      errorMessage: typeof e.errorMessage === 'string' ? e.errorMessage : '',
      stackTrace: Array.isArray(e.stackTrace) ? e.stackTrace.map(String) : [],
    };
  } catch {
    return { errorType: 'Runtime.InvalidResponse', errorMessage: `${sender} reported an error that is not JSON` };
  }
}

/** One line a running instance wrote. */
export interface InstanceLogLine {
  readonly stream: 'stdout' | 'stderr' | 'console';
  readonly text: string;
  /** Known when the runtime tags its own output (console); otherwise the pool fills it in. */
  readonly requestId?: string;
  readonly level?: string;
}

export interface InstanceSpec {
  readonly id: string;
  readonly config: FunctionConfig;
  /** The unpacked, read-only code tree (LAMBDA_TASK_ROOT). */
  readonly codeDir: string;
  /** A private, writable temp folder. */
  readonly tmpDir: string;
  /** The complete environment of the instance process (nothing is inherited from the platform). */
  readonly env: Readonly<Record<string, string>>;
  /** Budget for the runtime to become ready (Lambda's init phase cap). */
  readonly initTimeoutMs: number;
  readonly onLog: (line: InstanceLogLine) => void;
}

export interface InvokeRequest {
  readonly requestId: string;
  /** The event, JSON bytes. */
  readonly payload: Buffer;
  /** Epoch ms by which the function must answer. */
  readonly deadlineMs: number;
  /**
   * The function's timeout. A pipelining instance gets its invocations ahead of their start, so
   * it sets the deadline itself when one starts.
   */
  readonly timeoutMs?: number;
  readonly invokedFunctionArn: string;
  readonly clientContext?: string;
  readonly cognitoIdentity?: string;
  readonly traceId?: string;
}

/**
 * runMs: how long the call ran inside the instance, for runtimes that can tell (free of the
 * platform's queueing). fatal: the runtime failed this call and stops (an uncaught error): no call
 * handed to it after this one has started.
 */
export type InvokeResponse =
  | {
      readonly ok: true;
      readonly payload: Buffer;
      readonly runMs?: number;
      /** The runtime vouches that the payload is valid JSON (it wrote it with JSON.stringify). */
      readonly validJson?: boolean;
    }
  | { readonly ok: false; readonly error: LambdaError; readonly runMs?: number; readonly fatal?: boolean };

export interface InstanceExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The kernel killed it at its sandbox's memory cap (cgroup). */
  readonly outOfMemory?: boolean;
}

/**
 * One isolated runtime: it serves one invocation at a time. invoke() resolves with the function's
 * result or error; it rejects only when the instance itself died (crash, exit, kill).
 */
export interface Instance {
  readonly id: string;
  readonly pid: number | undefined;
  /** False once the instance is dying or dead: it must not be handed another invocation. */
  readonly alive: boolean;
  invoke(request: InvokeRequest): Promise<InvokeResponse>;
  /**
   * invoke() that resolves with the Error instead of rejecting: what the scheduler calls when an
   * instance has it (a rejection it would turn into a value anyway cost a promise per call).
   */
  invokeSettled?(request: InvokeRequest): Promise<InvokeResponse | Error>;
  /**
   * The instance takes invocations while one runs and runs them one at a time, in order
   * (pipelining). Then an invocation it drops unstarted on withdraw() rejects with
   * InvocationWithdrawn, and every invocation behind one that dies with its process never ran.
   */
  readonly pipelining?: boolean;
  /** Ask a pipelining instance to drop an invocation that has not started (it may have). */
  withdraw?(requestId: string): void;
  /** Stop the instance now (SIGKILL to its process group). */
  kill(): void;
  readonly exited: Promise<InstanceExit>;
  /** How its start was spent, for runtimes that can tell (set once start() resolved). */
  readonly initPhases?: RuntimeInitPhases;
}

/**
 * Phases of a runtime's start, in ms (the cold-start metrics, logs and API show them). A runtime
 * reports what it can tell apart; a phase it cannot see is left out.
 */
export interface RuntimeInitPhases {
  /** From spawning the process (or handing a stem cell its function) until the runtime's own code runs. */
  readonly processStartMs?: number;
  /** The runtime's set-up before user code (channel, console capture, taking on the function's environment). */
  readonly runtimeInitMs?: number;
  /** Loading the handler module: the function's module-level code (where models load); a model function's model load. */
  readonly userInitMs?: number;
  /** The instance was a stem cell (a started, generic process that took on this function), not a new process. */
  readonly stemCell?: boolean;
}

/** A language runtime: knows how to start instances for the runtime identifiers it supports. */
export interface Runtime {
  /** e.g. 'nodejs' */
  readonly family: string;
  /** e.g. ['nodejs20.x', 'nodejs18.x'] */
  readonly identifiers: readonly string[];
  /**
   * Start an instance and run its init phase (load the handler). Rejects with InitFailure when the
   * function's own code fails to initialise.
   */
  start(spec: InstanceSpec): Promise<Instance>;
  /** Extra checks at deploy time (e.g. the handler string's shape, a setting the runtime cannot honour). Throws ModelfnError. */
  validate?(config: Pick<FunctionConfig, 'handler' | 'runtime' | 'network'>): void;
  /**
   * Checks at deploy time that need the unpacked bundle (the model runtime loads the model once).
   * Throws ModelfnError; what it returns is stored with the function version.
   */
  validateBundle?(codeDir: string, config: Pick<FunctionConfig, 'name' | 'handler' | 'runtime' | 'memoryMb' | 'environment'>): Promise<BundleFacts>;
}

/** What a runtime learned from a bundle at deploy time. */
export interface BundleFacts {
  /** A model function's inputs and outputs (see src/models/codecs/signature.ts). */
  readonly model?: ModelSignature;
}

/** The function's init failed: its error goes to the caller as a function error. */
export class InitFailure extends Error {
  constructor(readonly error: LambdaError) {
    super(error.errorMessage);
    this.name = 'InitFailure';
  }
}

/** The instance died while serving (exit, crash, kill). */
/** A pipelining instance dropped the invocation unstarted when asked to: it may run elsewhere. */
export class InvocationWithdrawn extends Error {
  constructor(requestId: string) {
    super(`invocation ${requestId} was withdrawn before it started`);
    this.name = 'InvocationWithdrawn';
  }
}

export class InstanceDied extends Error {
  constructor(
    readonly exit: InstanceExit,
    message: string,
  ) {
    super(message);
    this.name = 'InstanceDied';
  }
}

export function describeExit(exit: InstanceExit): string {
  return exit.signal ? `signal: ${exit.signal === 'SIGKILL' ? 'killed' : exit.signal}` : `exit status ${exit.code ?? 0}`;
}
