import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import pino from 'pino';
import { Gateway } from '../../src/server/gateway.js';
import { readBody } from '../../src/server/http/body.js';
import { sendJson } from '../../src/server/http/respond.js';
import type { Surface } from '../../src/server/surface.js';
import type { FuzzOptions } from './harness.js';
import { mutatedBytes, runs } from './harness.js';
import type { FuzzPlatform } from './http-support.js';
import { assertHealthy, startFuzzPlatform, vitals } from './http-support.js';

/**
 * Malformed HTTP over raw sockets: broken request lines, bad header bytes, conflicting and
 * negative lengths, broken chunk framing, pipelining, smuggling shapes, upgrades, truncation at
 * any byte, slowloris (headers a byte at a time) and slow bodies. Whatever arrives, every status
 * line the platform writes is a well-formed HTTP/1.1 answer below 500 (but a function's own 502),
 * nothing hangs once the client has finished sending, other clients keep being served meanwhile,
 * and held connections are let go of when their clients leave.
 */

const TARGETS = [
  ['POST', '/echo', '{"raw":true}'],
  ['GET', '/_modelfn/v1/health', ''],
  ['POST', '/2015-03-31/functions/echo/invocations', '{"a":1}'],
  ['POST', '/v2/models/iris/infer', '{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[1,2,3,4]}]}'],
  ['POST', '/v1/models/iris:predict', '{"instances":[[1,2,3,4]]}'],
  ['GET', '/items/1', ''],
] as const;

interface RawCase {
  readonly bytes: Buffer;
  /** Send this many bytes per write, with a pause between writes. */
  readonly pieces: number;
}

function request(method: string, path: string, body: string, headers: string[] = []): string {
  return [`${method} ${path} HTTP/1.1`, 'Host: fuzz', ...headers, ...(body ? [`Content-Length: ${Buffer.byteLength(body)}`] : []), '', body].join('\r\n');
}

