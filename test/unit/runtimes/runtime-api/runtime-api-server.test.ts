import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { InitFailure } from '../../../../src/runtimes/runtime.js';
import type { InvokeRequest, InvokeResponse } from '../../../../src/runtimes/runtime.js';
import { RuntimeApiEndpoint } from '../../../../src/runtimes/runtime-api/runtime-api-instance.js';
import { MAX_RESPONSE_BYTES } from '../../../../src/runtimes/runtime-api/runtime-api-server.js';
import { need, requirements } from '../../../support/requirements.js';

// The platform side of the Runtime API, exercised over real loopback HTTP. The test process plays
// the instance: it is the endpoint's owner, so the peer check lets its own connections in.

async function open(maxBodyBytes?: number): Promise<{ endpoint: RuntimeApiEndpoint; base: string }> {
  const endpoint = await RuntimeApiEndpoint.open({ onLog: () => undefined, maxBodyBytes });
  endpoint.server.setOwner(process.pid);
  return { endpoint, base: `http://${endpoint.address}/2018-06-01/runtime` };
}

function request(id: string, payload: unknown = { n: 1 }): InvokeRequest {
  return {
    requestId: id,
    payload: Buffer.from(JSON.stringify(payload)),
    deadlineMs: Date.now() + 3000,
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f',
    traceId: 'Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1',
    clientContext: '{"custom":{"a":1}}',
    cognitoIdentity: '{"cognitoIdentityId":"id-1"}',
  };
}

