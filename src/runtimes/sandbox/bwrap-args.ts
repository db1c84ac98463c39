/**
 * The bubblewrap command line of one sandbox, as a pure function of what the instance needs (so a
 * unit test can read exactly what a sandbox sees). The layout inside every sandbox:
 *
 *   /var/task       the function's code, read-only (LAMBDA_TASK_ROOT, as on Lambda)
 *   /var/runtime/*  the runtime's own files (bootstrap, interpreter packages), read-only
 *   /var/runtime/api  (network denied only) the instance's Runtime API unix socket
 *   /tmp            a private tmpfs of the function's ephemeral storage size, mode 1777
 *   /usr, /bin, /lib*  the host's system files, read-only (interpreters, libraries, certificates)
 *   /etc            only resolv.conf, hosts, nsswitch.conf, ld.so.*, ssl, ca-certificates,
 *                   alternatives, localtime, python3*, and modelfn's own passwd and group
 *   /proc           a new procfs for the sandbox's own PID namespace: no host process is visible
 *   /dev            bwrap's minimal /dev (null, zero, full, random, urandom, tty, shm, pts)
 *
 * Nothing else of the host exists inside: not the data directory (modelfn.db, credentials,
 * auth.db, other functions' code, logs), not /root, /home, /run or /var beyond the above.
 */

/** The uid and gid a function runs as inside its sandbox (Lambda's are a non-root sbx_user too). */
export const SANDBOX_UID = 1000;
export const SANDBOX_GID = 1000;
/** Where the code is mounted inside (LAMBDA_TASK_ROOT). */
export const TASK_ROOT = '/var/task';
/** Where runtime files are mounted inside. */
export const RUNTIME_ROOT = '/var/runtime';
/** The folder holding the Runtime API unix socket inside, when the network is denied. */
export const API_DIR = '/var/runtime/api';
export const SANDBOX_TMP = '/tmp';

export interface ReadOnlyMount {
  /** Host path. */
  readonly source: string;
  /** Path inside the sandbox (default: the same path). */
  readonly target?: string;
  /** Leave it out silently when the host has no such path. */
  readonly optional?: boolean;
}

/** How the host's top-level system folders look: merged-/usr symlinks or real folders. */
export interface HostLayout {
  /** e.g. { '/bin': 'usr/bin', '/lib64': 'usr/lib64' } for symlinks. */
  readonly symlinks: Readonly<Record<string, string>>;
  /** Top-level system folders that are real folders (non-merged /usr), bound read-only. */
  readonly folders: readonly string[];
  /** /etc entries to bind (those that exist), resolved to their real paths where they are symlinks. */
  readonly etc: readonly ReadOnlyMount[];
}

export interface ProcessLimits {
  /** RLIMIT_NPROC: tasks (processes and threads) of the sandbox's user. */
  readonly processes: number;
  /** RLIMIT_DATA in MB (private writable memory: heaps, Buffers, numpy arrays), or undefined. */
  readonly dataMb?: number;
  /** The kernel's cap on the whole sandbox (memory and its tmpfs /tmp), in MB, where a memory cgroup can be had. */
  readonly memoryCapMb?: number;
}

/** What an instance's sandbox shows and allows (the runtime's part of a plan). */
export interface SandboxLayout {
  /** Host folder mounted read-only at /var/task: the code, or a stem cell's own folder filled later. */
  readonly taskDir: string;
  /** The runtime's files, read-only. */
  readonly mounts: readonly ReadOnlyMount[];
  /** A host folder mounted read-write at /var/runtime/api (network denied: the Runtime API socket). */
  readonly apiDir?: string;
  readonly network: 'allow' | 'deny';
  readonly tmpSizeMb: number;
  readonly limits: ProcessLimits;
}

export interface BwrapPlan extends SandboxLayout {
  readonly host: HostLayout;
  /** fd on which bwrap reports its child's pid (the sandbox's pid 1). */
  readonly infoFd: number;
  /**
   * The platform runs as root: bwrap waits on this fd until the platform has written the user
   * namespace's uid/gid maps (root in the namespace is host root for bwrap's own set-up only; the
   * function's uid maps to an unprivileged host uid), and `setpriv` drops to that uid and every
   * capability before anything of the instance runs. Undefined: bwrap maps the sandbox uid to the
   * platform's own (unprivileged) uid itself.
   */
  readonly rootBlockFd?: number;
  /** Working directory inside. */
  readonly cwd: string;
  readonly command: string;
  readonly args: readonly string[];
}

