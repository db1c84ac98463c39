import type { Socket } from 'node:net';
import { SupervisedProcess } from '../process/child-process.js';
import type { InstanceLogLine } from '../runtime.js';
import { fromPackageRoot } from '../../shared/paths.js';
import { FrameDecoder } from './bootstrap/frames.js';
import type { Frame } from './bootstrap/frames.js';

export const BOOTSTRAP = fromPackageRoot('dist', 'src', 'runtimes', 'nodejs', 'bootstrap', 'index.js');

/** V8's old-space cap for a memory size: most runaway allocations stay inside the function's memory. */
export function heapMbFor(memoryMb: number): number {
  return Math.max(32, Math.floor(memoryMb * 0.85));
}

/**
 * A Node.js runtime process (the bootstrap) and its fd-3 frame channel. Frames and output go to
 * whoever owns the process now: a stem cell while it waits, then the instance it became.
 */
export class NodeProcess {
  readonly proc: SupervisedProcess;
  readonly channel: Socket;
  onFrame: (frame: Frame) => void = () => undefined;
  onLog: (line: InstanceLogLine) => void = () => undefined;

  constructor(nodePath: string, memoryMb: number, cwd: string, env: Readonly<Record<string, string>>) {
    // The RSS watchdog covers native memory (Buffers) that the heap cap does not see.
    this.proc = new SupervisedProcess({
      command: nodePath,
      args: [`--max-old-space-size=${heapMbFor(memoryMb)}`, '--enable-source-maps', BOOTSTRAP],
      cwd,
      env,
      extraPipes: 1,
      onLog: (line) => this.onLog(line),
    });
    this.channel = this.proc.child.stdio[3] as Socket;
    const decoder = new FrameDecoder((frame) => this.onFrame(frame));
    this.channel.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk);
      } catch {
        // A corrupted channel means the process is not a trustworthy runtime any more.
        this.proc.kill();
      }
    });
    this.channel.on('error', () => this.proc.kill());
  }
}
