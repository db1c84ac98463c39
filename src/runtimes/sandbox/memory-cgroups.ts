import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Hard memory caps per sandbox from the kernel's memory controller, where this process may write
 * its cgroup: cgroup v2 (`memory.max`, no swap, `memory.oom.group`: the whole instance goes) or
 * cgroup v1 (`memory.limit_in_bytes`, and `memory.memsw.limit_in_bytes` where swap accounting is
 * on). Unlike the RSS watchdog (a 200 ms sample) and RLIMIT_DATA (per process, private memory
 * only), the kernel's limit holds at every allocation, for every process of the sandbox and for
 * what it writes to its tmpfs /tmp, so the cap is the memory size plus the /tmp size; the memory
 * size itself stays the watchdog's (resident memory, as Lambda measures it).
 *
 * The platform's cgroups live under its own: <own cgroup>/modelfn-<pid>-<hex>/i<n>, one per sandbox,
 * removed when the sandbox ends (and, for a platform that died, at the next start).
 */
export class MemoryCgroups {
  private next = 0;

  private constructor(
    readonly version: 1 | 2,
    private readonly root: string,
  ) {}

  /** A cgroup hierarchy this process can use, or the reason there is none. */
  static open(): MemoryCgroups | string {
    const own = ownCgroups();
    const v1 = own.get('memory');
    const v2 = own.get('');
    let base: string | undefined;
    let version: 1 | 2;
    if (v1 !== undefined && existsSync(join('/sys/fs/cgroup/memory', v1, 'memory.limit_in_bytes'))) {
      base = join('/sys/fs/cgroup/memory', v1);
      version = 1;
    } else if (v2 !== undefined && existsSync('/sys/fs/cgroup/cgroup.controllers')) {
      base = join('/sys/fs/cgroup', v2);
      version = 2;
      if (!readText(join(base, 'cgroup.controllers')).split(/\s+/).includes('memory')) return `the memory controller is not delegated to ${base}`;
    } else {
      return 'no memory cgroup (neither cgroup v1 memory nor cgroup v2 is mounted at /sys/fs/cgroup)';
    }
    removeStale(base);
    // The pid tells a stale cgroup (its platform is gone) from a live one; the suffix keeps two
    // platforms of one process (tests) apart.
    const root = join(base, `modelfn-${process.pid}-${randomBytes(3).toString('hex')}`);
    try {
      mkdirSync(root);
      if (version === 2) {
        // v2: a parent hands the controller to its children; the platform's own cgroup holds
        // processes, so it can only do that when it is a cgroup root (the container's) or empty.
        writeFileSync(join(base, 'cgroup.subtree_control'), '+memory');
        writeFileSync(join(root, 'cgroup.subtree_control'), '+memory');
      }
    } catch (err) {
      try {
        rmdirSync(root);
      } catch {
        /* never made */
      }
      return `${base} is not writable here (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
    }
    const cgroups = new MemoryCgroups(version, root);
    // A test cgroup: the limit files must take a value, or none of it works.
    const probe = cgroups.create(64);
    if (!probe) return `cannot set memory limits under ${root}`;
    probe.removeNow();
    return cgroups;
  }

  get description(): string {
    return this.version === 2 ? `cgroup v2 memory.max under ${this.root}` : `cgroup v1 memory.limit_in_bytes under ${this.root}`;
  }

  /** A new cgroup capped at `limitMb`, or undefined when the kernel refused. */
  create(limitMb: number): MemoryCgroup | undefined {
    const path = join(this.root, `i${++this.next}`);
    const bytes = String(limitMb * 1024 * 1024);
    try {
      mkdirSync(path);
      if (this.version === 2) {
        writeFileSync(join(path, 'memory.max'), bytes);
        tryWrite(join(path, 'memory.swap.max'), '0');
        tryWrite(join(path, 'memory.oom.group'), '1');
      } else {
        writeFileSync(join(path, 'memory.limit_in_bytes'), bytes);
        // Where swap is accounted, memory + swap gets the same cap: no escape into swap.
        tryWrite(join(path, 'memory.memsw.limit_in_bytes'), bytes);
      }
      return new MemoryCgroup(path, this.version);
    } catch {
      try {
        rmdirSync(path);
      } catch {
        /* never made */
      }
      return undefined;
    }
  }

  /** Remove the platform's cgroup (every sandbox has ended). */
  close(): void {
    for (const name of readDir(this.root)) if (/^i\d+$/.test(name)) tryRmdir(join(this.root, name));
    tryRmdir(this.root);
  }
}

/** One sandbox's cgroup. */
export class MemoryCgroup {
  constructor(
    readonly path: string,
    private readonly version: 1 | 2,
  ) {}

  /** The file a process writes its pid to, to join (the Python zygote's waiter does, before it forks the instance). */
  get procsFile(): string {
    return join(this.path, 'cgroup.procs');
  }

  /** Move a process in; what it forks from now on is in too. */
  add(pid: number): Promise<void> {
    return writeFile(this.procsFile, String(pid));
  }

  /** Whether the kernel killed a process of this cgroup for going over its limit. */
  oomKilled(): boolean {
    const text = readText(join(this.path, this.version === 2 ? 'memory.events' : 'memory.oom_control'));
    const count = /^oom_kill (\d+)$/m.exec(text)?.[1];
    if (count !== undefined) return Number(count) > 0;
    // Kernels before 4.13 have no oom_kill count in v1: the limit was hit at least.
    return Number(readText(join(this.path, 'memory.failcnt')) || '0') > 0;
  }

  /** Remove it once its processes are gone (they may take a moment to be reaped). */
  async remove(): Promise<void> {
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        await rmdir(this.path);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  removeNow(): void {
    tryRmdir(this.path);
  }
}

/** controller list ('' for v2) -> path, from /proc/self/cgroup. */
function ownCgroups(): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readText('/proc/self/cgroup').split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    for (const controller of m[1]!.split(',')) out.set(controller, m[2]!);
  }
  return out;
}

/** Cgroups left by platforms that are gone (a kill -9): removed, with their empty children. */
function removeStale(base: string): void {
  for (const name of readDir(base)) {
    const m = /^modelfn-(\d+)(?:-[0-9a-f]+)?$/.exec(name);
    if (!m || existsSync(`/proc/${m[1]}`)) continue;
    const dir = join(base, name);
    for (const child of readDir(dir)) if (/^i\d+$/.test(child)) tryRmdir(join(dir, child));
    tryRmdir(dir);
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function readDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

function tryWrite(path: string, value: string): void {
  try {
    writeFileSync(path, value);
  } catch {
    /* optional knob this kernel lacks */
  }
}

function tryRmdir(path: string): void {
  try {
    rmdirSync(path);
  } catch {
    /* busy or gone */
  }
}
