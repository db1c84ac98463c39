import { test } from 'node:test';
import assert from 'node:assert/strict';
import { invokeHead } from '../../../src/runtimes/nodejs/nodejs-runtime.js';

test('the invoke head written out parses to what JSON.stringify of the head object gives, hostile text included', () => {
  const texts = ['', 'plain', 'a "quoted" \\ value', 'ctl\u0000\u001f', 'é 中文 🙂', 'lone \ud800', 'x'.repeat(200)];
  for (const t of texts) {
    for (const optional of [false, true]) {
      const request = {
        requestId: `id-${t}`,
        payload: Buffer.alloc(0),
        deadlineMs: 1_764_000_000_123,
        invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${t}`,
        ...(optional ? { timeoutMs: 3000, clientContext: t, cognitoIdentity: `{"id":${JSON.stringify(t)}}`, traceId: `Root=${t}` } : {}),
      };
      const expected = JSON.stringify({
        id: request.requestId,
        deadline: request.deadlineMs,
        timeout: request.timeoutMs,
        arn: request.invokedFunctionArn,
        clientContext: request.clientContext,
        identity: request.cognitoIdentity,
        trace: request.traceId,
      });
      assert.deepEqual(JSON.parse(invokeHead(request)), JSON.parse(expected));
    }
  }
});
