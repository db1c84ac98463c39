import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipDirectory } from '../../src/artifacts/zip-directory.js';
import { fromPackageRoot } from '../../src/shared/paths.js';

export const CLI = fromPackageRoot('bin', 'modelfn.js');

export interface RunningPlatform {
  readonly url: string;
  readonly dataDir: string;
  readonly proc: ChildProcess;
  /** Its instances run in bubblewrap sandboxes (the start-up banner says so). */
  readonly sandboxed: boolean;
  /** Everything the platform printed so far. */
  output(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit (the data directory is kept). */
  kill9(): Promise<void>;
  /** Stop if running and remove the data directory. */
  cleanup(): Promise<void>;
}

export interface StartOptions {
  readonly args?: readonly string[];
  readonly env?: Record<string, string>;
  /** Reuse a data directory (restart after a crash). */
  readonly dataDir?: string;
  /** Require signed requests (the default of a real platform); tests that exercise auth set it. */
  readonly auth?: boolean;
  /**
   * Sandbox the instances with bubblewrap (--sandbox bwrap; the caller checks need(t,
   * requirements.bwrap)). Off by default: most suites' fixtures report to the test through files
   * under the host's /tmp, which a sandboxed function cannot see; the sandbox suites
   * (test/e2e/sandbox-*.test.ts) run every runtime sandboxed.
   */
  readonly sandbox?: boolean;
  /** How long the platform may take to come up (default 20 s). */
  readonly startTimeoutMs?: number;
}

/** Start a real platform process on a free port with its own data directory. */
export async function startPlatform(options: StartOptions = {}): Promise<RunningPlatform> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'modelfn-test-')));
  const auth = options.auth ? [] : ['--auth', 'none'];
  // MODELFN_TEST_SANDBOX=1 runs every suite sandboxed (fixtures that report through host files then fail).
  const sandboxed = options.sandbox === true || process.env.MODELFN_TEST_SANDBOX === '1';
  const proc = spawn(process.execPath, [CLI, 'up', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn', '--sandbox', sandboxed ? 'bwrap' : 'none', ...auth, ...(options.args ?? [])], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const up = new Promise<string>((resolve, reject) => {
    const limitMs = options.startTimeoutMs ?? 20_000;
    const timer = setTimeout(() => reject(new Error(`platform did not start in ${limitMs / 1000} s:\n${out}`)), limitMs);
    const check = () => {
      const m = /modelfn is up at (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    proc.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`platform exited with ${code} before it was up:\n${out}`));
    });
  });
  let url: string;
  try {
    url = await up;
  } catch (err) {
    // A platform that never came up is still this test's process: stop it and remove its data, or
    // it outlives the test (and keeps the test file from ending).
    proc.kill('SIGKILL');
    await exited;
    if (!options.dataDir) await removeTree(dataDir);
    throw err;
  }
  let running = true;
  void exited.then(() => (running = false));
  const platform: RunningPlatform = {
    url,
    dataDir,
    proc,
    sandboxed,
    output: () => out,
    stop: async () => {
      if (running) proc.kill('SIGTERM');
      return exited;
    },
    kill9: async () => {
      if (running) proc.kill('SIGKILL');
      await exited;
    },
    cleanup: async () => {
      if (running) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      if (!options.dataDir) await removeTree(dataDir);
    },
  };
  return platform;
}

/** Unpacked bundles are read-only: make them writable, then remove. */
export async function removeTree(path: string): Promise<void> {
  await new Promise<void>((resolve) => {
    const chmod = spawn('chmod', ['-R', 'u+w', path], { stdio: 'ignore' });
    chmod.once('exit', () => resolve());
    chmod.once('error', () => resolve());
  });
  await rm(path, { recursive: true, force: true });
}

export interface DeployRequest {
  readonly runtime?: string;
  readonly handler?: string;
  readonly memoryMb?: number;
  readonly timeoutSec?: number;
  readonly environment?: Record<string, string>;
  readonly reservedConcurrency?: number | null;
  readonly keepAliveSec?: number | null;
  readonly routes?: Array<{ method: string; path: string; payloadFormat?: string; qualifier?: string }>;
  readonly network?: 'allow' | 'deny';
  readonly tmpSizeMb?: number;
}

/** Deploy a folder through the modelfn API (what the CLI does). */
export async function deployDir(url: string, name: string, dir: string, spec: DeployRequest = {}): Promise<Response> {
  const zip = await zipDirectory(dir);
  return deployZip(url, name, zip, spec);
}

