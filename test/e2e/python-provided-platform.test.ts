import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { cli, deployDir, fixture, invoke, mustDeploy, startPlatform } from '../support/platform.js';
import type { RunningPlatform } from '../support/platform.js';
import { need, requirements } from '../support/requirements.js';

// Python and custom runtimes through the whole platform: the CLI's inference, Lambda's Invoke
// answers for every kind of failure, the invocation log, and a platform that keeps serving.

describe('Python and provided functions on a running platform', () => {
  let p: RunningPlatform;
  before(async () => {
    p = await startPlatform({ env: { MODELFN_INIT_TIMEOUT_MS: '3000' } });
  });
  after(async () => {
    await p.cleanup();
  });

  test('modelfn deploy infers python3.11 and provided.al2023 from the folder', async (t) => {
    if (!need(t, requirements.python3, requirements.curl)) return;
    const py = await cli(p.url, ['deploy', fixture('functions', 'py-basic'), '--name', 'py-basic']);
    assert.equal(py.code, 0, py.stderr);
    assert.match(py.stdout, /deployed py-basic \(python3\.11, lambda_function\.lambda_handler,/);
    const sh = await cli(p.url, ['deploy', fixture('functions', 'provided-sh'), '--name', 'sh']);
    assert.equal(sh.code, 0, sh.stderr);
    assert.match(sh.stdout, /deployed sh \(provided\.al2023, bootstrap,/);
    const res = await invoke(p.url, 'sh', { via: 'platform' });
    assert.equal(res.status, 200, res.body);
    assert.deepEqual((res.json() as { event: unknown }).event, { via: 'platform' });
  });

  test('Invoke: result, context and the Tail log with print, logging and REPORT', async (t) => {
    if (!need(t, requirements.python3)) return;
    await mustDeploy(p.url, 'py-ctx', fixture('functions', 'py-basic'), { runtime: 'python3.12', handler: 'lambda_function.lambda_handler', memoryMb: 256 });
    const res = await invoke(p.url, 'py-ctx', { name: 'tail' }, { 'X-Amz-Log-Type': 'Tail' });
    assert.equal(res.status, 200, res.body);
    const body = res.json() as Record<string, unknown> & { env: Record<string, string> };
    assert.equal(body.function_name, 'py-ctx');
    assert.equal(body.memory_limit_in_mb, '256');
    assert.equal(body.env.AWS_EXECUTION_ENV, 'AWS_Lambda_python3.12');
    const log = Buffer.from(res.headers.get('x-amz-log-result') ?? '', 'base64').toString('utf8');
    assert.match(log, /START RequestId: \S+ Version: \$LATEST/);
    assert.match(log, /hello from print tail/);
    assert.match(log, /\[INFO\]\t\S+\t\S+\thello from logging/);
    assert.match(log, /REPORT RequestId: /);
  });

  test('every failure is a precise Lambda error, and the platform keeps serving', async (t) => {
    if (!need(t, requirements.python3, requirements.curl)) return;
    const cases: Array<{ name: string; dir: string; spec: Record<string, unknown>; event?: unknown; errorType: string; message: RegExp }> = [
      { name: 'import', dir: 'py-errors', spec: { handler: 'nope.handler' }, errorType: 'Runtime.ImportModuleError', message: /^Unable to import module 'nope': No module named 'nope'$/ },
      { name: 'missing', dir: 'py-errors', spec: { handler: 'lambda_function.nothere' }, errorType: 'Runtime.HandlerNotFound', message: /^Handler 'nothere' missing on module 'lambda_function'$/ },
      { name: 'syntax', dir: 'py-errors', spec: { handler: 'bad_syntax.handler' }, errorType: 'Runtime.UserCodeSyntaxError', message: /^Syntax error in module 'bad_syntax'/ },
      { name: 'raises', dir: 'py-errors', spec: { handler: 'lambda_function.raises' }, event: { value: 1 }, errorType: 'ValueError', message: /^bad value: 1$/ },
      { name: 'marshal', dir: 'py-errors', spec: { handler: 'lambda_function.unserialisable' }, errorType: 'Runtime.MarshalError', message: /^Unable to marshal response: Object of type set is not JSON serializable$/ },
      { name: 'exits', dir: 'py-errors', spec: { handler: 'lambda_function.exits' }, errorType: 'Runtime.ExitError', message: /^RequestId: \S+ Error: Runtime exited with error: exit status 3$/ },
      { name: 'timeout', dir: 'py-errors', spec: { handler: 'lambda_function.sleeps', timeoutSec: 1 }, errorType: 'Sandbox.Timedout', message: /^RequestId: \S+ Error: Task timed out after 1\.00 seconds$/ },
      { name: 'sh-exit', dir: 'provided-sh', spec: { runtime: 'provided.al2023', handler: 'x', environment: { MODE: 'exit-init' } }, errorType: 'Runtime.ExitError', message: /^Runtime exited with error: exit status 3$/ },
      { name: 'sh-no-next', dir: 'provided-sh', spec: { runtime: 'provided.al2023', handler: 'x', environment: { MODE: 'no-next' } }, errorType: 'Runtime.InitTimeout', message: /^Init phase did not finish within 3\.00 seconds$/ },
      { name: 'sh-crash', dir: 'provided-sh', spec: { runtime: 'provided.al2023', handler: 'x', environment: { MODE: 'crash' } }, errorType: 'Runtime.ExitError', message: /exit status 7$/ },
      { name: 'sh-big', dir: 'provided-sh', spec: { runtime: 'provided.al2023', handler: 'x', environment: { MODE: 'big' } }, errorType: 'Function.ResponseSizeTooLarge', message: /^Response payload size exceeded maximum allowed payload size \(6291556 bytes\)\.$/ },
    ];
    await Promise.all(cases.map((c) => mustDeploy(p.url, c.name, fixture('functions', c.dir), { runtime: 'python3.11', ...c.spec })));
    await mustDeploy(p.url, 'healthy', fixture('functions', 'py-errors'), { runtime: 'python3.11', handler: 'lambda_function.ok' });
    for (const c of cases) {
      const res = await invoke(p.url, c.name, c.event ?? {});
      assert.equal(res.status, 200, `${c.name}: ${res.body}`);
      assert.equal(res.headers.get('x-amz-function-error'), 'Unhandled', c.name);
      const error = res.json() as { errorType: string; errorMessage: string; stackTrace?: string[] };
      assert.equal(error.errorType, c.errorType, `${c.name}: ${res.body}`);
      assert.match(error.errorMessage, c.message, c.name);
      if (c.name === 'raises') assert.ok(error.stackTrace!.some((l) => l.includes('in compute')), res.body);
      // After each failure, the platform answers the next request as if nothing happened.
      const ok = await invoke(p.url, 'healthy', { after: c.name });
      assert.equal(ok.status, 200, ok.body);
      assert.deepEqual(ok.json(), { ok: true, event: { after: c.name } });
    }
    // A fixed deploy of a broken function serves at once.
    await mustDeploy(p.url, 'import', fixture('functions', 'py-errors'), { runtime: 'python3.11', handler: 'lambda_function.ok' });
    assert.equal((await invoke(p.url, 'import', {})).status, 200);
  });

  test('a Python function behind a route answers API Gateway style', async (t) => {
    if (!need(t, requirements.python3)) return;
    await mustDeploy(p.url, 'routed', fixture('functions', 'py-errors'), { runtime: 'python3.11', handler: 'lambda_function.ok', routes: [{ method: 'POST', path: '/ok' }] });
    const res = await fetch(`${p.url}/ok`, { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { ok: boolean; event: { body: string; routeKey: string } };
    assert.equal(body.ok, true);
    assert.equal(body.event.routeKey, 'POST /ok');
    assert.equal(body.event.body, '{"a":1}');
  });
});

describe('a platform without a Python interpreter', () => {
  test('refuses python3.x deploys with a clear 400 and still serves other runtimes', async () => {
    const p = await startPlatform({ args: ['--python', '/nonexistent/python3'] });
    try {
      const res = await deployDir(p.url, 'py', fixture('functions', 'py-basic'), { runtime: 'python3.11', handler: 'lambda_function.lambda_handler' });
      assert.equal(res.status, 400);
      const body = (await res.json()) as { message: string };
      assert.match(body.message, /runtime python3\.11 needs a Python interpreter and none was found \(looked for "\/nonexistent\/python3"\); start the platform with --python PATH or set MODELFN_PYTHON/);
      await mustDeploy(p.url, 'node', fixture('functions', 'echo'));
      assert.equal((await invoke(p.url, 'node', { a: 1 })).status, 200);
    } finally {
      await p.cleanup();
    }
  });
});
