/**
 * The Node.js runtime inside an instance process. It talks to the platform over fd 3 with the
 * frames in ./frames.ts (a faster channel than the HTTP Runtime API, which matters at tens of
 * thousands of invocations a second), loads the handler once, then serves one event at a time.
 * It imports nothing of the platform.
 *
 * Started as a stem cell (MODELFN_STEM_CELL=1) it first waits, generic, for a `specialize` frame:
 * then it replaces its environment wholesale with the function's, changes to the function's
 * folder, and only then loads the handler, exactly as a process started for the function would.
 */
import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { format } from 'node:util';
import { FRAME, FrameDecoder, encodeFrame } from './frames.js';
import type { Frame } from './frames.js';
import { loadHandler } from './handler-loader.js';
import type { Handler } from './handler-loader.js';
import { functionFacts, makeContext } from './context.js';
import type { FunctionFacts } from './context.js';
import type { InvokeHead } from './context.js';
import { toLambdaError } from './errors.js';
import { installTraceEnv } from './trace-env.js';

// When the runtime's own code began to run (epoch ms): the platform measures the process start up to here.
let began = performance.now();
// Frames from the platform on fd 3, frames to it on fd 4 (node-process.ts says why two).
const channel = new Socket({ fd: Number(process.env.MODELFN_CHANNEL_FD ?? 3), readable: true, writable: true });
const answers = new Socket({ fd: Number(process.env.MODELFN_ANSWER_FD ?? 4), readable: true, writable: true });
const stemCell = process.env.MODELFN_STEM_CELL === '1';
delete process.env.MODELFN_CHANNEL_FD;
delete process.env.MODELFN_ANSWER_FD;
delete process.env.MODELFN_STEM_CELL;
const traceEnv = installTraceEnv();
let currentId = '';
let handler: Handler | undefined;
let facts: FunctionFacts | undefined;

function send(type: (typeof FRAME)[keyof typeof FRAME], head: string, body?: Buffer | string): void {
  answers.write(encodeFrame(type, head, body));
}

/**
 * console.* and process.stdout/stderr writes become log frames, ordered with the results and
 * tagged with the request id (the raw pipes still catch what native code and child processes print).
 */
function patchConsole(): void {
  for (const stream of ['stdout', 'stderr'] as const) {
    const target = process[stream];
    target.write = ((chunk: string | Uint8Array, encoding?: BufferEncoding | ((err?: Error) => void), cb?: (err?: Error) => void): boolean => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString(typeof encoding === 'string' ? encoding : 'utf8');
      for (const line of text.replace(/\n$/, '').split('\n')) send(FRAME.log, JSON.stringify({ id: currentId, level: stream }), line);
      const done = typeof encoding === 'function' ? encoding : cb;
      if (done) process.nextTick(done);
      return true;
    }) as typeof target.write;
  }
  const levels: Array<[keyof Console, string]> = [
    ['log', 'INFO'], ['info', 'INFO'], ['warn', 'WARN'], ['error', 'ERROR'], ['debug', 'DEBUG'], ['trace', 'TRACE'],
  ];
  for (const [method, level] of levels) {
    (console as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      let text = format(...args);
      if (method === 'trace') text = `Trace: ${text}\n${new Error().stack?.split('\n').slice(2).join('\n') ?? ''}`;
      send(FRAME.log, JSON.stringify({ id: currentId, level }), text);
    };
  }
}

/** Report a fatal error for the current invocation (or the init), then leave: the platform replaces us. */
function die(err: unknown, type?: string): void {
  const lambdaError = toLambdaError(err);
  if (type) lambdaError.errorType = type;
  if (currentId) send(FRAME.error, JSON.stringify({ id: currentId, fatal: true }), JSON.stringify(lambdaError));
  else send(FRAME.initError, '{}', JSON.stringify(lambdaError));
  answers.end(() => process.exit(129));
  setTimeout(() => process.exit(129), 500).unref();
}

/**
 * Call the handler the way Lambda does. An async handler (the common case) is awaited directly; a
 * callback handler (three parameters) answers through the callback or context.succeed/fail/done.
 */
function callHandler(fn: Handler, event: unknown, head: InvokeHead): Promise<unknown> | unknown {
  if (fn.length < 3) {
    // Legacy context.succeed/fail/done called during the call still decide the answer.
    let legacy: { err: unknown; result: unknown } | undefined;
    const returned = fn(event, makeContext(head, facts!, (err, result) => (legacy ??= { err, result })));
    if (legacy) return legacy.err !== null && legacy.err !== undefined ? Promise.reject(legacy.err) : legacy.result;
    return returned;
  }
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (err: unknown, result?: unknown) => {
      if (settled) return;
      settled = true;
      if (err !== null && err !== undefined) reject(err);
      else resolve(result);
    };
    const returned = fn(event, makeContext(head, facts!, settle), settle);
    if (returned !== null && typeof returned === 'object' && typeof (returned as Promise<unknown>).then === 'function') {
      (returned as Promise<unknown>).then((value) => settle(null, value), (err: unknown) => settle(err ?? new Error('rejected')));
    }
  });
}

