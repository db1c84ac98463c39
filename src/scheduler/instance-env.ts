import type { FunctionConfig } from '../registry/types.js';

export interface InstanceEnvInput {
  readonly config: FunctionConfig;
  readonly instanceId: string;
  readonly codeDir: string;
  readonly tmpDir: string;
  readonly region: string;
  readonly runtimeDir: string;
  /** Epoch ms when the instance started (the log stream's date). */
  readonly startedAt: number;
}

/**
 * The complete environment of an instance: Lambda's standard variables, then the function's own.
 * Nothing of the platform's environment leaks in (credentials, data directory, MODELFN_*).
 */
export function buildInstanceEnv(input: InstanceEnvInput): Record<string, string> {
  const { config } = input;
  const day = new Date(input.startedAt).toISOString().slice(0, 10).replaceAll('-', '/');
  return {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    HOME: input.tmpDir,
    TMPDIR: input.tmpDir,
    LAMBDA_TASK_ROOT: input.codeDir,
    LAMBDA_RUNTIME_DIR: input.runtimeDir,
    _HANDLER: config.handler,
    AWS_REGION: input.region,
    AWS_DEFAULT_REGION: input.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${config.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: config.name,
    AWS_LAMBDA_FUNCTION_VERSION: config.version,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(config.memoryMb),
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${config.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `${day}/[${config.version}]${input.instanceId}`,
    ...config.environment,
  };
}
