import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The OS scheduling class of instance processes.
 *
 * - 'batch' (default on Linux where chrt exists): instances run under SCHED_BATCH. They get the
 *   same CPU share as before (same nice value), but a woken instance no longer preempts the
 *   process that woke it. Why it matters: every invocation wakes an instance from the gateway's
 *   write to its channel; under SCHED_OTHER the kernel hands the CPU to the woken instance at once,
 *   in the middle of the gateway's turn, and every request pays two extra context switches. With
 *   batch the gateway finishes its turn (often writing to several instances) and the instances
 *   run after it. Measured on the 2-core bench machine: warm throughput +30-40 % at 32
 *   connections, gateway CPU per request -13-20 % (`npm run bench core`).
 * - 'normal': SCHED_OTHER, the OS default (for hosts where interactive latency of the function
 *   code matters more than throughput, or without chrt).
 *
 * Set once per platform process (`configureInstanceScheduling`): one platform runs per process and
 * the class is a property of how this host runs instances, so it is not threaded through every
 * runtime. The class is set by exec'ing the runtime through `chrt --batch 0` (util-linux): it is
 * inherited by everything the instance forks (a sandbox's processes, the Python zygote's
 * children), and chrt execs in place, so the pid the platform watches is the runtime's.
 */
export type InstanceScheduling = 'batch' | 'normal';

export const INSTANCE_SCHEDULING: readonly InstanceScheduling[] = ['batch', 'normal'];

let prefix: readonly string[] = [];
let active: InstanceScheduling = 'normal';

/** What `configureInstanceScheduling` settled on, and why (the start-up log says it). */
export interface SchedulingOutcome {
  readonly scheduling: InstanceScheduling;
  readonly detail: string;
}

/** Find an executable: an absolute path as given, else the first match on PATH. */
function findExecutable(name: string, path: string | undefined): string | undefined {
  const candidates = name.includes('/') ? [name] : [join('/usr/bin', name), ...(path ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, name))];
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/**
 * Choose the scheduling class of every instance started from now on. 'batch' needs Linux, chrt,
 * and a kernel (and seccomp profile) that lets a process switch itself to SCHED_BATCH: chrt is
 * tried once here, so that a refusal costs one warning at start-up, not every instance start.
 * Without any of them the platform runs instances under 'normal' and says so.
 */
export function configureInstanceScheduling(wanted: InstanceScheduling, chrt = 'chrt', env: NodeJS.ProcessEnv = process.env): SchedulingOutcome {
  if (wanted === 'normal') {
    prefix = [];
    active = 'normal';
    return { scheduling: 'normal', detail: 'instances run under the default scheduling class (SCHED_OTHER)' };
  }
  const found = process.platform === 'linux' ? findExecutable(chrt, env.PATH) : undefined;
  if (!found) {
    prefix = [];
    active = 'normal';
    return { scheduling: 'normal', detail: process.platform === 'linux' ? `${chrt} not found (util-linux): instances run under SCHED_OTHER` : 'SCHED_BATCH is Linux only: instances run under the default class' };
  }
  const tried = spawnSync(found, ['--batch', '0', 'true'], { encoding: 'utf8', timeout: 10_000 });
  if (tried.error || tried.status !== 0) {
    prefix = [];
    active = 'normal';
    const why = tried.error?.message ?? (tried.stderr.trim().split('\n')[0] || `exit status ${tried.status}`);
    return { scheduling: 'normal', detail: `${found} --batch 0 failed here (${why}): instances run under SCHED_OTHER` };
  }
  prefix = [found, '--batch', '0'];
  active = 'batch';
  return { scheduling: 'batch', detail: `instances run under SCHED_BATCH (${found})` };
}

/** The scheduling class instances get now. */
export function instanceScheduling(): InstanceScheduling {
  return active;
}

/** The command line that starts `command args` under the configured class. */
export function scheduled(command: string, args: readonly string[]): { command: string; args: string[] } {
  if (prefix.length === 0) return { command, args: [...args] };
  return { command: prefix[0]!, args: [...prefix.slice(1), command, ...args] };
}
