import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LabelCap, OTHER } from '../../../src/telemetry/metrics/label-cap.js';
import { PlatformMetrics, errorKind } from '../../../src/telemetry/metrics/platform-metrics.js';
import { Histogram } from '../../../src/telemetry/metrics/histogram.js';

/** A strict reading of the Prometheus text format: every sample line parses, every family is declared. */
function parseExposition(text: string): Map<string, { type: string; samples: Array<{ name: string; labels: Record<string, string>; value: number }> }> {
  const families = new Map<string, { type: string; samples: Array<{ name: string; labels: Record<string, string>; value: number }> }>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ')) continue;
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      families.set(type[1]!, { type: type[2]!, samples: [] });
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[3] ?? '').match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) ?? []) {
      const eq = pair.indexOf('=');
      labels[pair.slice(0, eq)] = pair.slice(eq + 2, -1).replace(/\\(["\\n])/g, (_all, c: string) => (c === 'n' ? '\n' : c));
    }
    const value = m[4] === '+Inf' ? Infinity : Number(m[4]);
    assert.ok(!Number.isNaN(value), line);
    const family = [...families.keys()].find((f) => m[1] === f || m[1] === `${f}_bucket` || m[1] === `${f}_sum` || m[1] === `${f}_count`);
    assert.ok(family, `sample without a TYPE line: ${line}`);
    families.get(family)!.samples.push({ name: m[1]!, labels, value });
  }
  return families;
}

test('label cap: at most N series; a quiet series gives its slot, busy ones push newcomers into "other"', () => {
  const evicted: string[] = [];
  const cap = new LabelCap<{ n: number }>(2, 60_000, () => ({ n: 0 }), (labels) => evicted.push(labels.function));
  cap.get('a', '1', 0).n++;
  cap.get('b', '1', 0).n++;
  assert.deepEqual(cap.labelsFor('c', '1', 30_000), OTHER, 'a and b are recent: c is counted as other');
  cap.get('b', '1', 50_000).n++;
  assert.deepEqual(cap.labelsFor('c', '1', 61_000), { function: 'c', version: '1' }, 'a was quiet for 60 s: c takes its slot');
  assert.deepEqual(evicted, ['a']);
  assert.equal(cap.size, 2);
  assert.deepEqual([...cap.entries()].map(([l, v]) => [l.function, v.n]), [['b', 2], ['c', 0], ['other', 0]]);
  cap.forget('b');
  assert.deepEqual(evicted, ['a', 'b']);
  assert.equal(cap.size, 1);
  // Thousands of distinct versions never grow the series past the cap.
  const big = new LabelCap<number>(50, 1e9, () => 0);
  for (let v = 0; v < 5000; v++) big.get('fn', String(v), v);
  assert.equal(big.size, 50);
});

test('error kinds are a small fixed set', () => {
  assert.equal(errorKind('Sandbox.Timedout', false), 'timeout');
  assert.equal(errorKind('Runtime.OutOfMemory', false), 'out_of_memory');
  assert.equal(errorKind('Runtime.ExitError', false), 'runtime');
  assert.equal(errorKind('MyCustomError', false), 'function');
  assert.equal(errorKind('Runtime.ImportModuleError', true), 'init');
});

test('histogram quantiles interpolate within buckets', () => {
  const h = new Histogram([1, 2, 4, 8]);
  for (const v of [0.5, 1.5, 1.5, 3, 7]) h.observe(v);
  assert.deepEqual(h.cumulative(), [1, 3, 4, 5, 5]);
  assert.ok(h.quantile(0.5) > 1 && h.quantile(0.5) <= 2);
  assert.ok(h.quantile(0.99) > 4 && h.quantile(0.99) <= 8);
});

test('/metrics text parses: invocations, errors, throttles, durations, cold starts with phases, instances, queue, batch sizes', async () => {
  const metrics = new PlatformMetrics({
    maxSeries: 3,
    processMetrics: false,
    now: () => 1000,
    pools: () => [
      { functionName: 'hello', version: '$LATEST', idle: 1, busy: 2, starting: 1, waiting: 3 },
      { functionName: 'zzz', version: '1', idle: 4, busy: 0, starting: 0, waiting: 0 },
    ],
    batches: () => [{ name: 'iris', version: '$LATEST', batchSizes: new Map([[1, 3], [8, 2]]) }],
  });
  metrics.onInvocation({ functionName: 'hello', version: '$LATEST', requestId: 'a', durationMs: 3, billedDurationMs: 3, memoryMb: 128, initDurationMs: 80 });
  metrics.onInvocation({ functionName: 'hello', version: '$LATEST', requestId: 'b', durationMs: 1500, billedDurationMs: 1500, memoryMb: 128, errorType: 'Sandbox.Timedout' });
  metrics.onInvocation({ functionName: 'hello', version: '$LATEST', requestId: 'c', durationMs: 0, billedDurationMs: 0, memoryMb: 128, initDurationMs: 30, errorType: 'Runtime.ImportModuleError' });
  metrics.onThrottle('hello', '$LATEST');
  metrics.onColdStart({ functionName: 'hello', version: '$LATEST', initDurationMs: 80, phases: { fetchMs: 2, processStartMs: 50, runtimeInitMs: 5, userInitMs: 20 } });
  metrics.onInvocation({ functionName: 'label"with\\quotes', version: '$LATEST', requestId: 'd', durationMs: 1, billedDurationMs: 1, memoryMb: 128 });
  const text = await metrics.text();
  const families = parseExposition(text);
  const sample = (family: string, name: string, labels: Record<string, string>) =>
    families.get(family)!.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  assert.equal(families.get('modelfn_invocations_total')!.type, 'counter');
  assert.equal(sample('modelfn_invocations_total', 'modelfn_invocations_total', { function: 'hello', version: '$LATEST' }), 3);
  assert.equal(sample('modelfn_errors_total', 'modelfn_errors_total', { function: 'hello', kind: 'timeout' }), 1);
  assert.equal(sample('modelfn_errors_total', 'modelfn_errors_total', { function: 'hello', kind: 'init' }), 1);
  assert.equal(sample('modelfn_throttles_total', 'modelfn_throttles_total', { function: 'hello' }), 1);
  assert.equal(sample('modelfn_invocation_duration_seconds', 'modelfn_invocation_duration_seconds_count', { function: 'hello' }), 2, 'a failed init has no duration');
  assert.equal(sample('modelfn_invocation_duration_seconds', 'modelfn_invocation_duration_seconds_bucket', { function: 'hello', le: '0.005' }), 1);
  assert.equal(sample('modelfn_invocation_duration_seconds', 'modelfn_invocation_duration_seconds_bucket', { function: 'hello', le: '+Inf' }), 2);
  assert.equal(sample('modelfn_cold_starts_total', 'modelfn_cold_starts_total', { function: 'hello' }), 1);
  assert.equal(sample('modelfn_init_duration_seconds', 'modelfn_init_duration_seconds_sum', { function: 'hello' }), 0.08);
  for (const phase of ['fetch', 'process_start', 'runtime_init', 'user_init']) {
    assert.equal(sample('modelfn_cold_start_phase_seconds', 'modelfn_cold_start_phase_seconds_count', { function: 'hello', phase }), 1, phase);
  }
  assert.equal(sample('modelfn_instances', 'modelfn_instances', { function: 'hello', state: 'busy' }), 2);
  assert.equal(sample('modelfn_instances', 'modelfn_instances', { function: 'zzz', state: 'idle' }), 4);
  assert.equal(sample('modelfn_concurrent_executions', 'modelfn_concurrent_executions', { function: 'hello' }), 2);
  assert.equal(sample('modelfn_queue_depth', 'modelfn_queue_depth', { function: 'hello' }), 3);
  assert.equal(sample('modelfn_batch_size', 'modelfn_batch_size_count', { function: 'other' }), 5, 'past the cap of 3 series, iris is "other"');
  assert.equal(sample('modelfn_batch_size', 'modelfn_batch_size_sum', { function: 'other' }), 3 + 16);
  assert.equal(sample('modelfn_invocations_total', 'modelfn_invocations_total', { function: 'label"with\\quotes' }), 1, 'label values are escaped');
  // Histogram buckets are cumulative and end with +Inf = count.
  const buckets = families.get('modelfn_init_duration_seconds')!.samples.filter((s) => s.name.endsWith('_bucket') && s.labels.function === 'hello').map((s) => s.value);
  assert.deepEqual(buckets, [...buckets].sort((a, b) => a - b));
  metrics.forget('hello');
  assert.doesNotMatch(await metrics.text(), /modelfn_invocations_total\{function="hello"/);
});
