import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromPackageRoot } from '../../src/shared/paths.js';

export interface Server {
  readonly url: string;
  readonly proc: ChildProcess;
  stop(): Promise<void>;
}

/** Start a process that prints a line matching `ready` with the URL in group 1. */
export function startServer(args: string[], ready: RegExp, env: Record<string, string> = {}, cleanup?: () => Promise<void>): Promise<Server> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = ready.exec(out);
      if (m) {
        proc.stdout!.off('data', onData);
        // Keep draining: a server whose stdout pipe fills up blocks on its next log line.
        proc.stdout!.resume();
        resolve({
          url: m[1]!,
          proc,
          stop: async () => {
            // Already gone (it crashed, or was stopped before): there is no 'exit' left to wait for.
            if (proc.exitCode !== null || proc.signalCode !== null) return cleanup?.();
            const exited = new Promise((r) => proc.once('exit', r));
            proc.kill('SIGTERM');
            const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
            await exited;
            clearTimeout(timer);
            await cleanup?.();
          },
        });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    proc.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });
}

/** A modelfn platform on a free port with a fresh data directory (sandboxed where bubblewrap works, as by default). */
export async function startPlatform(env: Record<string, string> = {}, args: string[] = []): Promise<Server & { dataDir: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'modelfn-bench-'));
  const server = await startServer(
    // As the bin's shebang and `npm start` run it (bin/modelfn.js says why).
    ['--max-semi-space-size=64', fromPackageRoot('bin', 'modelfn.js'), 'up', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn', '--auth', 'none', '--allow-unsandboxed', ...args],
    /modelfn is up at (http:\/\/\S+)/,
    env,
    async () => {
      spawn('chmod', ['-R', 'u+w', dataDir]).once('exit', () => undefined);
      await new Promise((r) => setTimeout(r, 200));
      await rm(dataDir, { recursive: true, force: true });
    },
  );
  return { ...server, dataDir };
}
