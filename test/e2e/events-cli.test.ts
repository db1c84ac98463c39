import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, cli, eventually, fixture, invoke, mustDeploy, sleep, startPlatform } from '../support/platform.js';
import type { RunningPlatform } from '../support/platform.js';

let p: RunningPlatform;

before(async () => {
  p = await startPlatform({ env: { MODELFN_ASYNC_RETRY_BASE_MS: '100' } });
});

after(async () => {
  await p.cleanup();
});

const read = (file: string) => readFileSync(file, 'utf8');

test('modelfn batch: CSV in, predictions out in input order; a failed chunk is retried', async () => {
  const calls = join(p.dataDir, 'calls-csv.txt');
  await mustDeploy(p.url, 'summer', fixture('functions', 'batch-sum'), { environment: { CALLS_FILE: calls, FAIL_MARKER: join(p.dataDir, 'failed-once') } });
  const input = join(p.dataDir, 'in.csv');
  const n = 1000;
  writeFileSync(input, `a,b,c\n${Array.from({ length: n }, (_, i) => `${i},${i % 7},0.5`).join('\n')}\n`);
  const output = join(p.dataDir, 'out.csv');
  const run = await cli(p.url, ['batch', 'summer', input, '-o', output, '--chunk-rows', '64', '--concurrency', '4']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /1000 rows -> .*out\.csv/);
  const lines = read(output).trim().split('\n');
  assert.equal(lines[0], 'prediction');
  assert.deepEqual(lines.slice(1).map(Number), Array.from({ length: n }, (_, i) => i + (i % 7) + 0.5));
  assert.ok(existsSync(join(p.dataDir, 'failed-once')), 'one chunk failed once and was retried');
  assert.equal(existsSync(`${output}.journal`), false, 'the journal is removed when the output is complete');
});

test('modelfn batch: JSONL in and out; resume after an interruption does not redo finished chunks', async () => {
  const calls = join(p.dataDir, 'calls-jsonl.txt');
  await mustDeploy(p.url, 'slow-summer', fixture('functions', 'batch-sum'), { environment: { CALLS_FILE: calls, SLOW_MS: '150' } });
  const input = join(p.dataDir, 'in.jsonl');
  const n = 400;
  writeFileSync(input, Array.from({ length: n }, (_, i) => JSON.stringify({ x: i })).join('\n'));
  const output = join(p.dataDir, 'out.jsonl');
  const args = ['batch', 'slow-summer', input, '-o', output, '--chunk-rows', '10', '--concurrency', '2'];
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, MODELFN_ENDPOINT: p.url }, stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  const journal = `${output}.journal`;
  await eventually(() => existsSync(journal) && read(journal).split('\n').filter(Boolean).length >= 8, 20_000, 'some chunks journaled');
  child.kill('SIGKILL');
  await exited;
  await sleep(600); // the calls the killed CLI had in flight still finish on the platform
  const journaled = read(journal).split('\n').filter(Boolean).length - 1;
  assert.ok(journaled >= 7 && journaled < 40, `interrupted mid-way (${journaled} of 40 chunks)`);
  const callsBefore = read(calls).split('\n').filter(Boolean).length;
  const resumed = await cli(p.url, [...args, '--resume']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /chunks resumed from the journal/);
  const callsAfter = read(calls).split('\n').filter(Boolean).length;
  assert.equal(callsAfter - callsBefore, 40 - journaled, 'only the unfinished chunks ran again');
  assert.deepEqual(read(output).trim().split('\n').map(Number), Array.from({ length: n }, (_, i) => i * 2));
});

test('modelfn batch: bad input is refused with a readable message', async () => {
  const bad = join(p.dataDir, 'bad.jsonl');
  writeFileSync(bad, '{"x":1}\n{broken\n');
  const res = await cli(p.url, ['batch', 'summer', bad, '-o', join(p.dataDir, 'x.jsonl')]);
  assert.notEqual(res.code, 0);
  assert.match(res.stderr, /line 2 is not JSON/);
  const txt = join(p.dataDir, 'in.txt');
  writeFileSync(txt, '1');
  assert.match((await cli(p.url, ['batch', 'summer', txt, '-o', 'x'])).stderr, /must end in \.csv or \.jsonl/);
});

