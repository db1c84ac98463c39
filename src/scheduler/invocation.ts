import type { FunctionConfig, ScalingSettings } from '../registry/types.js';
import type { LambdaError } from '../runtimes/runtime.js';

/** What a surface asks the scheduler to run. */
export interface Invocation {
  readonly requestId: string;
  /** The event as JSON bytes. */
  readonly payload: Buffer;
  readonly clientContext?: string;
  readonly cognitoIdentity?: string;
  readonly traceId?: string;
  /** Collect the invocation's log lines for the caller (Invoke with LogType Tail). */
  readonly wantLogs?: boolean;
}

/** A resolved function version and its function-wide settings. */
export interface InvocationTarget {
  readonly config: FunctionConfig;
  readonly scaling: ScalingSettings;
  readonly invokedFunctionArn: string;
}

export interface InvocationOutcome {
  readonly requestId: string;
  readonly executedVersion: string;
  /** The function's JSON result, or its error (function errors are outcomes, not exceptions). */
  readonly result: { readonly ok: true; readonly payload: Buffer; readonly validJson?: boolean } | { readonly ok: false; readonly error: LambdaError };
  readonly durationMs: number;
  readonly billedDurationMs: number;
  /** Set when this invocation started its instance (a cold start). */
  readonly initDurationMs?: number;
  readonly maxMemoryUsedMb: number;
  /** The invocation's log lines when Invocation.wantLogs was set. */
  readonly logs?: string;
}
