import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { open, readdir } from 'node:fs/promises';

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
 * Measured on the 2-core development machine: about 1 ms for the instance's own connection, about
 * 5 ms when the whole session must be scanned (~85 processes; a curl bootstrap pays it for each
 * request, next to curl's own start-up).
 */
export async function connectionOwnedBySession(clientPort: number, serverPort: number, owner: number | PeerOwner): Promise<boolean> {
  const { pid, session } = typeof owner === 'number' ? { pid: owner, session: owner } : owner;
  const inode = await clientSocketInode(clientPort, serverPort);
  if (inode === undefined) return false;
  const target = `socket:[${inode}]`;
  if (await holdsSocket(pid, target)) return true;
  for (const member of await sessionMembers(session)) {
    if (member !== pid && (await holdsSocket(member, target))) return true;
  }
  return false;
}

/**
 * Whose connections an instance's Runtime API accepts: the runtime process (checked first), or any
 * process of the session (a sandboxed runtime's session is led by the sandbox's pid 1; a forked
 * Python instance's by the process the zygote forked). Host pids.
 */
export interface PeerOwner {
  readonly pid: number;
  readonly session: number;
}

/** The inode of the client end of 127.0.0.1:clientPort -> 127.0.0.1:serverPort, from /proc/net/tcp. */
export async function clientSocketInode(clientPort: number, serverPort: number): Promise<string | undefined> {
  const local = `:${hexPort(clientPort)} `;
  const remote = `:${hexPort(serverPort)} `;
  // Every read() of /proc/net/tcp walks the kernel's whole connection hash table (about 0.3 ms
  // here, whatever the number of sockets), so read in large chunks and stop at the line we need.
  let file;
  try {
    file = await open('/proc/net/tcp', 'r');
  } catch {
    return undefined;
  }
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    let pending = '';
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return undefined;
      const text = pending + buffer.toString('latin1', 0, bytesRead);
      const lines = text.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
        const fields = line.trim().split(/\s+/);
        if (fields.length < 10) continue;
        if (`${fields[1]} `.endsWith(local) && `${fields[2]} `.endsWith(remote) && fields[9] !== '0') return fields[9];
      }
    }
  } finally {
    await file.close();
  }
}

function hexPort(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}

/** One readdir and a readlink per descriptor: microseconds each, cheaper done directly than queued. */
async function holdsSocket(pid: number, target: string): Promise<boolean> {
  await Promise.resolve();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  for (const fd of fds) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) === target) return true;
    } catch {
      /* closed meanwhile */
    }
  }
  return false;
}

/**
 * Processes whose session id is the leader's pid. Reading a stat file directly costs a few
 * microseconds (through the thread pool, ten times that), so the scan reads synchronously in small
 * batches and yields between them.
 */
async function sessionMembers(leader: number): Promise<number[]> {
  const entries = await readdir('/proc').catch(() => [] as string[]);
  const members: number[] = [];
  for (let i = 0; i < entries.length; i++) {
    if (i % 64 === 63) await new Promise((resolve) => setImmediate(resolve));
    const entry = entries[i]!;
    if (entry.charCodeAt(0) > 57) continue; // not a pid
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
    } catch {
      continue;
    }
    if (sessionOf(stat) === leader) members.push(Number(entry));
  }
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
