import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { headerList } from '../../../src/server/http/respond.js';

test('headerList: the platform\'s own headers replace a function\'s of the same name; arrays and order kept', () => {
  const fn = dictionaryOf({ 'content-type': 'text/plain', 'x-amzn-requestid': 'forged', 'set-cookie': ['a=1', 'b=2'], skipped: undefined, constructor: 'data' });
  assert.deepEqual(headerList(fn, ['content-length', '5', 'x-amzn-requestid', 'r-1']), [
    'content-type', 'text/plain', 'set-cookie', ['a=1', 'b=2'], 'constructor', 'data', 'content-length', '5', 'x-amzn-requestid', 'r-1',
  ]);
  assert.deepEqual(headerList({}, []), []);
});

test('headerList: Node writes the list as the object form would, repeated cookies included', async () => {
  const server = createServer((_req, res) => {
    res.writeHead(201, headerList({ 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'], 'x-amzn-requestid': 'forged' }, ['content-length', '2', 'x-amzn-requestid', 'r-1']));
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('x-amzn-requestid'), 'r-1');
    assert.deepEqual(response.headers.getSetCookie(), ['a=1', 'b=2']);
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.equal(await response.text(), '{}');
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

function dictionaryOf<T>(entries: Record<string, T>): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, entries);
}