test('CLI: async-config, invocations, dlq, queue and schedule commands', async () => {
  const file = join(p.dataDir, 'cli-rec.jsonl');
  await mustDeploy(p.url, 'cli-rec', fixture('functions', 'async-recorder'), { environment: { RECORD_FILE: file } });
  assert.equal((await cli(p.url, ['queue', 'create', 'cli-dlq'])).code, 0);
  const set = await cli(p.url, ['async-config', 'cli-rec', '--retries', '0', '--max-age', '600', '--dlq', 'cli-dlq', '--on-success', 'queue:cli-dlq']);
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /retries on function error: 0/);
  assert.match(set.stdout, /maximum event age: +600 s/);
  assert.match(set.stdout, /dead-letter queue: +arn:aws:sqs:us-east-1:000000000000:cli-dlq/);
  const bad = await cli(p.url, ['async-config', 'cli-rec', '--retries', '5']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /maximumRetryAttempts: must be between 0 and 2/);

  const failing = await invoke(p.url, 'cli-rec', { id: 'x', failTimes: 9 }, { 'x-amz-invocation-type': 'Event' });
  const requestId = failing.headers.get('x-amzn-requestid')!;
  await eventually(async () => (await cli(p.url, ['invocations', 'cli-rec', '--status', 'failed', '--json'])).stdout.includes(requestId), 10_000, 'a failed record');
  const table = await cli(p.url, ['invocations', 'cli-rec']);
  assert.match(table.stdout, /ID +KIND +STATUS/);
  assert.match(table.stdout, new RegExp(`${requestId} +event +failed +1`));
  const dead = await cli(p.url, ['dlq', 'cli-rec']);
  assert.match(dead.stdout, new RegExp(requestId));
  assert.match((await cli(p.url, ['dlq', 'cli-rec', '--redrive'])).stdout, /re-drove 1 event/);

  assert.equal((await cli(p.url, ['queue', 'create', 'cli-q', '--visibility-timeout', '5'])).code, 0);
  assert.match((await cli(p.url, ['queue', 'send', 'cli-q', 'one', 'two'])).stdout, /sent 2 messages/);
  assert.match((await cli(p.url, ['queue', 'ls'])).stdout, /cli-q +2 +0 +0 +5 s/);
  assert.equal((await cli(p.url, ['queue', 'receive', 'cli-q', '--max', '10', '--delete'])).stdout, 'one\ntwo\n');
  assert.match((await cli(p.url, ['queue', 'purge', 'cli-q'])).stdout, /purged 0 messages/);
  assert.match((await cli(p.url, ['queue', 'rm', 'cli-q'])).stdout, /removed queue cli-q/);

  const sched = await cli(p.url, ['schedule', 'cli-rec', 'cron(0 12 * * ? *)']);
  assert.equal(sched.code, 0, sched.stderr);
  assert.match(sched.stdout, /schedule cli-rec-schedule: cron\(0 12 \* \* \? \*\) -> cli-rec, next run \d{4}-\d\d-\d\dT12:00:00\.000Z/);
  assert.match((await cli(p.url, ['schedule', 'cli-rec'])).stdout, /cli-rec-schedule +cron/);
  const badSched = await cli(p.url, ['schedule', 'cli-rec', 'rate(5 minute)']);
  assert.match(badSched.stderr, /expression: .*plural/);
  assert.match((await cli(p.url, ['schedule', 'cli-rec', '--rm'])).stdout, /removed schedule/);
});

test('batch jobs over the API for stored files: upload, start, follow, download; bad input names the field', async () => {
  const csv = `${Array.from({ length: 300 }, (_, i) => `${i},1`).join('\n')}\n`;
  const up = await fetch(`${p.url}/_modelfn/v1/files`, { method: 'POST', body: csv, headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(up.status, 201);
  const { sha256 } = (await up.json()) as any;
  const post = (body: unknown) => fetch(`${p.url}/_modelfn/v1/batch-jobs`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const started = await post({ function: 'summer', input: sha256, format: 'csv', chunkRows: 50, concurrency: 3 });
  assert.equal(started.status, 202);
  const job = (await started.json()) as any;
  assert.equal(job.kind, 'job');
  const done = await eventually(async () => {
    const r = (await (await fetch(`${p.url}/_modelfn/v1/batch-jobs/${job.id}`)).json()) as any;
    return r.status === 'succeeded' || r.status === 'failed' ? r : undefined;
  }, 20_000, 'the job to finish');
  assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
  assert.equal(done.detail.rowsDone, 300);
  const output = await (await fetch(`${p.url}/_modelfn/v1/batch-jobs/${job.id}/output`)).text();
  assert.deepEqual(output.trim().split('\n').map(Number), Array.from({ length: 300 }, (_, i) => i + 1));
  const listed = await cli(p.url, ['invocations', 'summer', '--kind', 'job', '--json']);
  assert.ok(JSON.parse(listed.stdout).some((r: any) => r.id === job.id));

  const cases: Array<[unknown, number, RegExp]> = [
    [{ function: 'ghost', input: sha256, format: 'csv' }, 404, /not found/i],
    [{ function: 'summer', input: 'f'.repeat(64), format: 'csv' }, 400, /input: no uploaded file/],
    [{ function: 'summer', input: sha256, format: 'xml' }, 400, /format: must be csv or jsonl/],
    [{ function: 'summer', input: sha256, format: 'csv', chunkRows: 0 }, 400, /chunkRows: must be between 1 and 100000/],
  ];
  for (const [body, status, re] of cases) {
    const res = await post(body);
    assert.equal(res.status, status, JSON.stringify(body));
    assert.match(((await res.json()) as any).message, re);
  }
});
