import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, fixture, invoke, mustDeploy, removeTree, startPlatform } from '../support/platform.js';

const EVENTS = 60;

test('kill -9 with events queued and in flight: after a restart every accepted event runs (duplicates allowed, no loss)', async () => {
  const env = { MODELFN_ASYNC_CONCURRENCY: '3', MODELFN_ASYNC_RETRY_BASE_MS: '100' };
  const first = await startPlatform({ env });
  const dataDir = first.dataDir;
  const file = join(dataDir, 'done.jsonl');
  const ids = () => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).id as string) : []);
  let second;
  try {
    await mustDeploy(first.url, 'slow-rec', fixture('functions', 'async-recorder'), { environment: { RECORD_FILE: file } });
    const accepted: string[] = [];
    await Promise.all(
      Array.from({ length: EVENTS }, async (_, i) => {
        const res = await invoke(first.url, 'slow-rec', { id: `e${i}`, ms: 150 }, { 'x-amz-invocation-type': 'Event' });
        assert.equal(res.status, 202);
        accepted.push(`e${i}`);
      }),
    );
    assert.equal(accepted.length, EVENTS);
    await eventually(() => ids().length >= 5, 15_000, 'some events to finish before the crash');
    await first.kill9();
    const before = new Set(ids());
    assert.ok(before.size < EVENTS, `the crash came mid-way (${before.size} of ${EVENTS} done)`);

    second = await startPlatform({ env, dataDir });
    await eventually(() => new Set(ids()).size === EVENTS || undefined, 30_000, `all ${EVENTS} events after the restart`);
    const done = new Set(ids());
    for (const id of accepted) assert.ok(done.has(id), `${id} was accepted and must run`);
    const records = await eventually(async () => {
      const res = (await (await fetch(`${second!.url}/_modelfn/v1/functions/slow-rec/invocations?limit=1000`)).json()) as any;
      return res.invocations.every((r: any) => r.status === 'succeeded') && res.invocations.length === EVENTS ? res.invocations : undefined;
    }, 10_000, 'every record to say succeeded');
    assert.equal(records.length, EVENTS);
  } finally {
    await second?.cleanup();
    await first.cleanup(); // removes the data directory it created
    await removeTree(dataDir);
  }
});
