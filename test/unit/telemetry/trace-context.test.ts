import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAmznTraceId, parseAmznTraceId, parseTraceparent, rootFromTraceId, traceFromHeaders, traceIdFromRoot } from '../../../src/telemetry/trace/trace-context.js';

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

test('traceparent: valid headers parse, invalid ones are refused as the W3C spec says', () => {
  assert.deepEqual(parseTraceparent(TP), { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentId: '00f067aa0ba902b7', sampled: true });
  assert.equal(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00')!.sampled, false);
  assert.ok(parseTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future'), 'a later version may carry more fields');
  for (const bad of [
    undefined,
    '',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra', // version 00 has exactly four fields
    'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
    '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
    '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01',
  ]) {
    assert.equal(parseTraceparent(bad), undefined, String(bad));
  }
});

test('X-Amzn-Trace-Id: Root, Parent and Sampled in any order; junk is ignored', () => {
  assert.deepEqual(parseAmznTraceId('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1'), {
    root: '1-5759e988-bd862e3fe1be46a994272793',
    parent: '53995c3f42cd8ad8',
    sampled: true,
  });
  assert.deepEqual(parseAmznTraceId('Self=1-abc;Sampled=0;Root=1-5759e988-bd862e3fe1be46a994272793'), { root: '1-5759e988-bd862e3fe1be46a994272793', sampled: false });
  assert.equal(parseAmznTraceId('Root=2-5759e988-bd862e3fe1be46a994272793'), undefined);
  assert.equal(parseAmznTraceId('Parent=53995c3f42cd8ad8'), undefined);
  assert.equal(rootFromTraceId('5759e988bd862e3fe1be46a994272793'), '1-5759e988-bd862e3fe1be46a994272793');
  assert.equal(traceIdFromRoot('1-5759e988-bd862e3fe1be46a994272793'), '5759e988bd862e3fe1be46a994272793');
  assert.equal(formatAmznTraceId('5759e988bd862e3fe1be46a994272793', '53995c3f42cd8ad8', true), 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1');
});

test('an incoming traceparent keeps its trace id; the platform adds its own span', () => {
  const t = traceFromHeaders(TP, 'Root=1-5759e988-bd862e3fe1be46a994272793');
  assert.equal(t.traceId, '4bf92f3577b34da6a3ce929d0e0e4736', 'traceparent wins over X-Amzn-Trace-Id');
  assert.match(t.spanId, /^[0-9a-f]{16}$/);
  assert.notEqual(t.spanId, '00f067aa0ba902b7');
  assert.equal(t.amznTraceId, `Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=${t.spanId};Sampled=1`);
  assert.equal(t.traceparent, `00-4bf92f3577b34da6a3ce929d0e0e4736-${t.spanId}-01`);
  assert.equal(traceFromHeaders('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00', undefined).amznTraceId.endsWith('Sampled=0'), true);
});

test('X-Amzn-Trace-Id alone carries the trace; nothing (or garbage) starts a new X-Ray style trace', () => {
  const fromAmzn = traceFromHeaders(undefined, 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1');
  assert.equal(fromAmzn.traceId, '5759e988bd862e3fe1be46a994272793');
  assert.match(fromAmzn.traceparent, /^00-5759e988bd862e3fe1be46a994272793-[0-9a-f]{16}-01$/);
  const now = Date.UTC(2026, 0, 1);
  const fresh = traceFromHeaders('garbage', undefined, now);
  assert.match(fresh.amznTraceId, /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=1$/);
  assert.equal(fresh.traceId.slice(0, 8), Math.floor(now / 1000).toString(16), 'the root starts with the epoch seconds, as X-Ray ids do');
  const ids = new Set(Array.from({ length: 2000 }, () => traceFromHeaders(undefined, undefined).traceId));
  assert.equal(ids.size, 2000, 'fresh trace ids do not repeat');
});
