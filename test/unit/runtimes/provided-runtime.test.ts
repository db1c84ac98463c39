import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ProvidedRuntime } from '../../../src/runtimes/provided/provided-runtime.js';
import { InitFailure, InstanceDied } from '../../../src/runtimes/runtime.js';
import type { LambdaError } from '../../../src/runtimes/runtime.js';
import { fixture } from '../../support/platform.js';
import { requirements } from '../../support/requirements.js';
import { RuntimeHarness, errorOf, okJson } from './runtime-harness.js';

// Custom runtimes: a bootstrap in shell + curl, and one in Perl, speaking the Lambda Runtime API.

const SH = { runtime: 'provided.al2023', handler: 'function.handler' } as const;
const hasCurl = requirements.curl.available();

function mode(name: string) {
  return { ...SH, environment: { MODE: name } };
}

async function initError(harness: RuntimeHarness, fixtureName: string, overrides: object, initTimeoutMs?: number): Promise<LambdaError> {
  try {
    await harness.start(fixtureName, overrides, initTimeoutMs);
  } catch (err) {
    if (err instanceof InitFailure) return err.error;
    throw err;
  }
  throw new Error('the instance started');
}

describe('provided runtime', { skip: hasCurl ? false : 'needs curl' }, () => {
  let harness: RuntimeHarness;
  let scratch: string;
  before(async () => {
    harness = await RuntimeHarness.create(new ProvidedRuntime());
    scratch = await mkdtemp(join(tmpdir(), 'modelfn-provided-'));
  });
  after(async () => {
    await harness.close();
    await rm(scratch, { recursive: true, force: true });
    assert.deepEqual(await harness.processes(), [], 'no process of an instance survives');
  });

  test('a shell + curl bootstrap gets each event with its headers and answers it', async () => {
    const instance = await harness.start('provided-sh', SH);
    for (const n of [1, 2]) {
      const requestId = `00000000-0000-0000-0000-00000000000${n}`;
      const deadlineMs = Date.now() + 3000;
      const result = okJson(
        await instance.invoke({
          requestId,
          payload: Buffer.from(JSON.stringify({ n })),
          deadlineMs,
          invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fn',
          traceId: 'Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1',
        }),
      ) as Record<string, unknown>;
      assert.deepEqual(result.event, { n });
      assert.equal(result.requestId, requestId);
      assert.equal(result.deadlineMs, deadlineMs, 'the deadline header is the epoch ms deadline');
      assert.equal(result.arn, 'arn:aws:lambda:us-east-1:000000000000:function:fn');
      assert.equal(result.trace, 'Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1');
      assert.equal(result.handler, 'function.handler');
      assert.match(result.runtimeApi as string, /^127\.0\.0\.1:\d+$/);
      assert.equal(result.functionName, 'fn');
      assert.equal(result.version, '$LATEST');
      assert.equal(result.memory, '256');
      assert.equal(result.region, 'us-east-1');
      assert.equal(result.taskRoot, fixture('functions', 'provided-sh'));
      assert.equal(result.cwd, fixture('functions', 'provided-sh'));
      assert.equal(result.pid, instance.pid);
      assert.ok(harness.text().includes(`shell bootstrap handling ${requestId}`));
    }
  });

  test('a Perl bootstrap: results and errors', async () => {
    const instance = await harness.start('provided-perl', SH);
    const result = okJson(await harness.invoke(instance, { x: 1 })) as Record<string, unknown>;
    assert.equal(result.language, 'perl');
    assert.deepEqual(result.event, { x: 1 });
    assert.ok(Math.abs((result.deadlineMs as number) - (Date.now() + 3000)) < 2000);
    const error = errorOf(await harness.invoke(instance, { action: 'fail' }));
    assert.equal(error.errorType, 'Perl.Failure');
    assert.equal(error.errorMessage, 'perl says no');
    assert.match(error.stackTrace![0]!, /^bootstrap line \d+$/);
    assert.equal((okJson(await harness.invoke(instance, { x: 2 })) as { language: string }).language, 'perl');
  });

  test('invocation errors: Lambda format, and a body that is not JSON', async () => {
    const failing = await harness.start('provided-sh', mode('error'));
    assert.deepEqual(errorOf(await harness.invoke(failing, {})), { errorType: 'Shell.Failure', errorMessage: 'shell says no', stackTrace: ['bootstrap: line 41'] });
    const text = await harness.start('provided-sh', mode('text-error'));
    assert.deepEqual(errorOf(await harness.invoke(text, {})), { errorType: 'Custom.Text', errorMessage: 'plain text, not JSON', stackTrace: [] });
  });

  test('a second answer to the same request is refused (403); the instance keeps serving', async () => {
    const instance = await harness.start('provided-sh', mode('twice'));
    const first = okJson(await harness.invoke(instance, { n: 1 })) as { event: unknown; notes: string };
    assert.deepEqual(first.event, { n: 1 });
    const second = okJson(await harness.invoke(instance, { n: 2 })) as { event: unknown; notes: string };
    assert.deepEqual(second.event, { n: 2 }, 'the late duplicate did not answer the next request');
    assert.equal(second.notes, 'second=403');
  });

  test('an answer for a request the instance does not hold is refused (400)', async () => {
    const instance = await harness.start('provided-sh', mode('wrong-id'));
    assert.deepEqual(okJson(await harness.invoke(instance, {})), { notes: 'wrong=400' });
  });

  test('a response over 6 MB: the caller gets Function.ResponseSizeTooLarge, the runtime a 413', async () => {
    const instance = await harness.start('provided-sh', mode('big'));
    assert.deepEqual(errorOf(await harness.invoke(instance, {})), {
      errorType: 'Function.ResponseSizeTooLarge',
      errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
    });
    const after413 = okJson(await harness.invoke(instance, {})) as { notes: string };
    assert.match(after413.notes, /^big=413 \{errorType:RequestEntityTooLarge,errorMessage:Exceeded maximum allowed payload size \(6291556 bytes\)\.\}$/);
  });

  test('init failures: exit, exit 0, init/error, never calling next', async () => {
    assert.deepEqual(await initError(harness, 'provided-sh', mode('exit-init')), { errorType: 'Runtime.ExitError', errorMessage: 'Runtime exited with error: exit status 3' });
    assert.deepEqual(await initError(harness, 'provided-sh', mode('exit-zero-init')), { errorType: 'Runtime.ExitError', errorMessage: 'Runtime exited without providing a reason' });
    assert.deepEqual(await initError(harness, 'provided-sh', mode('init-error')), {
      errorType: 'Custom.InitFailed',
      errorMessage: 'cannot start: no config',
      stackTrace: ['bootstrap: line 20'],
    });
    const started = Date.now();
    assert.deepEqual(await initError(harness, 'provided-sh', mode('no-next'), 600), {
      errorType: 'Runtime.InitTimeout',
      errorMessage: 'Init phase did not finish within 0.60 seconds',
    });
    assert.ok(Date.now() - started < 5000);
    assert.ok(harness.text().includes('bootstrap never calls next'));
  });

  test('a missing or non-executable bootstrap is Runtime.InvalidEntrypoint', async () => {
    const empty = join(scratch, 'empty');
    await writeFile(join(scratch, 'placeholder'), '');
    assert.deepEqual(await initError(harness, empty, SH), { errorType: 'Runtime.InvalidEntrypoint', errorMessage: `Couldn't find valid bootstrap(s): [${empty}/bootstrap]` });
    const notExecutable = join(scratch, 'bootstrap');
    await writeFile(notExecutable, '#!/bin/sh\necho never\n');
    await chmod(notExecutable, 0o644);
    assert.deepEqual(await initError(harness, scratch, SH), { errorType: 'Runtime.InvalidEntrypoint', errorMessage: `fork/exec ${notExecutable}: permission denied` });
  });

  test('a bootstrap that exits mid-invocation or after answering', async () => {
    const crash = await harness.start('provided-sh', mode('crash'));
    await assert.rejects(harness.invoke(crash, {}), (err: unknown) => err instanceof InstanceDied && err.exit.code === 7);
    assert.equal(crash.alive, false);
    const once = await harness.start('provided-sh', mode('exit-after'));
    assert.ok(okJson(await harness.invoke(once, {})));
    assert.deepEqual(await once.exited, { code: 0, signal: null });
    assert.equal(once.alive, false);
  });

  test('kill stops the bootstrap and everything it started', async () => {
    const stall = await harness.start('provided-sh', mode('stall'));
    const pending = harness.invoke(stall, {});
    await new Promise((resolve) => setTimeout(resolve, 200));
    stall.kill();
    await assert.rejects(pending, InstanceDied);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const left = await harness.processes();
    assert.ok(!left.includes(stall.pid!), `left: ${left.join(', ')}`);
  });
});
