import { writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import { SupervisedProcess } from '../process/child-process.js';
import type { SpawnSpec } from '../process/child-process.js';
import type { InstanceExit } from '../runtime.js';
import { SANDBOX_GID, SANDBOX_UID } from './bwrap-args.js';
import type { MemoryCgroup } from './memory-cgroups.js';
import { childrenOf } from './process-tree.js';

/** Host pids of a running sandbox. */
export interface SandboxPids {
  /** The sandbox's pid 1 (bwrap's reaper): leader of the session everything inside belongs to. */
  readonly init: number;
  /** The runtime process the sandbox was started for (pid 2 inside). */
  readonly runtime: number;
}

export interface SandboxHandshake {
  /** fd on which bwrap writes {"child-pid": N}. */
  readonly infoFd: number;
  /** Root mode: the fd bwrap waits on, and the host uid/gid the sandbox user maps to. */
  readonly root?: { readonly blockFd: number; readonly hostId: number };
  /**
   * The sandbox's memory cgroup: its pid 1 joins before anything of the instance runs (root mode:
   * bwrap waits for the uid maps; otherwise as soon as its pid is known, and the runtime too).
   */
  readonly cgroup?: MemoryCgroup;
}

/** How long the runtime process may take to appear once bwrap has cloned (mounts are set up first). */
const RUNTIME_APPEAR_MS = 10_000;

/**
 * A process started inside a bubblewrap sandbox. The spawned program is bwrap (its own process
 * group, like every runtime process); inside, bwrap's pid 1 leads a new session and the runtime
 * is pid 2. `pid` is the runtime's host pid once known (memory and CPU are read there), `kill()`
 * reaches bwrap, the sandbox's pid 1 and so, through the PID namespace, everything inside, however
 * it detached itself. bwrap reports a runtime killed by signal N as exit status 128+N: it is read
 * back as that signal.
 */
export class SandboxedProcess extends SupervisedProcess {
  /** Resolves once the runtime process exists (rejects if the sandbox ends first). */
  readonly started: Promise<SandboxPids>;
  private pids: SandboxPids | undefined;
  private init: number | undefined;

  /** The sandbox's memory cgroup, if it has one. */
  readonly cgroup: MemoryCgroup | undefined;

  constructor(spec: SpawnSpec, handshake: SandboxHandshake) {
    // A runtime killed by the kernel's memory cgroup reads as out of memory.
    super({ ...spec, mapExit: (exit) => outOfMemory(signalFromStatus(exit), handshake.cgroup) });
    this.cgroup = handshake.cgroup;
    void this.exited.then(() => handshake.cgroup?.remove());
    this.started = new Promise<SandboxPids>((resolve, reject) => {
      const info = this.child.stdio[handshake.infoFd] as Socket | null;
      const block = handshake.root ? (this.child.stdio[handshake.root.blockFd] as Socket | null) : null;
      block?.on('error', () => undefined);
      if (!info) {
        reject(new Error('the sandbox has no info channel'));
        return;
      }
      let text = '';
      let known = false;
      info.on('error', () => undefined);
      info.on('data', (chunk: Buffer) => {
        if (known) return;
        text += chunk.toString('utf8');
        let init: number;
        try {
          init = (JSON.parse(text) as { 'child-pid': number })['child-pid'];
        } catch {
          return; // not complete yet
        }
        known = true;
        this.init = init;
        this.setUp(init, handshake, block).then(
          (pids) => {
            this.pids = pids;
            resolve(pids);
          },
          (err: unknown) => {
            this.kill();
            reject(err as Error);
          },
        );
      });
      void this.exited.then(() => reject(new Error('the sandbox exited')));
    });
    this.started.catch(() => undefined);
  }

  /**
   * Once bwrap has cloned the sandbox's pid 1: its cgroup, then (root mode) the uid maps that let
   * bwrap go on, then the runtime's pid. Joining a cgroup runs on the thread pool: the first move
   * of a process takes about 12 ms (cgroup v1 waits for an RCU grace period), too long for the
   * event loop.
   */
  private async setUp(init: number, handshake: SandboxHandshake, block: Socket | null): Promise<SandboxPids> {
    await handshake.cgroup?.add(init);
    if (handshake.root) {
      // Root inside maps to host root for bwrap's own set-up (reading the code and runtime
      // files); the function's uid maps to an unprivileged host uid of this sandbox alone.
      const map = `0 0 1\n${SANDBOX_UID} ${handshake.root.hostId} 1\n`;
      writeFileSync(`/proc/${init}/uid_map`, map);
      writeFileSync(`/proc/${init}/gid_map`, map.replace(String(SANDBOX_UID), String(SANDBOX_GID)));
      block?.end('1');
    }
    const runtime = await this.findRuntime(init);
    if (runtime === undefined) throw new Error('the sandbox ended before its runtime started');
    // Unprivileged mode: bwrap may have started the runtime before its pid 1 joined.
    if (!handshake.root) await handshake.cgroup?.add(runtime).catch(() => undefined);
    return { init, runtime };
  }

  override get pid(): number | undefined {
    return this.pids?.runtime;
  }

  /** The Runtime API accepts the runtime's connections and those of the sandbox's session. */
  get peerOwner(): Promise<{ pid: number; session: number }> {
    return this.started.then((p) => ({ pid: p.runtime, session: p.init }));
  }

  /** The sandbox's pid 1, once bwrap has reported it. */
  get sandboxInit(): number | undefined {
    return this.init;
  }

  override kill(): void {
    super.kill();
    const init = this.init;
    if (init === undefined) return;
    for (const target of [-init, init]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        /* gone already */
      }
    }
  }

  private async findRuntime(init: number): Promise<number | undefined> {
    const deadline = Date.now() + RUNTIME_APPEAR_MS;
    for (let wait = 1; ; wait = Math.min(wait * 2, 20)) {
      const [runtime] = childrenOf(init);
      if (runtime !== undefined) return runtime;
      if (this.hasExited || Date.now() > deadline) return undefined;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

function outOfMemory(exit: InstanceExit, cgroup: MemoryCgroup | undefined): InstanceExit {
  return exit.signal === 'SIGKILL' && cgroup?.oomKilled() ? { ...exit, outOfMemory: true } : exit;
}

/** bwrap exits 128+N when its runtime died of signal N (as shells report it). */
function signalFromStatus(exit: InstanceExit): InstanceExit {
  if (exit.signal || exit.code === null || exit.code <= 128 || exit.code > 128 + 64) return exit;
  const number = exit.code - 128;
  const name = Object.entries(constants.signals).find(([, n]) => n === number)?.[0] as NodeJS.Signals | undefined;
  return name ? { code: null, signal: name } : exit;
}
