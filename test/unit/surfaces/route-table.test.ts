import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RouteTable, toRouterPattern } from '../../../src/surfaces/routes/route-table.js';
import type { RouteSpec } from '../../../src/registry/types.js';

const r = (method: string, path: string, functionName = path): { functionName: string; route: RouteSpec } => ({ functionName, route: { method, path, payloadFormat: '2.0' } });

test('static segments beat parameters, which beat greedy parameters', () => {
  const table = RouteTable.fromRoutes([r('GET', '/items/{id}', 'byId'), r('GET', '/items/special', 'special'), r('GET', '/items/{proxy+}', 'rest')]);
  const m1 = table.match('GET', '/items/special');
  assert.equal(m1.kind === 'found' && m1.binding.functionName, 'special');
  const m2 = table.match('GET', '/items/42');
  assert.ok(m2.kind === 'found');
  assert.equal(m2.binding.functionName, 'byId');
  assert.deepEqual({ ...m2.pathParameters }, { id: '42' });
  const m3 = table.match('GET', '/items/a/b/c');
  assert.ok(m3.kind === 'found');
  assert.equal(m3.binding.functionName, 'rest');
  assert.deepEqual({ ...m3.pathParameters }, { proxy: 'a/b/c' });
});

test('a method route beats ANY; $default catches the rest', () => {
  const table = RouteTable.fromRoutes([r('POST', '/x', 'post'), r('ANY', '/x', 'any'), { functionName: 'dflt', route: { method: 'ANY', path: '$default', payloadFormat: '2.0' } }]);
  const post = table.match('POST', '/x');
  assert.equal(post.kind === 'found' && post.binding.functionName, 'post');
  const get = table.match('GET', '/x');
  assert.equal(get.kind === 'found' && get.binding.functionName, 'any');
  const other = table.match('GET', '/nowhere');
  assert.ok(other.kind === 'found');
  assert.equal(other.binding.functionName, 'dflt');
  assert.equal(other.binding.routeKey, '$default');
});

test('a path that exists for another method is 405 with the allowed methods; unknown paths 404', () => {
  const table = RouteTable.fromRoutes([r('POST', '/hello'), r('PUT', '/hello')]);
  assert.deepEqual(table.match('GET', '/hello'), { kind: 'method-not-allowed', allowed: ['POST', 'PUT'] });
  assert.deepEqual(table.match('GET', '/nope'), { kind: 'not-found' });
  assert.deepEqual(table.match('BREW', '/hello'), { kind: 'method-not-allowed', allowed: ['POST', 'PUT'] });
});

test('parameters never match empty segments; percent-encoded values are decoded; bad encodings match nothing', () => {
  const table = RouteTable.fromRoutes([r('GET', '/u/{name}')]);
  assert.deepEqual(table.match('GET', '/u/'), { kind: 'not-found' });
  const m = table.match('GET', '/u/J%C3%BCrgen');
  assert.ok(m.kind === 'found');
  assert.deepEqual({ ...m.pathParameters }, { name: 'Jürgen' });
  assert.equal(table.match('GET', '/u/%zz').kind, 'not-found');
});

test('literal colons survive the router syntax', () => {
  assert.equal(toRouterPattern('/v1/models/iris:predict'), '/v1/models/iris::predict');
  const table = RouteTable.fromRoutes([r('POST', '/m/iris:predict', 'colon')]);
  const m = table.match('POST', '/m/iris:predict');
  assert.equal(m.kind === 'found' && m.binding.functionName, 'colon');
});
