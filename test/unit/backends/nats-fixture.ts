import { after } from 'node:test';
import type { TestContext } from 'node:test';
import { connectNats } from '../../../src/backends/nats/connection.js';
import type { NatsContext } from '../../../src/backends/nats/connection.js';
import { need, requirements } from '../../support/requirements.js';
import { startNats } from '../../support/nats.js';
import type { NatsServer } from '../../support/nats.js';

let server: Promise<NatsServer> | undefined;
const open = new Set<NatsContext>();

after(async () => {
  for (const ctx of open) await ctx.nc.close().catch(() => undefined);
  if (server) await (await server).cleanup();
});

/**
 * A NATS connection for one contract test: one nats-server per test file (started on first use,
 * stopped after the file), every stream deleted before the test so each starts empty.
 * Undefined (test skipped, or failed under CI) without nats-server.
 */
export async function natsContext(t: TestContext): Promise<{ ctx: NatsContext; connect: () => Promise<NatsContext>; close: () => Promise<void> } | undefined> {
  if (!need(t, requirements.natsServer)) return undefined;
  server ??= startNats();
  const s = await server;
  const connect = async () => {
    const ctx = await connectNats({ servers: [s.url], name: 'modelfn-test', replicas: 1 });
    open.add(ctx);
    return ctx;
  };
  const ctx = await connect();
  for (const name of await ctx.jsm.streams.names().next()) await ctx.jsm.streams.delete(name);
  return {
    ctx,
    connect,
    close: async () => {
      for (const c of open) await c.nc.close().catch(() => undefined);
      open.clear();
    },
  };
}
