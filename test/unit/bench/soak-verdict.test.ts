import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rssGrowth } from '../../../bench/soak.js';

test("the soak's memory verdict compares the saw-tooth's low points after the warm-up, not two arbitrary windows", () => {
  // Warm-up from 200 to 240, then a young generation that grows to +60 and is scavenged, over a flat floor.
  const sawTooth = [200, 220, 240, 250, 270, 300, 245, 265, 300, 246, 270, 300, 244, 290];
  const flat = rssGrowth(sawTooth);
  assert.ok(Math.abs(flat.growth) < 2, `growth ${flat.growth}`);
  // The same saw-tooth over a floor that rises 1 % a window: a leak.
  const leaking = rssGrowth(sawTooth.map((v, i) => v * (1 + i / 100) + i * 3));
  assert.ok(leaking.growth > 10, `growth ${leaking.growth}`);
  assert.deepEqual(rssGrowth([100]), { early: 100, late: 100, growth: 0 });
});
