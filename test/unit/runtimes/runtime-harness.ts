import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FunctionConfig } from '../../../src/registry/types.js';
import type { Instance, InstanceLogLine, InstanceSpec, InvokeResponse, LambdaError, Runtime } from '../../../src/runtimes/runtime.js';
import { buildInstanceEnv } from '../../../src/scheduler/instance-env.js';
import { newInstanceId } from '../../../src/shared/ids.js';
import { fixture } from '../../support/platform.js';

/**
 * Drives a Runtime in-process, as the scheduler would (same environment, same spec), without a
 * gateway: every started instance is killed by close().
 */
export class RuntimeHarness {
  readonly logs: InstanceLogLine[] = [];
  private readonly instances: Instance[] = [];

  private constructor(
    readonly runtime: Runtime,
    readonly root: string,
  ) {}

  /** The runtime may keep its own processes under root (a zygote): processes() then sees them too. */
  static async create(runtime: Runtime | ((root: string) => Runtime)): Promise<RuntimeHarness> {
    const root = await mkdtemp(join(tmpdir(), 'modelfn-runtime-test-'));
    return new RuntimeHarness(typeof runtime === 'function' ? runtime(root) : runtime, root);
  }

  config(overrides: Partial<FunctionConfig> = {}): FunctionConfig {
    return {
      name: 'fn',
      version: '$LATEST',
      runtime: 'python3.11',
      handler: 'lambda_function.lambda_handler',
      memoryMb: 256,
      timeoutSec: 3,
      environment: {},
      description: '',
      codeSha256: 'x'.repeat(64),
      codeSize: 1,
      revisionId: randomUUID(),
      lastModified: new Date().toISOString(),
      ...overrides,
    };
  }

  async spec(fixtureName: string, overrides: Partial<FunctionConfig> = {}, initTimeoutMs = 10_000): Promise<InstanceSpec> {
    const id = newInstanceId();
    const tmpDir = join(this.root, id, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const codeDir = fixtureName.startsWith('/') ? fixtureName : fixture('functions', fixtureName);
    const config = this.config(overrides);
    const env = buildInstanceEnv({ config, instanceId: id, codeDir, tmpDir, region: 'us-east-1', runtimeDir: this.runtime.family, startedAt: Date.now() });
    return { id, config, codeDir, tmpDir, env, initTimeoutMs, onLog: (line) => this.logs.push(line) };
  }

  async start(fixtureName: string, overrides: Partial<FunctionConfig> = {}, initTimeoutMs?: number): Promise<Instance> {
    const instance = await this.runtime.start(await this.spec(fixtureName, overrides, initTimeoutMs));
    this.instances.push(instance);
    return instance;
  }

  invoke(instance: Instance, event: unknown, timeoutMs = 3000): Promise<InvokeResponse> {
    return instance.invoke({
      requestId: randomUUID(),
      payload: Buffer.from(JSON.stringify(event)),
      deadlineMs: Date.now() + timeoutMs,
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fn',
    });
  }

  /** Pids of live processes started for this harness's instances (their TMPDIR is under root). */
  async processes(): Promise<number[]> {
    const pids: number[] = [];
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
      if (environ.includes(`TMPDIR=${this.root}/`) && !/\) Z /.test(stat)) pids.push(Number(entry));
    }
    return pids;
  }

  text(): string {
    return this.logs.map((l) => l.text).join('\n');
  }

  async close(): Promise<void> {
    for (const instance of this.instances) instance.kill();
    await Promise.all(this.instances.map((i) => Promise.race([i.exited, new Promise((r) => setTimeout(r, 2000))])));
    await rm(this.root, { recursive: true, force: true });
  }
}

export function okJson(response: InvokeResponse): unknown {
  if (!response.ok) throw new Error(`expected a result, got ${JSON.stringify(response.error)}`);
  return JSON.parse(response.payload.toString('utf8')) as unknown;
}

export function errorOf(response: InvokeResponse): LambdaError {
  if (response.ok) throw new Error(`expected an error, got ${response.payload.toString('utf8')}`);
  return response.error;
}
