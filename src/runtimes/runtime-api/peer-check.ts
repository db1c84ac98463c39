import { readdir, readFile, readlink } from 'node:fs/promises';

/**
 * Who is on the other end of a loopback TCP connection?
 *
 * Every instance gets its own Runtime API listener on 127.0.0.1 with an ephemeral port, but a port
 * on loopback can be reached by any local process: another function's instance could scan the
 * ports, call `/next` on a neighbour and read (or answer) its events. So each connection is checked
 * once, when it is accepted, before any request on it is served: the client's socket must belong to
 * the instance's own process, or to a process in the session the instance leads (a shell
 * bootstrap's `curl`, a handler's subprocess). Instances are session leaders (spawned detached, or
 * forked and `setsid()`), so the session id names the whole tree.
 *
 * How (Linux, no native code): /proc/net/tcp maps the client's port to its socket inode; the
 * socket is owned by whichever process has a descriptor `socket:[inode]`. The instance's own
 * descriptors are checked first (one readdir: the common case, a runtime that keeps one
 * connection open); only then the session is scanned. A connection is checked once, so a runtime
 * that keeps its connection alive (the Python bootstrap does) pays this once per instance.
 */
export async function connectionOwnedBySession(clientPort: number, serverPort: number, sessionLeader: number): Promise<boolean> {
  const inode = await clientSocketInode(clientPort, serverPort);
  if (inode === undefined) return false;
  const target = `socket:[${inode}]`;
  if (await holdsSocket(sessionLeader, target)) return true;
  for (const pid of await sessionMembers(sessionLeader)) {
    if (pid !== sessionLeader && (await holdsSocket(pid, target))) return true;
  }
  return false;
}

/** The inode of the client end of 127.0.0.1:clientPort -> 127.0.0.1:serverPort, from /proc/net/tcp. */
export async function clientSocketInode(clientPort: number, serverPort: number): Promise<string | undefined> {
  let table: string;
  try {
    table = await readFile('/proc/net/tcp', 'latin1');
  } catch {
    return undefined;
  }
  const local = `:${hexPort(clientPort)}`;
  const remote = `:${hexPort(serverPort)}`;
  for (const line of table.split('\n')) {
    const fields = line.trim().split(/\s+/);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
    if (fields.length < 10) continue;
    if (fields[1]!.endsWith(local) && fields[2]!.endsWith(remote) && fields[9] !== '0') return fields[9];
  }
  return undefined;
}

function hexPort(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}

async function holdsSocket(pid: number, target: string): Promise<boolean> {
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  const links = await Promise.all(fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')));
  return links.includes(target);
}

/** Processes whose session id is the leader's pid. */
async function sessionMembers(leader: number): Promise<number[]> {
  const entries = await readdir('/proc').catch(() => [] as string[]);
  const members: number[] = [];
  await Promise.all(
    entries.map(async (entry) => {
      if (!/^\d+$/.test(entry)) return;
      const stat = await readFile(`/proc/${entry}/stat`, 'latin1').catch(() => '');
      if (sessionOf(stat) === leader) members.push(Number(entry));
    }),
  );
  return members;
}

/** The session id from a /proc/<pid>/stat line ("pid (comm) state ppid pgrp session ..."). */
export function sessionOf(stat: string): number | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const rest = stat.slice(close + 2).split(' ');
  const session = Number(rest[3]);
  return Number.isInteger(session) ? session : undefined;
}
