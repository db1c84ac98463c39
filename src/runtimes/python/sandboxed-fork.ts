import type { InstanceExit } from '../runtime.js';
import type { ProcessHandle } from '../runtime-api/runtime-api-instance.js';
import type { PeerOwner } from '../runtime-api/peer-check.js';
import { childrenOf } from '../sandbox/process-tree.js';
import type { SandboxedProcess } from '../sandbox/sandboxed-process.js';
import type { ForkedProcess } from './forked-process.js';

/** How long the instance may take to appear once the zygote forked its waiter (it joins the sandbox first). */
const APPEAR_MS = 10_000;

/**
 * A forked Python instance inside its sandbox (modelfn_zygote.py, enter_sandbox): the zygote's
 * child (the waiter, in the zygote's session) joined the namespaces of the sandbox `holder` and
 * forked the instance, which runs there as the sandbox's unprivileged user. The exit is the
 * waiter's (it ends as the instance did); `pid` is the instance's own host pid once it exists
 * (memory and CPU are read there); a kill reaches the waiter's process group (the instance is in
 * it) and the sandbox, whose PID namespace takes everything else inside with it.
 */
export class SandboxedFork implements ProcessHandle {
  readonly peerOwner: Promise<PeerOwner>;
  private instancePid: number | undefined;
  private readonly exitInfo: Promise<InstanceExit>;

  constructor(
    private readonly waiter: ForkedProcess,
    private readonly holder: SandboxedProcess,
  ) {
    // The waiter leads the session: its own connections (the log streams, opened before it joins
    // the sandbox) and the instance's (found by the session scan) are accepted.
    this.peerOwner = Promise.resolve({ pid: waiter.pid, session: waiter.pid });
    void this.findInstance().then((pid) => (this.instancePid = pid));
    // Killed by the kernel at the sandbox's memory cap: out of memory, as for a fresh interpreter.
    this.exitInfo = waiter.exited.then((exit) => (exit.signal === 'SIGKILL' && holder.cgroup?.oomKilled() ? { ...exit, outOfMemory: true } : exit));
    void waiter.exited.then(() => holder.kill());
    void holder.exited.then(() => waiter.kill());
  }

  get pid(): number | undefined {
    return this.instancePid;
  }

  get hasExited(): boolean {
    return this.waiter.hasExited;
  }

  get exited(): Promise<InstanceExit> {
    return this.exitInfo;
  }

  kill(): void {
    this.waiter.kill();
    this.holder.kill();
  }

  private async findInstance(): Promise<number | undefined> {
    const deadline = Date.now() + APPEAR_MS;
    for (let wait = 1; ; wait = Math.min(wait * 2, 20)) {
      const [pid] = childrenOf(this.waiter.pid);
      if (pid !== undefined) return pid;
      if (this.waiter.hasExited || Date.now() > deadline) return undefined;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
