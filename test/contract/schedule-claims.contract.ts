// The ScheduleClaims contract: one winner per (rule, scheduled time), never backwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ScheduleClaims } from '../../src/events/schedules/schedule-claims.js';
import type { HarnessFactory } from './harness.js';

export function scheduleClaimsContract(name: string, factory: HarnessFactory<ScheduleClaims>): void {
  test(`${name}: one claim wins per run, claims only move forward, forget resets`, async (t) => {
    const h = await factory(t);
    if (!h) return;
    try {
      const claims = h.subject;
      const other = h.reopen ? await h.reopen() : claims;
      assert.equal(await claims.lastScheduled('fn/r'), undefined);
      const racing = await Promise.all([claims.claim('fn/r', 60_000, 60_001), other.claim('fn/r', 60_000, 60_002), claims.claim('fn/r', 60_000, 60_003), other.claim('fn/r', 60_000, 60_004)]);
      assert.equal(racing.filter(Boolean).length, 1);
      assert.equal(await other.lastScheduled('fn/r'), 60_000);
      assert.equal(await claims.claim('fn/r', 30_000, 70_000), false, 'an earlier run is never claimed after a later one');
      assert.equal(await other.claim('fn/r', 120_000, 120_001), true);
      assert.equal(await claims.claim('fn/other', 30_000, 30_001), true, 'rules are independent');
      await claims.forget('fn/r');
      assert.equal(await other.lastScheduled('fn/r'), undefined);
      assert.equal(await other.claim('fn/r', 60_000, 200_000), true);
    } finally {
      await h.close();
    }
  });
}