export async function deployZip(url: string, name: string, zip: Buffer, spec: DeployRequest = {}): Promise<Response> {
  const upload = await fetch(`${url}/_modelfn/v1/bundles`, { method: 'POST', body: zip, headers: { 'content-type': 'application/zip' } });
  if (upload.status !== 201) return upload;
  const { sha256 } = (await upload.json()) as { sha256: string };
  return fetch(`${url}/_modelfn/v1/functions/${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ runtime: 'nodejs20.x', handler: 'index.handler', ...spec, code: { sha256 } }),
  });
}

/** Deploy and insist it worked. */
export async function mustDeploy(url: string, name: string, dir: string, spec: DeployRequest = {}): Promise<void> {
  const res = await deployDir(url, name, dir, spec);
  if (res.status !== 200 && res.status !== 201) throw new Error(`deploy ${name} failed: ${res.status} ${await res.text()}`);
}

export function fixture(...parts: string[]): string {
  return fromPackageRoot('test', 'fixtures', ...parts);
}

/** Lambda Invoke through the platform. */
export async function invoke(url: string, name: string, event: unknown = {}, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: string; json: () => unknown }> {
  const res = await fetch(`${url}/2015-03-31/functions/${name}/invocations`, {
    method: 'POST',
    body: typeof event === 'string' ? event : JSON.stringify(event),
    headers,
  });
  const body = await res.text();
  return { status: res.status, headers: res.headers, body, json: () => JSON.parse(body) as unknown };
}

/** Run the CLI against a platform. */
export function cli(url: string, args: readonly string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, MODELFN_ENDPOINT: url }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.stdin.end(input ?? '');
    proc.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll until check() is truthy (or fail after timeoutMs). */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * Function instances of one platform: processes started with an instance's environment (their
 * TMPDIR is under the data directory), or working in one of its unpacked bundles (a stem cell or a
 * forked Python instance took the function's environment and folder after it started). Sandboxed
 * instances work in /var/task inside their sandbox: they are the processes there (not bwrap's own
 * pid 1, not a forked instance's placeholder) whose /var/task is mounted from this data directory.
 * Host pids, whatever pid the function sees inside its sandbox.
 */
export async function instancePids(dataDir: string): Promise<number[]> {
  const { readdir, readFile, readlink } = await import('node:fs/promises');
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => '');
      const status = await readFile(`/proc/${entry}/status`, 'utf8');
      const sandboxed = /^NSpid:\s+\d+\s+\d+/m.test(status);
      if (sandboxed) {
        const name = /^Name:\s+(\S+)/m.exec(status)?.[1] ?? '';
        if (cwd !== '/var/task' || name === 'bwrap' || name === 'sleep' || /^State:\s+Z/m.test(status)) continue;
        const mounts = await readFile(`/proc/${entry}/mountinfo`, 'utf8');
        // "id parent major:minor root mount-point ...": root is the mounted folder's path on its file system.
        const task = mounts.split('\n').map((line) => line.split(' ')).find((f) => f[4] === '/var/task');
        if (task && (task[3]!.startsWith(`${dataDir}/`) || dataDir.endsWith(task[3]!.split('/unpacked/')[0]!.split('/instances/')[0]!))) pids.push(Number(entry));
        continue;
      }
      const environ = await readFile(`/proc/${entry}/environ`, 'utf8');
      if (environ.includes(`TMPDIR=${dataDir}/instances/`) || cwd.startsWith(`${dataDir}/unpacked/`)) pids.push(Number(entry));
    } catch {
      /* gone or not ours */
    }
  }
  return pids;
}

export interface ProcessVitals {
  readonly rssKb: number;
  readonly fds: number;
  readonly tcpFds: number;
}

/**
 * A process's RSS, its open descriptors, and of those its TCP sockets (the listener and the
 * clients' connections). Instances' pipes and channels (unix sockets) come and go as the
 * scheduler starts and reaps instances, which a busy machine makes it do more: what a client
 * leaves behind shows in the TCP count.
 */
export async function processVitals(pid: number): Promise<ProcessVitals> {
  const { readdir, readFile, readlink } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const names = await readdir(`/proc/${pid}/fd`);
  const sockets = new Set<string>();
  for (const name of names) {
    const link = await readlink(`/proc/${pid}/fd/${name}`).catch(() => '');
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
    if (inode !== undefined) sockets.add(inode);
  }
  let tcpFds = 0;
  for (const table of ['tcp', 'tcp6']) {
    const text = await readFile(`/proc/${pid}/net/${table}`, 'utf8').catch(() => '');
    // Columns: sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
    for (const line of text.split('\n').slice(1)) {
      const inode = line.trim().split(/\s+/)[9];
      if (inode !== undefined && sockets.has(inode)) tcpFds++;
    }
  }
  return { rssKb, fds: names.length, tcpFds };
}
