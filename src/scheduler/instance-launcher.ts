import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { BundleCache } from '../artifacts/bundle-cache.js';
import type { RuntimeRegistry } from '../runtimes/runtime-registry.js';
import type { Instance, InstanceLogLine } from '../runtimes/runtime.js';
import type { FunctionConfig } from '../registry/types.js';
import { buildInstanceEnv } from './instance-env.js';
import { SANDBOX_TMP, TASK_ROOT } from '../runtimes/sandbox/bwrap-args.js';

export interface LaunchRequest {
  readonly id: string;
  readonly config: FunctionConfig;
  readonly startedAt: number;
  readonly onLog: (line: InstanceLogLine) => void;
  /** Told how the cold start was spent once the instance is ready, and whether a stem cell took it. */
  readonly onPhases?: (phases: ColdStartPhases, stemCell: boolean) => void;
}

/**
 * A cold start's phases in ms: fetch (code bundle unpacked or found, temp folder, environment),
 * then what the runtime reports (process start, runtime init, user init), then the first
 * invocation on the new instance; phases a runtime cannot tell apart are left out.
 */
export interface ColdStartPhases {
  readonly fetchMs: number;
  readonly processStartMs?: number;
  readonly runtimeInitMs?: number;
  readonly userInitMs?: number;
  /** The first invocation's duration on the new instance (absent until it ran; provisioned and pre-warmed instances start without one). */
  readonly firstInvokeMs?: number;
}

/** What the scheduler needs to start and clean up instances (tests pass a fake). */
export interface Launcher {
  launch(request: LaunchRequest): Promise<Instance>;
  cleanup(id: string): Promise<void>;
}

/**
 * Turns a function configuration into a running instance: the unpacked code, a private temp
 * folder, the Lambda environment, then the runtime's own start and init.
 */
export class InstanceLauncher implements Launcher {
  constructor(
    private readonly runtimes: RuntimeRegistry,
    private readonly bundles: BundleCache,
    private readonly instancesDir: string,
    private readonly region: string,
    private readonly initTimeoutMs: number,
    /** Runtimes start every instance in a sandbox: its environment names the paths inside (/var/task, /tmp). */
    private readonly sandboxed = false,
  ) {}

  async launch(request: LaunchRequest): Promise<Instance> {
    const { config } = request;
    const began = performance.now();
    const runtime = this.runtimes.get(config.runtime);
    const codeDir = await this.bundles.ensure(config.codeSha256);
    const tmpDir = join(this.instancesDir, request.id, 'tmp');
    await mkdir(tmpDir, { recursive: true, mode: 0o700 });
    const env = buildInstanceEnv({
      config,
      instanceId: request.id,
      codeDir: this.sandboxed ? TASK_ROOT : codeDir,
      tmpDir: this.sandboxed ? SANDBOX_TMP : tmpDir,
      region: this.region,
      runtimeDir: runtime.family,
      startedAt: request.startedAt,
    });
    const fetchMs = performance.now() - began;
    try {
      const instance = await runtime.start({ id: request.id, config, codeDir, tmpDir, env, initTimeoutMs: this.initTimeoutMs, onLog: request.onLog });
      const p = instance.initPhases;
      request.onPhases?.(
        {
          fetchMs,
          ...(p?.processStartMs !== undefined ? { processStartMs: p.processStartMs } : {}),
          ...(p?.runtimeInitMs !== undefined ? { runtimeInitMs: p.runtimeInitMs } : {}),
          ...(p?.userInitMs !== undefined ? { userInitMs: p.userInitMs } : {}),
        },
        p?.stemCell === true,
      );
      return instance;
    } catch (err) {
      await this.cleanup(request.id);
      throw err;
    }
  }

  /** Remove an instance's private folder once its process is gone. */
  async cleanup(id: string): Promise<void> {
    await rm(join(this.instancesDir, id), { recursive: true, force: true });
  }

  /** Remove folders of instances from an earlier run (their processes died with it). */
  async recover(): Promise<void> {
    await rm(this.instancesDir, { recursive: true, force: true });
    await mkdir(this.instancesDir, { recursive: true });
  }
}