/** Hand-made malformed requests: each a known way to confuse an HTTP parser. */
function malformed(): string[] {
  const [m, p, b] = TARGETS[0];
  return [
    'GARBAGE\r\n\r\n',
    `${m} ${p}\r\n\r\n`,
    `${m} ${p} HTTP/9.9\r\nHost: x\r\n\r\n`,
    `${m} ${p} HTTP/1.0\r\n\r\n`,
    'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
    `${m} ${p} HTTP/1.1\nHost: x\n\n`,
    `${m} ${p} HTTP/1.1\rHost: x\r\r`,
    `${m} ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`,
    `${m} ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n`,
    `${m} ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: 1e3\r\n\r\n`,
    `${m} ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n`,
    `${m} ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /_modelfn/v1/health HTTP/1.1\r\nHost: x\r\n\r\n`,
    `${m} ${p} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n`,
    `${m} ${p} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n`,
    `${m} ${p} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`,
    `${m} ${p} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\n{}x\r\n0\r\nTrailer: 1\r\n\r\n`,
    `${m} ${p} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nx\r\n`,
    `${m} ${p} HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n`,
    `${m} ${p} HTTP/1.1\r\nHost: x\r\nX-Fold: a\r\n  folded\r\n\r\n`,
    `${m} ${p} HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n`,
    `${m} ${p} HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n`,
    `${m} ${p} HTTP/1.1\r\nHost: x\r\nX-Latin: \u00e9\u00ff\r\nContent-Length: 2\r\n\r\n{}`,
    `${m} ${p} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`,
    `${m} ${p} HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 3000 }, (_, i) => `X-${i}: v`).join('\r\n')}\r\n\r\n`,
    `GET /${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    `GET /%zz%00%ff/../.. HTTP/1.1\r\nHost: x\r\n\r\n`,
    `GET /\u00e9\u00ff HTTP/1.1\r\nHost: x\r\n\r\n`,
    `GET http://evil.example/_modelfn/v1/health HTTP/1.1\r\nHost: x\r\n\r\n`,
    `GET * HTTP/1.1\r\nHost: x\r\n\r\n`,
    `CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: x\r\n\r\n`,
    `GET /echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: x\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    `${m} ${p} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: ${b.length}\r\n\r\n${b}`,
    `${m} ${p} HTTP/1.1\r\nHost: x\r\nExpect: nonsense\r\nContent-Length: 2\r\n\r\n{}`,
    `${m} ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}GET /_modelfn/v1/health HTTP/1.1\r\nHost: x\r\n\r\nGET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n`,
    `${m} ${p} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\n\r\n\u00ff\u00fe{}`,
    `${m} /2015-03-31/functions/echo/invocations HTTP/1.1\r\nHost: x\r\nX-Amz-Invocation-Type: Event\r\nContent-Length: 3\r\n\r\n{"a`,
    `DELETE /_modelfn/v1/functions/nope HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    `HEAD /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}`,
    '\r\n\r\n\r\n',
    '',
  ];
}

const seeds = [...TARGETS.map(([m, p, b]) => Buffer.from(request(m, p, b))), ...malformed().slice(0, 12).map((s) => Buffer.from(s, 'latin1'))];

const rawCase: fc.Arbitrary<RawCase> = fc.record({
  bytes: fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...malformed()).map((s) => Buffer.from(s, 'latin1')) },
    { weight: 3, arbitrary: mutatedBytes(seeds, 5).map((b) => Buffer.from(b)) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...TARGETS), fc.nat()).map(([[m, p, b], cut]) => { const full = Buffer.from(request(m, p, b)); return full.subarray(0, cut % (full.length + 1)); }) },
  ),
  pieces: fc.constantFrom(1, 1, 1, 2, 7),
});

/** Status codes in what came back, and whether anything else than HTTP answers came back. */
function statuses(reply: Buffer): number[] {
  const text = reply.toString('latin1');
  return [...text.matchAll(/(?:^|\r\n)HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
}

/** Send bytes, finish sending, and collect the answer until the server closes (or a deadline: a hang). */
function exchange(fp: FuzzPlatform, c: RawCase, deadlineMs = 15_000): Promise<{ reply: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(fp.port, fp.host);
    const parts: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ reply: Buffer.concat(parts), closed });
    };
    const timer = setTimeout(() => finish(false), deadlineMs);
    socket.on('data', (d: Buffer) => parts.push(d));
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('connect', async () => {
      const size = Math.max(1, Math.ceil(c.bytes.length / c.pieces));
      for (let at = 0; at < c.bytes.length && !done; at += size) {
        socket.write(c.bytes.subarray(at, at + size));
        if (c.pieces > 1) await new Promise((r) => setTimeout(r, 5));
      }
      if (!done) socket.end();
    });
  });
}

/** Open a connection that sends `first`, then a byte every `everyMs` while held. */
function slowClient(fp: FuzzPlatform, first: string, drip: string, everyMs: number): { socket: Socket; stop: () => void } {
  const socket = connect(fp.port, fp.host, () => socket.write(first));
  socket.on('error', () => undefined);
  let i = 0;
  const timer = setInterval(() => {
    if (drip && socket.writable) socket.write(drip[i++ % drip.length]!);
  }, everyMs);
  return { socket, stop: () => { clearInterval(timer); socket.destroy(); } };
}

async function timed(url: string, init?: RequestInit): Promise<{ status: number; ms: number }> {
  const start = performance.now();
  const res = await fetch(url, init);
  await res.arrayBuffer();
  return { status: res.status, ms: performance.now() - start };
}

/**
 * The gateway's own bounds, in-process with short timeouts (the platform's are 60 s for headers
 * and 300 s for a whole request): slow clients are answered and cut off in time, and the calls
 * their requests started settle (so a drain does not wait for them).
 */
async function slowClientsAreCutOff(): Promise<void> {
  let started = 0;
  let settled = 0;
  const surface: Surface = {
    name: 'body-reader',
    prefixes: [],
    async handle(req, res) {
      started++;
      try {
        await readBody(req, 1 << 20);
        sendJson(res, 200, {});
      } catch {
        if (!res.headersSent && res.writable) sendJson(res, 400, {});
      } finally {
        settled++;
      }
    },
  };
  const gateway = new Gateway([], surface, pino({ level: 'silent' }), { requestMs: 1000, headersMs: 800, checkIntervalMs: 100 });
  const { port } = await gateway.listen(0, '127.0.0.1');
  try {
    const firsts = ['POST / HTTP/1.1\r\nHost: x\r\n', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n'];
    const outcomes = await Promise.all(
      firsts.map(
        (first) =>
          new Promise<{ reply: string; ms: number }>((resolve) => {
            const start = performance.now();
            const socket = connect(port, '127.0.0.1', () => socket.write(first));
            let reply = '';
            socket.on('data', (d: Buffer) => (reply += d.toString('latin1')));
            socket.on('error', () => undefined);
            socket.on('close', () => resolve({ reply, ms: performance.now() - start }));
            setTimeout(() => socket.destroy(), 10_000);
          }),
      ),
    );
    for (const [i, o] of outcomes.entries()) {
      assert.ok(o.ms < 5000, `slow client ${i} was held ${o.ms.toFixed(0)} ms (limit about 1 s)`);
      assert.match(o.reply, /^HTTP\/1\.1 (400|408) /, `slow client ${i} got ${JSON.stringify(o.reply)}`);
    }
    for (let waited = 0; settled < started && waited < 3000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    assert.equal(settled, started, 'every call a slow request started has settled');
  } finally {
    await gateway.drain(1000);
  }
}

export async function fuzzHttpRaw(options: FuzzOptions): Promise<void> {
  await slowClientsAreCutOff();
  const fp = await startFuzzPlatform();
  try {
    const before = await vitals(fp);
    // 1. Malformed and mutated requests: well-formed answers below 500, nothing left hanging.
    await fc.assert(
      fc.asyncProperty(rawCase, async (c) => {
        const { reply, closed } = await exchange(fp, c);
        const where = `${JSON.stringify(c.bytes.toString('latin1').slice(0, 300))} -> ${JSON.stringify(reply.toString('latin1').slice(0, 300))}`;
        assert.ok(closed, `the connection was still open 15 s after the client finished sending: ${where}`);
        if (reply.length > 0) assert.ok(reply.subarray(0, 9).toString('latin1') === 'HTTP/1.1 ', `the answer is not HTTP/1.1: ${where}`);
        for (const status of statuses(reply)) assert.ok(status < 500 || status === 502, `a ${status}: ${where}`);
      }),
      { ...runs(options), examples: malformed().map((s) => [{ bytes: Buffer.from(s, 'latin1'), pieces: 1 }]) },
    );

    // 2. Slowloris and slow bodies: while clients dribble headers or never send their body,
    //    others are served as usual; when those clients leave, so do their descriptors.
    const held = Math.max(10, Math.min(200, Math.round(options.numRuns / 5)));
    const slow = [
      ...Array.from({ length: held }, () => slowClient(fp, 'POST /echo HTTP/1.1\r\nHost: x\r\n', 'X-Slow: a\r\n', 200)),
      ...Array.from({ length: held }, () => slowClient(fp, 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"a":', '', 200)),
      ...Array.from({ length: held }, () => slowClient(fp, 'POST /2015-03-31/functions/echo/invocations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n', '', 200)),
    ];
    await new Promise((r) => setTimeout(r, 1500));
    const during = await vitals(fp);
    for (let i = 0; i < 5; i++) {
      const health = await timed(`${fp.url}/_modelfn/v1/health`);
      const route = await timed(`${fp.url}/echo`, { method: 'POST', body: '{}' });
      assert.equal(health.status, 200);
      assert.equal(route.status, 200);
      assert.ok(health.ms < 5000 && route.ms < 5000, `with ${slow.length} slow clients held, calls took ${health.ms.toFixed(0)} / ${route.ms.toFixed(0)} ms`);
    }
    for (const s of slow) s.stop();
    await new Promise((r) => setTimeout(r, 1000));
    const after = await vitals(fp);
    console.log(
      `http-raw: ${slow.length} slow clients held ${during.tcpFds - before.tcpFds} TCP descriptors (${during.fds - before.fds} in all); ` +
        `after they left: TCP ${before.tcpFds} -> ${after.tcpFds}, all fds ${before.fds} -> ${after.fds}, RSS ${(before.rssKb / 1024).toFixed(0)} -> ${(after.rssKb / 1024).toFixed(0)} MB`,
    );
    assert.ok(during.tcpFds >= before.tcpFds + slow.length / 2, `the slow clients were not held (TCP descriptors ${before.tcpFds} -> ${during.tcpFds}): the check below would prove nothing`);
    // Their connections are closed, every one: the few left are the listener and keep-alive ones of the checks above.
    assert.ok(after.tcpFds < before.tcpFds + 10, `TCP descriptors did not come back after the slow clients left: ${before.tcpFds} -> ${after.tcpFds}`);
    // And no other descriptor leaks at their scale (instances' channels may come and go meanwhile).
    assert.ok(after.fds < before.fds + 100, `descriptors did not come back after the slow clients left: ${before.fds} -> ${after.fds}`);
    await assertHealthy(fp);
  } finally {
    await fp.platform.cleanup();
  }
}
