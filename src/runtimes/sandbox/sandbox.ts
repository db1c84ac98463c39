import { existsSync, lstatSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ModelfnError } from '../../shared/errors.js';
import { fromPackageRoot } from '../../shared/paths.js';
import { RUNTIME_ROOT, SANDBOX_UID, bwrapArgs } from './bwrap-args.js';
import type { HostLayout, ReadOnlyMount, SandboxLayout } from './bwrap-args.js';
import type { SpawnSpec } from '../process/child-process.js';
import { MemoryCgroups } from './memory-cgroups.js';
import { SandboxedProcess } from './sandboxed-process.js';

export type SandboxMode = 'auto' | 'bwrap' | 'none';

export interface SandboxSettings {
  /** auto: bwrap when it works here; bwrap: required; none: no sandbox. */
  readonly mode: SandboxMode;
  /** With auto, start without a sandbox when bwrap does not work (else refuse to start). */
  readonly allowUnsandboxed: boolean;
  /** The bwrap binary (default /usr/bin/bwrap, else bwrap on PATH). */
  readonly bwrap?: string;
}

/**
 * What one sandboxed process needs: its sandbox, and the process as for a plain spawn (command
 * and cwd as seen inside; extraPipes are the runtime's own, the hand-shake fds come after them).
 */
export interface SandboxSpawn extends SandboxLayout, Omit<SpawnSpec, 'mapExit'> {}

/** Host uids of sandboxed functions when the platform is root: one per sandbox, from this range. */
const HOST_ID_BASE = 0x60000000;
const HOST_ID_RANGE = 0x01000000;

/** The platform's own files inside a sandbox (modelfn's passwd/group, an ES-module marker for runtime code). */
const FILES = fromPackageRoot('src', 'runtimes', 'sandbox', 'files');

/**
 * The platform's sandbox: bubblewrap around every process that runs a function's code or parses
 * a model (see bwrap-args.ts for what a sandbox sees), or none. Probed once at start: a real
 * sandbox is started (user, PID, IPC and UTS namespaces, the uid mapping, setpriv and prlimit),
 * so "enabled" means instances will start, not just that a binary exists.
 */
export class Sandbox {
  private nextHostId = Math.floor(Math.random() * HOST_ID_RANGE);

  private constructor(
    readonly enabled: boolean,
    /** One line for the start-up banner and logs. */
    readonly description: string,
    private readonly bwrap: string,
    private readonly host: HostLayout,
    private readonly root: boolean,
    /** Per-sandbox memory cgroups, where this process can write them. */
    private cgroups?: MemoryCgroups,
  ) {}

  /** No sandbox (unit tests and `--sandbox none`). */
  static none(reason = 'sandbox: none'): Sandbox {
    return new Sandbox(false, reason, '', { symlinks: {}, folders: [], etc: [] }, false);
  }

  /**
   * Decide from the settings and a probe. Throws ModelfnError (naming the fix) when a sandbox is
   * required or expected and cannot be had; returns a disabled sandbox only when none was asked
   * for, or unsandboxed operation was explicitly allowed.
   */
  static async open(settings: SandboxSettings): Promise<Sandbox> {
    if (settings.mode === 'none') return Sandbox.none('none (--sandbox none): functions run unsandboxed, as plain processes of the platform\'s user');
    const bwrap = settings.bwrap ?? findBwrap();
    const root = process.getuid?.() === 0;
    if (bwrap !== undefined) {
      const who = root ? 'an unprivileged host uid per sandbox' : `the platform's uid ${process.getuid?.() ?? '?'}`;
      const version = spawnSync(bwrap, ['--version'], { encoding: 'utf8' }).stdout?.trim();
      const sandbox = new Sandbox(
        true,
        `${version || 'bwrap'}: user, PID, IPC, UTS namespaces; uid ${SANDBOX_UID} inside (${who}); read-only code and runtime; private /tmp`,
        bwrap,
        hostLayout(),
        root,
      );
      const failure = await sandbox.probe();
      if (failure === undefined) {
        const cgroups = MemoryCgroups.open();
        if (typeof cgroups === 'string') {
          sandbox.memory = `memory: RSS watchdog and RLIMIT_DATA, no kernel cap (${cgroups})`;
        } else {
          sandbox.cgroups = cgroups;
          sandbox.memory = `memory: ${cgroups.description}`;
        }
        return sandbox;
      }
      return Sandbox.refuseOrNone(settings, failure);
    }
    return Sandbox.refuseOrNone(settings, 'bwrap is not installed (no /usr/bin/bwrap, none on PATH)');
  }

  private static refuseOrNone(settings: SandboxSettings, failure: string): Sandbox {
    const fix = 'install bubblewrap (sudo apt-get install -y bubblewrap)';
    if (settings.mode === 'auto' && settings.allowUnsandboxed) {
      return Sandbox.none(`NONE: ${failure}; functions run unsandboxed (allowed by --allow-unsandboxed); ${fix}`);
    }
    const how = settings.mode === 'bwrap' ? '--sandbox bwrap needs it' : 'refusing to run functions unsandboxed';
    throw new ModelfnError(
      'INVALID_PARAMETER',
      `no sandbox: ${failure}; ${how}. ${fix}, or start with --allow-unsandboxed (MODELFN_ALLOW_UNSANDBOXED=1) to run functions without one`,
    );
  }

