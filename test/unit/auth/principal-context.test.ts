import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { canAccessTenant, currentPrincipal, principalTracking, runAs } from '../../../src/auth/principal-context.js';
import type { Principal } from '../../../src/auth/access-keys.js';

const alice: Principal = { accessKeyId: 'AKIAALICE', tenant: 'team-a', admin: false };
const bob: Principal = { accessKeyId: 'AKIABOB', tenant: 'team-b', admin: false };

test('a signed call sees its caller through every await; concurrent calls each their own', async () => {
  let releaseAlice!: () => void;
  const aliceHeld = new Promise<void>((r) => (releaseAlice = r));
  const seen: Array<[string, string | undefined]> = [];
  const a = runAs(alice, async () => {
    seen.push(['a start', currentPrincipal()?.tenant]);
    await aliceHeld;
    await new Promise((r) => setTimeout(r, 5));
    seen.push(['a after awaits', currentPrincipal()?.tenant]);
    return canAccessTenant('team-b');
  });
  const b = runAs(bob, async () => {
    await nextTurn();
    seen.push(['b', currentPrincipal()?.tenant]);
  });
  await b;
  // Bob's call is over; Alice's is not: the storage stays on for her.
  assert.equal(principalTracking(), true);
  releaseAlice();
  assert.equal(await a, false, 'a tenant key does not see another tenant');
  assert.deepEqual(seen, [
    ['a start', 'team-a'],
    ['b', 'team-b'],
    ['a after awaits', 'team-a'],
  ]);
  // Nothing signed in flight: the storage (and Node's tracking of every promise) is off.
  await nextTurn();
  assert.equal(principalTracking(), false);
  assert.equal(currentPrincipal(), undefined);
  assert.equal(canAccessTenant('team-b'), true, 'the platform itself sees every tenant');
});

test('the storage is off again after a call that threw, rejected or returned at once', async () => {
  assert.throws(() => runAs(alice, () => {
    throw new Error('boom');
  }), /boom/);
  assert.equal(principalTracking(), false);
  await assert.rejects(runAs(alice, async () => {
    await nextTurn();
    throw new Error('later');
  }), /later/);
  await nextTurn();
  assert.equal(principalTracking(), false);
  assert.equal(runAs(alice, () => currentPrincipal()?.tenant), 'team-a');
  assert.equal(principalTracking(), false);
  assert.equal(runAs(undefined, () => currentPrincipal()), undefined, 'no principal: the call runs as the platform');
});

test('work a signed call left running after it finished runs as the platform', async () => {
  let later!: Promise<string | undefined>;
  await runAs(alice, async () => {
    later = (async () => {
      await new Promise((r) => setTimeout(r, 20));
      return currentPrincipal()?.tenant;
    })();
  });
  assert.equal(await later, undefined);
  assert.equal(principalTracking(), false);
});
