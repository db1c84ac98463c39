import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, fixture, instancePids, invoke, mustDeploy, sleep, startPlatform } from '../support/platform.js';

test('scale from zero on the first request and back to zero after the keep-alive', async () => {
  const p = await startPlatform({ args: ['--keep-alive', '1'], env: { MODELFN_REAP_INTERVAL_MS: '100' } });
  try {
    await mustDeploy(p.url, 'echo', fixture('functions', 'echo'));
    assert.deepEqual(await instancePids(p.dataDir), [], 'a deployed function runs no process until called');
    const first = await invoke(p.url, 'echo');
    assert.equal(first.status, 200);
    assert.equal((await instancePids(p.dataDir)).length, 1);
    await eventually(async () => (await instancePids(p.dataDir)).length === 0, 5000, 'scale to zero');
    const view = (await (await fetch(`${p.url}/_modelfn/v1/functions/echo`)).json()) as { instances: { instances: number } };
    assert.equal(view.instances.instances, 0);
    assert.equal((await invoke(p.url, 'echo')).status, 200, 'and back from zero');
  } finally {
    await p.cleanup();
  }
});

test('a burst of 50 requests to a cold function with reserved concurrency 5 never runs more than 5 instances', async () => {
  const p = await startPlatform();
  try {
    await mustDeploy(p.url, 'slow', fixture('functions', 'slow'), { reservedConcurrency: 5, routes: [{ method: 'POST', path: '/slow' }] });
    let maxSeen = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        maxSeen = Math.max(maxSeen, (await instancePids(p.dataDir)).length);
        await sleep(20);
      }
    })();
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => fetch(`${p.url}/slow`, { method: 'POST', body: JSON.stringify({ ms: 200 }) }).then(async (r) => ({ status: r.status, body: (await r.json()) as { pid: number } }))),
    );
    sampling = false;
    await sampler;
    assert.deepEqual([...new Set(responses.map((r) => r.status))], [200], 'all 50 are served from the queue');
    const pids = new Set(responses.map((r) => r.body.pid));
    assert.ok(pids.size <= 5, `${pids.size} instances served the burst`);
    assert.ok(maxSeen <= 5, `${maxSeen} instance processes seen at once`);
  } finally {
    await p.cleanup();
  }
});

test('beyond the concurrency limit and a full queue, calls get 429 TooManyRequestsException', async () => {
  const p = await startPlatform({ env: { MODELFN_MAX_QUEUE_LENGTH: '0' } });
  try {
    await mustDeploy(p.url, 'slow', fixture('functions', 'slow'), { reservedConcurrency: 1, routes: [{ method: 'POST', path: '/slow' }] });
    const running = invoke(p.url, 'slow', { ms: 1000 });
    await sleep(300);
    const throttled = await invoke(p.url, 'slow', { ms: 1 });
    assert.equal(throttled.status, 429);
    assert.equal(throttled.headers.get('x-amzn-errortype'), 'TooManyRequestsException');
    const body = throttled.json() as { Reason: string; Type: string; message: string };
    assert.equal(body.Reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
    assert.equal(body.Type, 'User');
    const route = await fetch(`${p.url}/slow`, { method: 'POST', body: '{"ms":1}' });
    assert.equal(route.status, 429);
    assert.equal(((await route.json()) as { code: string }).code, 'TOO_MANY_REQUESTS');
    assert.equal((await running).status, 200);
    assert.equal((await invoke(p.url, 'slow', { ms: 1 })).status, 200, 'capacity is back once the call is done');
  } finally {
    await p.cleanup();
  }
});

test('the first call after scale-to-zero reports its cold start in the log', async () => {
  const p = await startPlatform();
  try {
    await mustDeploy(p.url, 'echo', fixture('functions', 'echo'));
    const res = await invoke(p.url, 'echo', {}, { 'x-amz-log-type': 'Tail' });
    assert.match(Buffer.from(res.headers.get('x-amz-log-result')!, 'base64').toString(), /Init Duration: \d+\.\d\d ms/);
    const warm = await invoke(p.url, 'echo', {}, { 'x-amz-log-type': 'Tail' });
    assert.doesNotMatch(Buffer.from(warm.headers.get('x-amz-log-result')!, 'base64').toString(), /Init Duration/);
  } finally {
    await p.cleanup();
  }
});
