import { readdirSync, readFileSync } from 'node:fs';

/**
 * Host-side views of processes through /proc (Linux): children, and the parts of
 * /proc/<pid>/status the platform reads. Synchronous reads of /proc cost microseconds; every
 * function here returns nothing (undefined, []) for a process that is gone.
 */

/** Direct children of a process (a child is listed under the thread that forked it: every thread is read). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1');
      for (const part of text.split(' ')) if (part.trim() !== '') out.push(Number(part));
    } catch {
      /* the thread ended meanwhile */
    }
  }
  return out;
}

/** The process and every descendant, parents first (bounded, so a fork bomb cannot make it run away). */
export function descendantsOf(root: number, max = 4096): number[] {
  const seen: number[] = [root];
  for (let i = 0; i < seen.length && seen.length < max; i++) {
    for (const child of childrenOf(seen[i]!)) {
      if (seen.length >= max) break;
      seen.push(child);
    }
  }
  return seen;
}

export interface ProcStatus {
  readonly ppid: number;
  /** Pids from the host's namespace inward: [hostPid, ..., innermostPid]. */
  readonly nsPids: readonly number[];
  readonly rssKb: number;
  readonly hwmKb: number;
}

export function readStatus(pid: number): ProcStatus | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return undefined;
  }
  return {
    ppid: numberField(text, 'PPid:'),
    nsPids: listField(text, 'NSpid:'),
    rssKb: numberField(text, 'VmRSS:'),
    hwmKb: numberField(text, 'VmHWM:'),
  };
}

/** Whether a process runs inside a PID namespace below the platform's (a sandbox). */
export function inChildPidNamespace(status: ProcStatus): boolean {
  return status.nsPids.length > 1;
}

/** Whether a process is the init (pid 1) of its own PID namespace. */
export function isNamespaceInit(status: ProcStatus): boolean {
  return status.nsPids.length > 1 && status.nsPids[status.nsPids.length - 1] === 1;
}

function numberField(text: string, name: string): number {
  const at = text.indexOf(name);
  if (at < 0) return 0;
  return Number.parseInt(text.slice(at + name.length).trimStart(), 10) || 0;
}

function listField(text: string, name: string): number[] {
  const at = text.indexOf(name);
  if (at < 0) return [];
  const end = text.indexOf('\n', at);
  return text
    .slice(at + name.length, end < 0 ? undefined : end)
    .trim()
    .split(/\s+/)
    .filter((v) => v !== '')
    .map(Number);
}

/**
 * Resident memory of an instance's whole process tree, in KB: the process, everything it started
 * and, when it runs in a sandbox, every process left in the sandbox (orphans are re-parented to
 * the sandbox's pid 1, which is the platform's helper and not counted). The peak is the larger of
 * the process's own high-water mark and this sum.
 */
export function treeMemory(pid: number): { rssKb: number; hwmKb: number } | undefined {
  const self = readStatus(pid);
  if (!self) return undefined;
  let root = pid;
  if (inChildPidNamespace(self) && self.ppid > 0) {
    const parent = readStatus(self.ppid);
    if (parent && isNamespaceInit(parent) && parent.nsPids.length === self.nsPids.length) root = self.ppid;
  }
  let rssKb = 0;
  for (const member of descendantsOf(root, 1024)) {
    if (member === root && root !== pid) continue;
    rssKb += member === pid ? self.rssKb : (readStatus(member)?.rssKb ?? 0);
  }
  return { rssKb, hwmKb: self.hwmKb };
}
