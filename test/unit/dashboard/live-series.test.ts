import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveSeries } from '../../../src/dashboard/live-series.js';
import type { InvocationRecord } from '../../../src/scheduler/scheduler.js';

const rec = (requestId: string, durationMs: number, extra: Partial<InvocationRecord> = {}): InvocationRecord => ({ functionName: 'f', version: '$LATEST', requestId, durationMs, billedDurationMs: Math.ceil(durationMs), memoryMb: 128, ...extra });

test('live series: one point per step with counts, latency percentiles and instances; the last invocations newest first', () => {
  let now = 10_000;
  const instances = new Map([['f', 2]]);
  const live = new LiveSeries({ stepMs: 60_000, recentPerFunction: 3, now: () => now, instances: () => instances });
  try {
    for (let i = 0; i < 98; i++) live.onInvocation(rec(`r${i}`, 2));
    live.onInvocation(rec('slow', 900));
    live.onInvocation(rec('bad', 5, { errorType: 'Error' }));
    live.onThrottle('f');
    live.onColdStart({ functionName: 'f', version: '$LATEST', initDurationMs: 50 });
    now = 12_000;
    const ticks: Array<Record<string, unknown>> = [];
    live.on('tick', (_t, points) => ticks.push(points as Record<string, unknown>));
    live.tick();
    const [p] = live.points('f');
    assert.equal(p!.t, 12_000);
    assert.equal(p!.requests, 100);
    assert.equal(p!.errors, 1);
    assert.equal(p!.throttles, 1);
    assert.equal(p!.coldStarts, 1);
    assert.equal(p!.instances, 2);
    assert.ok(p!.p50! > 1 && p!.p50! <= 2.5, `p50 ${p!.p50}`);
    assert.ok(p!.p99! > 2.5 && p!.p99! <= 5, `p99 ${p!.p99}`);
    assert.deepEqual(Object.keys(ticks[0]!), ['f']);
    assert.deepEqual(live.recent('f').map((r) => r.requestId), ['bad', 'slow', 'r97'], 'a ring of 3, newest first');
    assert.equal(live.recent('f')[0]!.errorType, 'Error');
    now = 14_000;
    live.tick();
    const empty = live.points('f', 12_000)[0]!;
    assert.equal(empty.requests, 0);
    assert.equal(empty.p50, null);
    assert.deepEqual(live.summary('f', 60_000), { requests: 100, errors: 1, throttles: 1, coldStarts: 1 });
    live.forget('f');
    assert.deepEqual(live.recent('f'), []);
  } finally {
    live.close();
  }
});
