import type { Socket } from 'node:net';
import { dirname } from 'node:path';
import { SupervisedProcess } from '../process/child-process.js';
import type { InstanceLogLine } from '../runtime.js';
import { fromPackageRoot } from '../../shared/paths.js';
import { RUNTIME_ROOT, esmMarker, executableMounts } from '../sandbox/sandbox.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import { processLimits } from '../sandbox/limits.js';
import { FrameDecoder } from './bootstrap/frames.js';
import type { Frame } from './bootstrap/frames.js';

export const BOOTSTRAP = fromPackageRoot('dist', 'src', 'runtimes', 'nodejs', 'bootstrap', 'index.js');
/** The bootstrap's folder inside a sandbox. */
const SANDBOX_BOOTSTRAP_DIR = `${RUNTIME_ROOT}/nodejs/bootstrap`;

/** V8's old-space cap for a memory size: most runaway allocations stay inside the function's memory. */
export function heapMbFor(memoryMb: number): number {
  return Math.max(32, Math.floor(memoryMb * 0.85));
}

/** Where a Node.js process runs: its own sandbox (the code or a stem cell's empty folder at /var/task), or none. */
export interface NodeSandboxing {
  readonly sandbox: Sandbox;
  /** Host folder shown at /var/task. */
  readonly taskDir: string;
  readonly network: 'allow' | 'deny';
  readonly tmpSizeMb: number;
}

/**
 * A Node.js runtime process (the bootstrap) and its frame channel: fd 3 carries frames to the
 * runtime, fd 4 frames from it. Two sockets, not one: a write to a process that just died fails
 * (EPIPE) and Node then destroys that socket, unread data and all; the answers the process wrote
 * before it died decide which pipelined calls ran, so they travel on a socket the platform never
 * writes to and is read to its end. Frames and output go to whoever owns the process now: a stem
 * cell while it waits, then the instance it became.
 */
export class NodeProcess {
  readonly proc: SupervisedProcess;
  /** Platform -> runtime. */
  readonly channel: Socket;
  /** Runtime -> platform. */
  readonly answers: Socket;
  onFrame: (frame: Frame) => void = () => undefined;
  onLog: (line: InstanceLogLine) => void = () => undefined;

  constructor(nodePath: string, memoryMb: number, cwd: string, runtimeEnv: Readonly<Record<string, string>>, sandboxing?: NodeSandboxing) {
    const env = { ...runtimeEnv, MODELFN_CHANNEL_FD: '3', MODELFN_ANSWER_FD: '4' };
    // The RSS watchdog covers native memory (Buffers) that the heap cap does not see.
    const flags = [`--max-old-space-size=${heapMbFor(memoryMb)}`, '--enable-source-maps'];
    const onLog = (line: InstanceLogLine) => this.onLog(line);
    this.proc = sandboxing
      ? sandboxing.sandbox.spawn({
          taskDir: sandboxing.taskDir,
          mounts: [...executableMounts(nodePath), { source: dirname(BOOTSTRAP), target: SANDBOX_BOOTSTRAP_DIR }, esmMarker(RUNTIME_ROOT)],
          network: sandboxing.network,
          tmpSizeMb: sandboxing.tmpSizeMb,
          limits: processLimits('nodejs', memoryMb, sandboxing.tmpSizeMb),
          command: nodePath,
          args: [...flags, `${SANDBOX_BOOTSTRAP_DIR}/index.js`],
          cwd,
          env,
          extraPipes: 2,
          onLog,
        })
      : new SupervisedProcess({ command: nodePath, args: [...flags, BOOTSTRAP], cwd, env, extraPipes: 2, onLog });
    this.channel = this.proc.child.stdio[3] as Socket;
    this.answers = this.proc.child.stdio[4] as Socket;
    const decoder = new FrameDecoder((frame) => this.onFrame(frame));
    this.answers.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk);
      } catch {
        // A corrupted channel means the process is not a trustworthy runtime any more.
        this.proc.kill();
      }
    });
    this.channel.on('error', () => this.proc.kill());
    this.answers.on('error', () => this.proc.kill());
  }
}
