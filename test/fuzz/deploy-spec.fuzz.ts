import assert from 'node:assert/strict';
import fc from 'fast-check';
import { functionArn, parseFunctionReference } from '../../src/registry/arn.js';
import { FUNCTION_NAME_PATTERN, deploySpecSchema } from '../../src/registry/function-spec.js';
import { ModelfnError } from '../../src/shared/errors.js';
import { parseOrThrow } from '../../src/shared/validation.js';
import type { FuzzOptions } from './harness.js';
import { onlyThrows, runs } from './harness.js';

/**
 * Deploy specs (zod, strict) and function references: any JSON either validates into a spec
 * whose values keep their plain shapes, or fails with one INVALID_PARAMETER naming the field;
 * any string is a function reference (name, optional qualifier) or a 400/404; ARNs round-trip.
 */

const ACCOUNT = { region: 'us-east-1', accountId: '123456789012' };
const isUserError = (codes: string[]) => (e: unknown) => e instanceof ModelfnError && codes.includes(e.code) && e.status < 500;

const VALID = {
  runtime: 'nodejs20.x',
  handler: 'index.handler',
  memoryMb: 256,
  timeoutSec: 10,
  environment: { A: '1' },
  code: { sha256: 'a'.repeat(64) },
  routes: [{ method: 'POST', path: '/x/{id}', payloadFormat: '2.0' }],
  batching: { maxBatchSize: 8, maxDelayMs: 2 },
  reservedConcurrency: 5,
  keepAliveSec: 0,
};
const KEYS = [...Object.keys(VALID), 'description', 'role', 'constructor', '__proto__', 'toString', 'extra'];
const hostile = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(1e308, -0, 2 ** 53 + 1, '', 'x'.repeat(5000), { __proto__: { admin: true } }, JSON.parse('{"__proto__": {"polluted": 1}}') as unknown));

/** Valid specs with one field replaced, removed or added. */
const spec = fc.oneof(
  fc.tuple(fc.constantFrom(...KEYS), hostile, fc.constantFrom('set', 'delete')).map(([k, v, how]) => {
    const s: Record<string, unknown> = JSON.parse(JSON.stringify(VALID)) as Record<string, unknown>;
    if (how === 'delete') delete s[k];
    else Object.defineProperty(s, k, { value: v, enumerable: true, writable: true, configurable: true });
    return s;
  }),
  fc.dictionary(fc.constantFrom(...KEYS), hostile),
  fc.record({ environment: fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'PATH', 'AWS_REGION')), fc.oneof(fc.string({ maxLength: 8 }), hostile)) }).map((e) => ({ ...VALID, ...e })),
  hostile,
);

const reference = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.tuple(fc.constantFrom('f', 'my-fn_1', 'a'.repeat(64), 'a'.repeat(65), '', 'x:y:z'), fc.option(fc.constantFrom('$LATEST', '1', 'live', '', 'a'.repeat(129), '1:2'), { nil: undefined }), fc.constantFrom('', 'arn:aws:lambda:us-east-1:123456789012:function:', '123456789012:function:', 'arn:aws-cn:lambda:us-east-1:123456789012:function:', 'arn:aws:lambda:eu-west-1:123456789012:function:', 'arn:aws:lambda:us-east-1:000000000000:function:')).map(
    ([name, q, prefix]) => `${prefix}${name}${q === undefined ? '' : `:${q}`}`,
  ),
);

export async function fuzzDeploySpec(options: FuzzOptions): Promise<void> {
  fc.assert(
    fc.property(spec, (body) => {
      const parsed = onlyThrows(() => parseOrThrow(deploySpecSchema, body, 'function configuration'), isUserError(['INVALID_PARAMETER']), 'deploy spec');
      if (!parsed) return;
      // Validated values are plain data: no inherited or polluted prototype sneaks through.
      assert.equal(Object.getPrototypeOf(parsed.environment), Object.prototype);
      for (const [k, v] of Object.entries(parsed.environment)) {
        assert.equal(typeof v, 'string', `environment.${k}`);
        assert.ok(/^[A-Za-z][A-Za-z0-9_]*$/.test(k));
      }
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    }),
    runs(options),
  );
  fc.assert(
    fc.property(reference, (ref) => {
      const r = onlyThrows(() => parseFunctionReference(ref, ACCOUNT), isUserError(['INVALID_PARAMETER', 'FUNCTION_NOT_FOUND']), 'parseFunctionReference');
      if (!r) return;
      assert.ok(FUNCTION_NAME_PATTERN.test(r.name));
      const again = parseFunctionReference(functionArn(ACCOUNT, r.name, r.qualifier), ACCOUNT);
      assert.deepEqual(again, r, 'the ARN of a parsed reference parses back to it');
    }),
    runs(options),
  );
}