  /** Why a real sandbox cannot start here (the sandbox the instances get, running /usr/bin/true), or undefined. */
  private async probe(): Promise<string | undefined> {
    // A plain bwrap first: the cheapest way to tell "cannot run at all" apart.
    const plain = spawnSync(this.bwrap, ['--ro-bind', '/', '/', 'true'], { encoding: 'utf8', timeout: 10_000 });
    if (plain.error) return `${this.bwrap} cannot run (${plain.error.message})`;
    if (plain.status !== 0) return `\`${this.bwrap} --ro-bind / / true\` failed: ${firstLine(plain.stderr)}`;
    let output = '';
    let proc: SandboxedProcess;
    try {
      proc = this.spawn({
        taskDir: FILES,
        mounts: [],
        network: 'deny',
        tmpSizeMb: 1,
        limits: { processes: 64, dataMb: 256 },
        command: '/usr/bin/true',
        args: [],
        cwd: '/',
        env: { PATH: '/usr/bin:/bin' },
        onLog: (line) => (output += `${line.text}\n`),
      });
    } catch (err) {
      return `a test sandbox could not be started: ${(err as Error).message}`;
    }
    const timer = setTimeout(() => proc.kill(), 10_000);
    const exit = await proc.exited;
    clearTimeout(timer);
    if (exit.code === 0) return undefined;
    return `a test sandbox failed (${exit.signal ?? `exit status ${exit.code}`}): ${firstLine(output) || 'no output'}`;
  }

  /** How memory is capped (the banner shows it after the description). */
  memory = '';

  /** Remove the platform's cgroups (after every sandbox has ended). */
  close(): void {
    this.cgroups?.close();
  }

  /** Start a process in its own sandbox. */
  spawn(request: SandboxSpawn): SandboxedProcess {
    if (!this.enabled) throw new Error('the sandbox is disabled');
    const own = request.extraPipes ?? 0;
    const infoFd = 3 + own;
    const blockFd = this.root ? infoFd + 1 : undefined;
    const args = bwrapArgs({
      taskDir: request.taskDir,
      mounts: request.mounts,
      apiDir: request.apiDir,
      network: request.network,
      tmpSizeMb: request.tmpSizeMb,
      limits: request.limits,
      host: this.host,
      infoFd,
      rootBlockFd: blockFd,
      cwd: request.cwd,
      command: request.command,
      args: request.args,
    });
    const cap = request.limits.memoryCapMb;
    const cgroup = cap !== undefined ? this.cgroups?.create(cap) : undefined;
    return new SandboxedProcess(
      { command: this.bwrap, args, cwd: '/', env: request.env, extraPipes: own + (this.root ? 2 : 1), onLog: request.onLog },
      { infoFd, ...(blockFd !== undefined ? { root: { blockFd, hostId: this.allocateHostId() } } : {}), ...(cgroup ? { cgroup } : {}) },
    );
  }

  /** The host uid of the next sandbox (root mode): distinct per live sandbox, never 0. */
  private allocateHostId(): number {
    this.nextHostId = (this.nextHostId + 1) % HOST_ID_RANGE;
    return HOST_ID_BASE + this.nextHostId;
  }
}

/** Mounts for an executable outside /usr (a Node.js or Python installed elsewhere): its whole prefix. */
export function executableMounts(path: string): ReadOnlyMount[] {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return [];
  }
  if (real.startsWith('/usr/')) return [];
  const prefix = dirname(dirname(real));
  return prefix === '/' ? [{ source: real }] : [{ source: prefix }];
}

/** An ES-module package marker at a runtime folder's root (its .js files are ES modules). */
export function esmMarker(folder: string): ReadOnlyMount {
  return { source: join(FILES, 'package.json'), target: join(folder, 'package.json') };
}

export { RUNTIME_ROOT };

function findBwrap(): string | undefined {
  if (existsSync('/usr/bin/bwrap')) return '/usr/bin/bwrap';
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir !== '' && existsSync(join(dir, 'bwrap'))) return join(dir, 'bwrap');
  }
  return undefined;
}

function firstLine(text: string | undefined): string {
  return (text ?? '').trim().split('\n')[0]?.slice(0, 300) ?? '';
}

/** The host's merged-/usr symlinks or real system folders, and the /etc entries worth showing. */
function hostLayout(): HostLayout {
  const symlinks: Record<string, string> = {};
  const folders: string[] = [];
  for (const top of ['/bin', '/sbin', '/lib', '/lib64', '/lib32', '/libx32']) {
    try {
      const info = lstatSync(top);
      if (info.isSymbolicLink()) symlinks[top] = readlinkSync(top);
      else if (info.isDirectory()) folders.push(top);
    } catch {
      /* not on this host */
    }
  }
  const etc: ReadOnlyMount[] = [
    { source: join(FILES, 'passwd'), target: '/etc/passwd' },
    { source: join(FILES, 'group'), target: '/etc/group' },
  ];
  const python = readdirSafe('/etc').filter((name) => /^python3(\.\d+)?$/.test(name));
  for (const name of ['resolv.conf', 'hosts', 'nsswitch.conf', 'host.conf', 'gai.conf', 'ld.so.cache', 'ld.so.conf', 'ld.so.conf.d', 'ssl', 'ca-certificates', 'ca-certificates.conf', 'alternatives', 'localtime', 'mime.types', ...python]) {
    const path = join('/etc', name);
    if (!existsSync(path)) continue;
    try {
      // A symlink (resolv.conf -> /run/...) is bound from its target, at the /etc name.
      etc.push({ source: realpathSync(path), target: path, optional: true });
    } catch {
      /* dangling */
    }
  }
  return { symlinks, folders, etc };
}

function readdirSafe(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}
