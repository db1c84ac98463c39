import { connect } from 'nats';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** nats-server on PATH, else Debian's /usr/sbin/nats-server (sbin is not on every PATH). */
export function natsServerBinary(): string | undefined {
  if (spawnSync('nats-server', ['--version'], { stdio: 'ignore' }).status === 0) return 'nats-server';
  return existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : undefined;
}

export interface NatsServer {
  /** nats://127.0.0.1:port */
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** Everything the server printed. */
  output(): string;
  /** SIGKILL, then start again on the same port with the same store (a server crash and restart). */
  restart(): Promise<void>;
  kill(): Promise<void>;
  start(): Promise<void>;
  /** Stop and remove the store directory. */
  cleanup(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound and released; good enough for tests). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

interface ServerPlan {
  readonly name: string;
  /** Address to listen on (default 127.0.0.1; partition tests use a veth address). */
  readonly host: string;
  readonly port: number;
  readonly clusterPort?: number;
  readonly routes?: readonly number[];
  /** Off: a server without JetStream (a misconfiguration modelfn must report). Default on. */
  readonly jetstream: boolean;
}

/**
 * Start one nats-server with JetStream on a free port, with its own store directory, 127.0.0.1
 * only, and an 8 MB max payload (modelfn forwards 6 MB invocations). `cluster` joins it to
 * route ports of other servers (see startNatsCluster).
 */
export async function startNats(plan?: Partial<ServerPlan>): Promise<NatsServer> {
  const binary = natsServerBinary();
  if (!binary) throw new Error('nats-server is not installed');
  const port = plan?.port ?? (await freePort());
  const host = plan?.host ?? '127.0.0.1';
  const name = plan?.name ?? `n${port}`;
  const storeDir = await mkdtemp(join(tmpdir(), 'modelfn-nats-'));
  const conf = join(storeDir, 'nats.conf');
  const lines = [
    `server_name: ${name}`,
    `listen: ${host}:${port}`,
    'max_payload: 8MB',
    ...(plan?.jetstream === false ? [] : [`jetstream { store_dir: "${join(storeDir, 'js')}" }`]),
  ];
  if (plan?.clusterPort !== undefined) {
    const routes = (plan.routes ?? []).map((p) => `nats-route://127.0.0.1:${p}`).join(', ');
    lines.push(`cluster { name: modelfn-test, listen: 127.0.0.1:${plan.clusterPort}, routes: [${routes}] }`);
  }
  await writeFile(conf, `${lines.join('\n')}\n`);
  let proc: ChildProcess | undefined;
  let out = '';
  const start = async (): Promise<void> => {
    const child = spawn(binary, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc = child;
    const onData = (c: Buffer) => (out += c.toString());
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const mark = out.length;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nats-server did not start in 10 s:\n${out}`)), 10_000);
      const check = () => {
        if (out.slice(mark).includes('Server is ready')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', check);
      child.stderr!.on('data', check);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited with ${code}:\n${out}`));
      });
    });
  };
  const kill = async (): Promise<void> => {
    const child = proc;
    proc = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    url: `nats://${host}:${port}`,
    port,
    storeDir,
    output: () => out,
    restart: async () => {
      await kill();
      await start();
    },
    kill,
    start,
    cleanup: async () => {
      await kill();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

/** Three routed JetStream servers (an R3-capable cluster), each on its own ports and store. */
export async function startNatsCluster(size = 3): Promise<NatsServer[]> {
  const ports = await Promise.all(Array.from({ length: size }, () => freePort()));
  const clusterPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const servers = await Promise.all(
    ports.map((port, i) => startNats({ name: `s${i + 1}`, port, clusterPort: clusterPorts[i]!, routes: clusterPorts.filter((_, j) => j !== i) })),
  );
  await jetStreamReady(servers.map((s) => s.url));
  return servers;
}

/** Until the cluster has elected its JetStream meta leader (a platform that starts before would wait for it). */
async function jetStreamReady(urls: string[], timeoutMs = 20_000): Promise<void> {
  const nc = await connect({ servers: urls, timeout: 5_000 });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        await (await nc.jetstreamManager({ timeout: 2_000 })).getAccountInfo();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`the NATS cluster has no JetStream after ${timeoutMs} ms: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    await nc.close();
  }
}
