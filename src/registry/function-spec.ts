import { z } from 'zod';

/**
 * The deploy request: everything a user may set on a function. Limits follow Lambda's quotas so a
 * function moves between AWS and modelfn unchanged.
 */

export const LIMITS = {
  memoryMb: { min: 128, max: 10240 },
  timeoutSec: { min: 1, max: 900 },
  environmentBytes: 4096,
  keepAliveSec: { min: 0, max: 7 * 24 * 3600 },
  reservedConcurrency: { min: 0, max: 10000 },
  batchSize: { min: 1, max: 4096 },
  batchDelayMs: { min: 0, max: 1000 },
  /** The private /tmp (Lambda's ephemeral storage). */
  tmpSizeMb: { min: 512, max: 10240 },
} as const;

export const FUNCTION_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Variables the platform sets for every instance (Lambda reserves the same names). */
export const RESERVED_ENV_KEYS = new Set([
  '_HANDLER', '_X_AMZN_TRACE_ID', 'AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME', 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE', 'AWS_LAMBDA_LOG_GROUP_NAME', 'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR', 'MODELFN_CHANNEL_FD', 'MODELFN_ANSWER_FD',
]);

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'ANY'] as const;

export const functionNameSchema = z
  .string()
  .regex(FUNCTION_NAME_PATTERN, { message: 'must be 1-64 letters, digits, hyphens or underscores' });

const routePathSchema = z.union([
  z.literal('$default'),
  z
    .string()
    .max(512)
    .regex(/^\/[A-Za-z0-9._~!$&'()*,;=:@%{}+\-/]*$/, {
      message: 'must start with / and hold only URL path characters and {param} / {proxy+} segments',
    })
    .refine((p) => !/\/\//.test(p), { message: 'must not contain empty segments (//)' })
    // The router reads '*' as a wildcard (and refuses one that is not last): {proxy+} is the way.
    .refine((p) => !p.includes('*'), { message: 'must not contain * (use a greedy {proxy+} segment)' })
    .refine((p) => p.split('/').every((seg) => !seg.includes('{') || /^\{[A-Za-z0-9_]+\+?\}$/.test(seg)), {
      message: 'a {param} must fill its whole segment, e.g. /items/{id}',
    })
    .refine((p) => !/\{[^}]+\+\}./.test(p), { message: 'a greedy {name+} parameter must be the last segment' }),
]);

export const routeSpecSchema = z
  .object({
    method: z
      .string()
      .transform((m) => m.toUpperCase())
      .pipe(z.enum(METHODS, { message: `must be one of ${METHODS.join(', ')}` })),
    path: routePathSchema,
    qualifier: z.string().regex(/^(\$LATEST|[0-9]+|[A-Za-z0-9_-]{1,128})$/).optional(),
    payloadFormat: z.enum(['1.0', '2.0']).default('2.0'),
    /** Answer 202 at once and invoke asynchronously (with retries, dead letters, destinations). */
    async: z.boolean().optional(),
    /** none: public (the default); aws_iam: callers sign with SigV4, as with API Gateway's IAM authorizer. */
    auth: z.enum(['none', 'aws_iam']).optional(),
  })
  .strict();

export const environmentSchema = z
  .record(z.string(), z.string({ message: 'values must be strings' }))
  .superRefine((env, ctx) => {
    for (const key of Object.keys(env)) {
      if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(key)) {
        ctx.addIssue({ code: 'custom', path: [key], message: 'variable names start with a letter and hold letters, digits, _' });
      }
    }
  })
  .refine((env) => !Object.keys(env).some((k) => RESERVED_ENV_KEYS.has(k)), {
    message: `uses a reserved name (${[...RESERVED_ENV_KEYS].slice(0, 6).join(', ')}, ...)`,
  })
  .refine((env) => Buffer.byteLength(JSON.stringify(env)) <= LIMITS.environmentBytes, {
    message: `must total at most ${LIMITS.environmentBytes} bytes`,
  });

const intIn = (min: number, max: number, unit: string) =>
  z
    .number({ message: `must be a number of ${unit}` })
    .int({ message: `must be a whole number of ${unit}` })
    .min(min, { message: `must be between ${min} and ${max} ${unit}` })
    .max(max, { message: `must be between ${min} and ${max} ${unit}` });

export const batchingSchema = z
  .object({
    maxBatchSize: intIn(LIMITS.batchSize.min, LIMITS.batchSize.max, 'rows'),
    maxDelayMs: intIn(LIMITS.batchDelayMs.min, LIMITS.batchDelayMs.max, 'ms'),
  })
  .strict();

export const deploySpecSchema = z
  .object({
    runtime: z.string().min(1).max(64),
    handler: z.string().min(1).max(128).regex(/^[^\s]+$/, { message: 'must not contain whitespace' }),
    memoryMb: intIn(LIMITS.memoryMb.min, LIMITS.memoryMb.max, 'MB').default(128),
    timeoutSec: intIn(LIMITS.timeoutSec.min, LIMITS.timeoutSec.max, 'seconds').default(3),
    environment: environmentSchema.default({}),
    description: z.string().max(256).default(''),
    role: z.string().max(2048).optional(),
    code: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/, { message: 'must be a hex sha256' }) }).strict(),
    reservedConcurrency: intIn(LIMITS.reservedConcurrency.min, LIMITS.reservedConcurrency.max, 'instances')
      .nullable()
      .default(null),
    keepAliveSec: intIn(LIMITS.keepAliveSec.min, LIMITS.keepAliveSec.max, 'seconds').nullable().default(null),
    /** fixed or adaptive (the hybrid histogram policy). undefined: keep the function's setting; null: the platform default. */
    keepAlivePolicy: z.enum(['fixed', 'adaptive'], { message: 'must be "fixed" or "adaptive"' }).nullable().optional(),
    /** undefined: keep the function's routes as they are; []: remove them. */
    routes: z.array(routeSpecSchema).max(50).optional(),
    /** Model functions only: dynamic batching. undefined: keep the current setting; null: off. */
    batching: batchingSchema.nullable().optional(),
    /** deny: the instance's sandbox has no network (loopback only). undefined: keep the function's setting (new: allow). */
    network: z.enum(['allow', 'deny'], { message: 'must be "allow" or "deny"' }).optional(),
    /** Size of the private /tmp. undefined: keep the function's setting (new: 512 MB). */
    tmpSizeMb: intIn(LIMITS.tmpSizeMb.min, LIMITS.tmpSizeMb.max, 'MB').optional(),
  })
  .strict();

export type DeploySpec = z.infer<typeof deploySpecSchema>;