async function onInvoke(frame: Frame): Promise<void> {
  const started = performance.now();
  const head = JSON.parse(frame.head) as InvokeHead;
  // Handed over ahead of its start (pipelined): the deadline runs from now.
  if (head.timeout !== undefined) head.deadline = Date.now() + head.timeout;
  currentId = head.id;
  traceEnv.set(head.trace || undefined);
  const id = JSON.stringify(head.id);
  try {
    const event = frame.body.length === 0 ? {} : (JSON.parse(frame.body.toString('utf8')) as unknown);
    const result = await callHandler(handler!, event, head);
    let body: string;
    try {
      body = result === undefined ? 'null' : JSON.stringify(result);
    } catch (err) {
      send(FRAME.error, `{"id":${id}}`, JSON.stringify({
        errorType: 'Runtime.MarshalError',
        errorMessage: `Unable to marshal response: ${(err as Error).message}`,
        stackTrace: [],
      }));
      return;
    }
    // How long the call ran here: the platform's estimate of a call's cost, free of its own queueing.
    send(FRAME.result, `{"id":${id},"ms":${(performance.now() - started).toFixed(3)}}`, body);
  } catch (err) {
    send(FRAME.error, `{"id":${id},"ms":${(performance.now() - started).toFixed(3)}}`, JSON.stringify(toLambdaError(err)));
  } finally {
    currentId = '';
  }
}

/**
 * Invocations handed over and not started, in order. An instance runs one at a time, as on
 * Lambda; the platform may hand over the next ones while one runs, so that a fast function's
 * instance goes from call to call without waiting for the platform in between.
 */
const queued: Frame[] = [];
/** A call this long (ms) is not one pipelining expected: the platform may be withdrawing those behind it. */
const LONG_CALL_MS = 5;
let running = false;

async function runQueued(): Promise<void> {
  running = true;
  while (queued.length > 0) {
    const started = performance.now();
    await onInvoke(queued.shift()!);
    // After a long call the platform may have asked for the next ones back (withdraw frames
    // wait unread in the channel): pass through the event loop's poll phase to read them first.
    // Two turns: from a poll-phase callback one setImmediate runs before the next poll.
    if (queued.length > 0 && performance.now() - started > LONG_CALL_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  running = false;
}

function accept(frame: Frame): void {
  queued.push(frame);
  if (!running) void runQueued();
}

/** The platform takes back an invocation that has not started: drop it and say so. */
function withdraw(frame: Frame): void {
  const { id } = JSON.parse(frame.head) as { id: string };
  const at = queued.findIndex((f) => (JSON.parse(f.head) as { id: string }).id === id);
  if (at < 0) return; // started or done: its result comes as usual
  queued.splice(at, 1);
  send(FRAME.withdrawn, JSON.stringify({ id }));
}

/** Load the handler and tell the platform how the init went. */
async function init(): Promise<void> {
  const userInitStart = performance.now();
  try {
    facts = functionFacts(process.env);
    handler = await loadHandler(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), process.env._HANDLER ?? '');
  } catch (err) {
    die(err);
    return;
  }
  const phases = {
    began: performance.timeOrigin + began,
    runtimeInitMs: userInitStart - began,
    userInitMs: performance.now() - userInitStart,
  };
  send(FRAME.ready, JSON.stringify(phases));
}

/** A stem cell takes on its function: the environment wholesale, the working directory, then the handler. */
function specialize(frame: Frame): void {
  began = performance.now();
  const spec = JSON.parse(frame.head) as { env: Record<string, string>; cwd: string };
  for (const name of Object.keys(process.env)) delete process.env[name];
  Object.assign(process.env, spec.env);
  try {
    process.chdir(spec.cwd);
  } catch (err) {
    die(err, 'Runtime.InvalidEntrypoint');
    return;
  }
  void init();
}

function main(): void {
  patchConsole();
  process.on('uncaughtException', (err) => die(err));
  process.on('unhandledRejection', (reason) => die(reason, 'Runtime.UnhandledPromiseRejection'));
  let waiting = stemCell;
  const decoder = new FrameDecoder((frame) => {
    if (frame.type === FRAME.invoke && !waiting) accept(frame);
    else if (frame.type === FRAME.withdraw && !waiting) withdraw(frame);
    else if (frame.type === FRAME.specialize && waiting) {
      waiting = false;
      specialize(frame);
    } else process.exit(2);
  });
  channel.on('data', (chunk: Buffer) => decoder.push(chunk));
  // The platform closed the channel: it is gone or it stopped us. Nothing left to serve.
  channel.on('end', () => process.exit(0));
  channel.on('error', () => process.exit(0));
  answers.on('error', () => process.exit(0));
  if (stemCell) send(FRAME.stemReady, '{}');
  else void init();
}

main();