async function post(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', body, headers });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('Runtime API server', () => {
  let endpoint: RuntimeApiEndpoint;
  let base: string;
  before(async () => ({ endpoint, base } = await open()));
  after(() => endpoint.close());

  test('listens on loopback only, with an ephemeral port', () => {
    assert.match(endpoint.address, /^127\.0\.0\.1:\d+$/);
    assert.notEqual(endpoint.server.port, 0);
  });

  test('next long-polls until an invocation arrives, with every documented header', async () => {
    let answered = false;
    const next = fetch(`${base}/invocation/next`).then((res) => {
      answered = true;
      return res;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await endpoint.session.ready;
    assert.equal(answered, false, 'next must wait for an invocation');
    const req = request('req-1', { hello: 'world' });
    const result = endpoint.session.dispatch(req);
    const res = await next;
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('lambda-runtime-aws-request-id'), 'req-1');
    assert.equal(res.headers.get('lambda-runtime-deadline-ms'), String(req.deadlineMs));
    assert.equal(res.headers.get('lambda-runtime-invoked-function-arn'), req.invokedFunctionArn);
    assert.equal(res.headers.get('lambda-runtime-trace-id'), req.traceId);
    assert.equal(res.headers.get('lambda-runtime-client-context'), req.clientContext);
    assert.equal(res.headers.get('lambda-runtime-cognito-identity'), req.cognitoIdentity);
    assert.deepEqual(await res.json(), { hello: 'world' });

    const ok = await post(`${base}/invocation/req-1/response`, '{"answer":42}');
    assert.equal(ok.status, 202);
    assert.deepEqual(ok.json, { status: 'OK' });
    const response = (await result) as Extract<InvokeResponse, { ok: true }>;
    assert.equal(response.ok, true);
    assert.equal(response.payload.toString(), '{"answer":42}');
  });

  test('one request id is answered once; ids the instance does not hold are refused', async () => {
    const second = await post(`${base}/invocation/req-1/response`, '{"again":true}');
    assert.equal(second.status, 403);
    assert.equal(second.json.errorType, 'InvalidStateTransition');
    const asError = await post(`${base}/invocation/req-1/error`, '{"errorMessage":"late","errorType":"X"}');
    assert.equal(asError.status, 403);
    const unknown = await post(`${base}/invocation/never-issued/response`, '{}');
    assert.equal(unknown.status, 400);
    assert.deepEqual(unknown.json, { errorType: 'InvalidRequestID', errorMessage: 'Invalid request ID' });
  });

  test('an invocation waits for a later next, and an error body is reported in Lambda format', async () => {
    const result = endpoint.session.dispatch(request('req-2'));
    const res = await fetch(`${base}/invocation/next`);
    assert.equal(res.headers.get('lambda-runtime-aws-request-id'), 'req-2');
    await res.arrayBuffer();
    const wrong = await post(`${base}/invocation/req-3/error`, '{}');
    assert.equal(wrong.status, 400, 'an id not yet issued is refused');
    const err = await post(`${base}/invocation/req-2/error`, JSON.stringify({ errorMessage: 'boom', errorType: 'ValueError', stackTrace: ['  File "x.py", line 1'] }), {
      'Lambda-Runtime-Function-Error-Type': 'Unhandled',
    });
    assert.equal(err.status, 202);
    assert.deepEqual(await result, { ok: false, error: { errorMessage: 'boom', errorType: 'ValueError', stackTrace: ['  File "x.py", line 1'] } });
  });

  test('a malformed error body still gives a precise error (header type, body as message)', async () => {
    const result = endpoint.session.dispatch(request('req-4'));
    await (await fetch(`${base}/invocation/next`)).arrayBuffer();
    const err = await post(`${base}/invocation/req-4/error`, 'this is not json', { 'Lambda-Runtime-Function-Error-Type': 'Custom.Text' });
    assert.equal(err.status, 202);
    assert.deepEqual(await result, { ok: false, error: { errorType: 'Custom.Text', errorMessage: 'this is not json', stackTrace: [] } });
  });

  test('init/error after the init phase is refused', async () => {
    const res = await post(`${base}/init/error`, '{"errorMessage":"x","errorType":"Y"}');
    assert.equal(res.status, 403);
    assert.equal(res.json.errorType, 'InvalidStateTransition');
  });

  test('unknown paths are 404, wrong methods 405', async () => {
    assert.equal((await fetch(`${base}/invocation/nope`)).status, 404);
    assert.equal((await fetch(`http://${endpoint.address}/2015-03-31/functions/f/invocations`, { method: 'POST' })).status, 404);
    assert.equal((await fetch(`${base}/invocation/next`, { method: 'POST' })).status, 405);
    assert.equal((await fetch(`${base}/invocation/req-1/response`)).status, 405);
  });

  test('a second concurrent next is refused', async () => {
    const first = fetch(`${base}/invocation/next`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await fetch(`${base}/invocation/next`);
    assert.equal(second.status, 403);
    const result = endpoint.session.dispatch(request('req-5'));
    await (await first).arrayBuffer();
    await post(`${base}/invocation/req-5/response`, '"done"');
    assert.equal(((await result) as Extract<InvokeResponse, { ok: true }>).payload.toString(), '"done"');
  });
});

describe('Runtime API init and limits', () => {
  test('init/error during init fails the start with the reported error', async () => {
    const { endpoint, base } = await open();
    try {
      const res = await post(`${base}/init/error`, JSON.stringify({ errorMessage: 'no model', errorType: 'Custom.Init', stackTrace: [] }), {
        'Lambda-Runtime-Function-Error-Type': 'Custom.Init',
      });
      assert.equal(res.status, 202);
      await assert.rejects(endpoint.session.ready, (err: unknown) => {
        assert.ok(err instanceof InitFailure);
        assert.deepEqual(err.error, { errorMessage: 'no model', errorType: 'Custom.Init', stackTrace: [] });
        return true;
      });
    } finally {
      endpoint.close();
    }
  });

  test('a response over 6 MB is refused with 413 and the caller gets Function.ResponseSizeTooLarge', async () => {
    const { endpoint, base } = await open();
    try {
      const result = endpoint.session.dispatch(request('big-1'));
      await (await fetch(`${base}/invocation/next`)).arrayBuffer();
      const body = Buffer.alloc(MAX_RESPONSE_BYTES + 1, 0x61);
      const res = await post(`${base}/invocation/big-1/response`, body);
      assert.equal(res.status, 413);
      assert.equal(res.json.errorType, 'RequestEntityTooLarge');
      assert.deepEqual(await result, {
        ok: false,
        error: { errorType: 'Function.ResponseSizeTooLarge', errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).' },
      });
      // Exactly the limit is fine, and the instance keeps serving.
      const next = endpoint.session.dispatch(request('big-2'));
      await (await fetch(`${base}/invocation/next`)).arrayBuffer();
      assert.equal((await post(`${base}/invocation/big-2/response`, Buffer.alloc(MAX_RESPONSE_BYTES, 0x61))).status, 202);
      assert.equal(((await next) as Extract<InvokeResponse, { ok: true }>).payload.length, MAX_RESPONSE_BYTES);
    } finally {
      endpoint.close();
    }
  });

  test('an instance that dies fails the waiting start and invocation', async () => {
    const { endpoint } = await open();
    const ready = endpoint.session.ready;
    endpoint.session.close(new Error('init died'), new Error('invoke died'));
    await assert.rejects(ready, /init died/);
    endpoint.close();
  });
});

describe('Runtime API peer check', () => {
  test('a process outside the instance is refused (403) and cannot take its events', async (t) => {
    if (!need(t, requirements.curl)) return;
    const { endpoint, base } = await open();
    try {
      // A detached curl runs in its own session: it is neither the owner nor in the owner's session.
      const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
        const curl = spawn('curl', ['-sS', '-w', '\n%{http_code}', `${base}/invocation/next`], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
        let text = '';
        curl.stdout.on('data', (c: Buffer) => (text += c.toString()));
        curl.once('exit', (exitCode) => resolve({ code: exitCode, out: text }));
      });
      assert.equal(code, 0);
      assert.match(out, /AccessDenied/);
      assert.match(out, /\n403$/);
      // The refused poll did not count as the instance's first next.
      let ready = false;
      void endpoint.session.ready.then(() => (ready = true), () => undefined);
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(ready, false);
    } finally {
      endpoint.close();
    }
  });
});
