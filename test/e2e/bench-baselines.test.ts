// The benchmark's same-run baselines must do the work the platform is measured against: the
// bare server and the architecture floor answer the greeter's greeting, and the floor's
// instance process goes with it on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../../bench/lib/processes.js';
import { descendantsOf } from '../../src/runtimes/sandbox/process-tree.js';
import { fromPackageRoot } from '../../src/shared/paths.js';

const BODY = JSON.stringify({ name: 'bench' });

for (const [script, ready] of [
  ['bare-server.js', /bare server at (http:\/\/\S+)/],
  ['floor-server.js', /floor server at (http:\/\/\S+)/],
] as const) {
  test(`${script} answers the greeter's work, many calls at once, and stops with its processes`, async () => {
    const server = await startServer([fromPackageRoot('dist', 'bench', script)], ready);
    const pid = server.proc.pid!;
    try {
      const answers = await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const res = await fetch(`${server.url}/greet`, { method: 'POST', body: JSON.stringify({ name: `n${i}` }) });
          assert.equal(res.status, 200);
          assert.match(res.headers.get('content-type') ?? '', /application\/json/);
          return (await res.json()) as { message: string };
        }),
      );
      answers.forEach((a, i) => assert.deepEqual(a, { message: `hello, n${i}` }));
      const single = await fetch(`${server.url}/greet`, { method: 'POST', body: BODY });
      assert.deepEqual(await single.json(), { message: 'hello, bench' });
    } finally {
      const family = descendantsOf(pid);
      await server.stop();
      // Every process it started is gone (the floor's instance exits with its stdin).
      const deadline = Date.now() + 5000;
      while (family.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(family.filter(alive), []);
    }
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