/** bwrap's arguments (after the program name). */
export function bwrapArgs(plan: BwrapPlan): string[] {
  const args: string[] = [];
  // Namespaces: user, pid, ipc, uts and (where the kernel has it) cgroup; the network only when denied.
  args.push('--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try');
  if (plan.network === 'deny') args.push('--unshare-net');
  args.push('--hostname', 'sandbox', '--new-session', '--die-with-parent', '--info-fd', String(plan.infoFd));
  if (plan.rootBlockFd !== undefined) {
    // Root in the namespace during set-up (the platform writes the maps); setpriv drops it below.
    args.push('--userns-block-fd', String(plan.rootBlockFd), '--uid', '0', '--gid', '0');
  } else {
    // Unprivileged platform: bwrap maps SANDBOX_UID to the platform's uid; no user namespaces inside.
    args.push('--uid', String(SANDBOX_UID), '--gid', String(SANDBOX_GID), '--disable-userns');
  }
  // Folders bwrap creates on its own to hold a mount point are private to their owner (root
  // inside, in root mode): the ones the function's uid must walk through are made explicitly.
  const targets = [...plan.host.etc, ...plan.mounts].map((m) => m.target ?? m.source);
  for (const dir of parentFolders([...targets, TASK_ROOT, API_DIR, `${RUNTIME_ROOT}/`])) args.push('--perms', '0755', '--dir', dir);
  args.push('--ro-bind', '/usr', '/usr');
  for (const [link, target] of Object.entries(plan.host.symlinks)) args.push('--symlink', target, link);
  for (const folder of plan.host.folders) args.push('--ro-bind', folder, folder);
  for (const mount of plan.host.etc) pushMount(args, mount);
  args.push('--proc', '/proc', '--dev', '/dev');
  args.push('--size', String(plan.tmpSizeMb * 1024 * 1024), '--tmpfs', SANDBOX_TMP, '--chmod', '1777', SANDBOX_TMP);
  args.push('--ro-bind', plan.taskDir, TASK_ROOT);
  for (const mount of plan.mounts) pushMount(args, mount);
  if (plan.apiDir !== undefined) args.push('--bind', plan.apiDir, API_DIR);
  args.push('--chdir', plan.cwd, '--');
  if (plan.rootBlockFd !== undefined) {
    args.push(
      '/usr/bin/setpriv',
      `--reuid=${SANDBOX_UID}`,
      `--regid=${SANDBOX_GID}`,
      '--clear-groups',
      '--inh-caps=-all',
      '--bounding-set=-all',
      '--',
    );
  }
  args.push('/usr/bin/prlimit', ...prlimitArgs(plan.limits), '--', plan.command, ...plan.args);
  return args;
}

/** Hard and soft limits alike: a function cannot raise them (that needs a capability it lacks). */
export function prlimitArgs(limits: ProcessLimits): string[] {
  const out = [`--nproc=${limits.processes}:${limits.processes}`, '--core=0:0'];
  if (limits.dataMb !== undefined) {
    const bytes = limits.dataMb * 1024 * 1024;
    out.push(`--data=${bytes}:${bytes}`);
  }
  return out;
}

/** Every folder above these paths (outside /usr, /proc, /dev and /tmp, which are mounts), parents first. */
export function parentFolders(paths: readonly string[]): string[] {
  const folders = new Set<string>();
  for (const path of paths) {
    const parts = path.split('/').filter((p) => p !== '');
    for (let i = 1; i < parts.length; i++) folders.add(`/${parts.slice(0, i).join('/')}`);
  }
  return [...folders].filter((f) => !/^\/(usr|proc|dev|tmp)(\/|$)/.test(f)).sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
}

function pushMount(args: string[], mount: ReadOnlyMount): void {
  args.push(mount.optional ? '--ro-bind-try' : '--ro-bind', mount.source, mount.target ?? mount.source);
}
