import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, fixture, startPlatform } from '../support/platform.js';
import type { RunningPlatform } from '../support/platform.js';
import { PYTHON3, need, requirements } from '../support/requirements.js';

// The seed's example, end to end, as the README walks a new user through it: train the seed's
// RandomForestClassifier on iris with a real scikit-learn, joblib.dump it, zip it with the seed's
// handler, deploy the zip with the CLI as python3.11 behind POST /predict, and curl the route.

const ROWS = '[[5.1,3.5,1.4,0.2],[6.7,3.0,5.2,2.3]]';

function run(command: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('the seed: train, zip, deploy with the CLI, curl POST /predict = what scikit-learn answers', async (t) => {
  if (!need(t, requirements.sklearn, requirements.curl)) return;
  const work = await mkdtemp(join(tmpdir(), 'modelfn-seed-'));
  let platform: RunningPlatform | undefined;
  try {
    const trained = await run(PYTHON3, [fixture('functions', 'seed-iris', 'train.py'), work]);
    assert.equal(trained.code, 0, trained.stderr);
    const expected = trained.stdout.trim();
    assert.match(expected, /^\[[012], [012]\]$/);

    platform = await startPlatform();
    const deployed = await cli(platform.url, [
      'deploy', join(work, 'lambda_function.zip'),
      '--name', 'seed',
      '--runtime', 'python3.11',
      '--handler', 'lambda_function.lambda_handler',
      '--route', 'POST /predict',
    ]);
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.match(deployed.stdout, /deployed seed \(python3\.11, lambda_function\.lambda_handler/);
    assert.match(deployed.stdout, /route POST \/predict/);

    // Exactly what the README tells a user to type.
    const curl = await run('curl', ['-sS', '-d', ROWS, `${platform.url}/predict`]);
    assert.equal(curl.code, 0, curl.stderr);
    assert.equal(curl.stdout, expected, 'the function answers what scikit-learn answered');
    assert.equal(expected, '[0, 2]', 'and that is the seed\'s answer for these rows');

    // Warm now: the same answer again, and the invocation log shows the platform's report lines.
    const again = await run('curl', ['-sS', '-w', '\n%{http_code}', '-d', ROWS, `${platform.url}/predict`]);
    assert.equal(again.stdout, `${expected}\n200`);
    const logs = await cli(platform.url, ['logs', 'seed']);
    assert.match(logs.stdout, /REPORT RequestId: \S+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: [\d.]+ ms/);
  } finally {
    await platform?.cleanup();
    await rm(work, { recursive: true, force: true });
  }
});
