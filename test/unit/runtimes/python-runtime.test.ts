import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InitFailure, InstanceDied } from '../../../src/runtimes/runtime.js';
import type { LambdaError } from '../../../src/runtimes/runtime.js';
import { PythonRuntime } from '../../../src/runtimes/python/python-runtime.js';
import { fixture } from '../../support/platform.js';
import { PYTHON3, requirements } from '../../support/requirements.js';
import { RuntimeHarness, errorOf, okJson } from './runtime-harness.js';

// The Python bootstrap through real instances, both ways an instance can start: forked from the
// zygote and as a fresh interpreter. Both must behave the same, to the byte of every error.

const hasPython = requirements.python3.available();
const ERRORS = fixture('functions', 'py-errors');

async function initError(harness: RuntimeHarness, fixtureName: string, handler: string): Promise<LambdaError> {
  try {
    await harness.start(fixtureName, { handler });
  } catch (err) {
    if (err instanceof InitFailure) return err.error;
    throw err;
  }
  throw new Error(`${handler} started`);
}

for (const mode of ['forked', 'fresh'] as const) {
  describe(`Python runtime (${mode})`, { skip: hasPython ? false : `needs ${PYTHON3}` }, () => {
    let harness: RuntimeHarness;
    let runtime: PythonRuntime;
    let zygotePid: number | undefined;

    before(async () => {
      harness = await RuntimeHarness.create((root) => (runtime = new PythonRuntime({ python: PYTHON3, zygote: mode === 'forked', preload: ['json', 'decimal'], workDir: join(root, 'zygote') })));
      if (mode === 'forked') zygotePid = (await runtime.zygote()!.start()).pid;
    });
    after(async () => {
      await harness.close();
      await runtime.close();
      assert.deepEqual(await harness.processes(), [], 'no instance or zygote process survives');
    });

    test('handler(event, context): the context, the environment, print and logging', async () => {
      const instance = await harness.start('py-basic');
      const requestId = '11111111-2222-3333-4444-555555555555';
      const result = okJson(
        await instance.invoke({
          requestId,
          payload: Buffer.from('{"name":"ada"}'),
          deadlineMs: Date.now() + 3000,
          invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fn:live',
        }),
      ) as Record<string, unknown> & { env: Record<string, string> };
      assert.deepEqual(result.event, { name: 'ada' });
      assert.equal(result.aws_request_id, requestId);
      assert.equal(result.function_name, 'fn');
      assert.equal(result.function_version, '$LATEST');
      assert.equal(result.invoked_function_arn, 'arn:aws:lambda:us-east-1:000000000000:function:fn:live');
      assert.equal(result.memory_limit_in_mb, '256');
      assert.ok((result.remaining_ms as number) > 2000 && (result.remaining_ms as number) <= 3000, `remaining ${result.remaining_ms}`);
      assert.equal(result.log_group_name, '/aws/lambda/fn');
      assert.match(result.log_stream_name as string, /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{16}$/);
      assert.equal(result.cwd, fixture('functions', 'py-basic'));
      assert.equal(result.sys_path0, fixture('functions', 'py-basic'));
      assert.match(result.env.AWS_LAMBDA_RUNTIME_API!, /^127\.0\.0\.1:\d+$/);
      assert.equal(result.env._HANDLER, 'lambda_function.lambda_handler');
      assert.equal(result.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, '256');
      assert.equal(result.env.AWS_REGION, 'us-east-1');
      assert.equal(result.env.LAMBDA_TASK_ROOT, fixture('functions', 'py-basic'));
      assert.equal(result.env.MODELFN_TEST, undefined, 'the platform environment does not leak');
      if (mode === 'forked') assert.equal(result.ppid, zygotePid, 'forked from the zygote');
      else assert.equal(result.ppid, process.pid, 'a fresh interpreter is the platform child');
      // Nothing of the platform's environment is in the process's own environ block either.
      const environ = await readFile(`/proc/${result.pid as number}/environ`, 'utf8');
      assert.ok(!environ.includes('MODELFN_TEST'), 'environ block is clean');

      const lines = harness.logs.map((l) => `${l.stream}:${l.text}`);
      assert.ok(lines.includes('stdout:init of py-basic'), lines.join('\n'));
      assert.ok(lines.includes('stdout:hello from print ada'), lines.join('\n'));
      assert.ok(lines.includes('stderr:to stderr'), lines.join('\n'));
      assert.ok(
        lines.some((l) => new RegExp(`^stdout:\\[INFO\\]\\t\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\\t${requestId}\\thello from logging$`).test(l)),
        lines.join('\n'),
      );
    });

    test('the bundle and its vendored packages are importable', async () => {
      const instance = await harness.start('py-vendored');
      assert.deepEqual(okJson(await harness.invoke(instance, {})), { vendor: 'tinylib from vendor/', layer: 'layerlib from python/' });
    });

    test('init errors are reported as Lambda reports them', async () => {
      assert.deepEqual(await initError(harness, 'py-errors', 'nope.handler'), {
        errorType: 'Runtime.ImportModuleError',
        errorMessage: "Unable to import module 'nope': No module named 'nope'",
        stackTrace: [],
      });
      assert.deepEqual(await initError(harness, 'py-errors', 'imports_boto3.handler'), {
        errorType: 'Runtime.ImportModuleError',
        errorMessage: "Unable to import module 'imports_boto3': No module named 'boto3'",
        stackTrace: [],
      });
      assert.deepEqual(await initError(harness, 'py-errors', 'lambda_function.missing'), {
        errorType: 'Runtime.HandlerNotFound',
        errorMessage: "Handler 'missing' missing on module 'lambda_function'",
        stackTrace: [],
      });
      assert.deepEqual(await initError(harness, 'py-errors', 'bad_syntax.handler'), {
        errorType: 'Runtime.UserCodeSyntaxError',
        errorMessage: "Syntax error in module 'bad_syntax': expected ':' (bad_syntax.py, line 1)",
        stackTrace: [`  File "${ERRORS}/bad_syntax.py" Line 1\n    def handler(event, context)\n`],
      });
      assert.deepEqual(await initError(harness, 'py-errors', 'nodot'), {
        errorType: 'Runtime.MalformedHandlerName',
        errorMessage: "Bad handler 'nodot': not enough values to unpack (expected 2, got 1)",
        stackTrace: [],
      });
      assert.equal((await initError(harness, 'py-errors', 'sys.handler')).errorType, 'Runtime.BuiltInModuleConflict');
      const raised = await initError(harness, 'py-errors', 'init_raises.handler');
      assert.equal(raised.errorType, 'FileNotFoundError');
      assert.equal(raised.errorMessage, `[Errno 2] No such file or directory: '${ERRORS}/missing-model.joblib'`);
      assert.ok(raised.stackTrace!.some((line) => line.includes(`${ERRORS}/init_raises.py", line 3, in <module>`)), raised.stackTrace!.join(''));
      assert.ok(!raised.stackTrace!.some((line) => line.includes('modelfn_runtime.py')), 'runtime frames are cut');
      assert.ok(harness.text().includes("[ERROR] Runtime.ImportModuleError: Unable to import module 'nope': No module named 'nope'"), harness.text());
    });

    test('function errors: exceptions with their traceback, marshal errors; the instance keeps serving', async () => {
      const raises = await harness.start('py-errors', { handler: 'lambda_function.raises' });
      for (const value of [7, 8]) {
        const error = errorOf(await harness.invoke(raises, { value }));
        assert.equal(error.errorType, 'ValueError');
        assert.equal(error.errorMessage, `bad value: ${value}`);
        assert.equal(error.stackTrace!.length, 2);
        assert.match(error.stackTrace![0]!, /^ {2}File ".*\/py-errors\/lambda_function\.py", line \d+, in raises\n {4}return compute\(event\)\n/);
        assert.match(error.stackTrace![1]!, /in compute\n {4}raise ValueError/);
      }
      assert.ok(raises.alive);
      assert.match(harness.text(), /\[ERROR\] ValueError: bad value: 8\nTraceback \(most recent call last\):/);

      const marshal = await harness.start('py-errors', { handler: 'lambda_function.unserialisable' });
      assert.deepEqual(errorOf(await harness.invoke(marshal, {})), {
        errorType: 'Runtime.MarshalError',
        errorMessage: 'Unable to marshal response: Object of type set is not JSON serializable',
        stackTrace: [],
      });
      const custom = await harness.start('py-errors', { handler: 'lambda_function.custom_error' });
      const customError = errorOf(await harness.invoke(custom, {}));
      assert.equal(customError.errorType, 'ModelNotReady');
      assert.equal(customError.errorMessage, 'the model is still loading');

      const bytes = await harness.start('py-errors', { handler: 'lambda_function.returns_bytes' });
      const raw = await harness.invoke(bytes, {});
      assert.ok(raw.ok && raw.payload.toString() === 'raw bytes');
    });

    test('a handler that exits ends the instance: the invocation fails with InstanceDied', async () => {
      const exits = await harness.start('py-errors', { handler: 'lambda_function.exits' });
      await assert.rejects(harness.invoke(exits, {}), (err: unknown) => err instanceof InstanceDied && err.exit.code === 3);
      assert.equal(exits.alive, false);
      assert.deepEqual(await exits.exited, { code: 3, signal: null });
    });

    test('kill stops the instance and its process group', async () => {
      const sleeper = await harness.start('py-errors', { handler: 'lambda_function.sleeps' });
      const pending = harness.invoke(sleeper, { seconds: 30 });
      await new Promise((resolve) => setTimeout(resolve, 100));
      sleeper.kill();
      await assert.rejects(pending, InstanceDied);
      assert.deepEqual(await sleeper.exited, { code: null, signal: 'SIGKILL' });
    });
  });
}
