/**
 * The model host: the process behind one model instance. It runs no user code: it boots, warms
 * its engine up (when started as a spare), loads the model named by the platform, then serves
 * one event at a time over fd 3. It imports only src/models/** (self-contained libraries) and
 * the channel protocol, never the platform.
 *
 * argv: <format> [warm-up model file]
 */
import { readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ModelInputError } from '../../../models/codecs/errors.js';
import { encodeResult } from '../../../models/codecs/envelope.js';
import type { ModelCall } from '../../../models/codecs/payload.js';
import { decodeCall, encodeReply, httpError, invokeError, isApiGatewayEvent } from '../../../models/codecs/payload.js';
import type { ModelFormat } from '../../../models/codecs/signature.js';
import { FRAME, FrameDecoder, encodeFrame } from '../protocol.js';
import type { Frame, LoadHead, ReadyHead } from '../protocol.js';
import type { Engine, EngineFactory } from './engine.js';
import { ModelLoadError } from './engine.js';

const format = process.argv[2] as ModelFormat;
const warmupFile = process.argv[3];
const channel = new Socket({ fd: 3, readable: true, writable: true });

let engine: Engine | undefined;
let meta = { modelName: '', modelVersion: '' };
let loadRequested = false;

function send(type: number, head: object, body?: Buffer | string): void {
  channel.write(encodeFrame(type, JSON.stringify(head), body));
}

function log(level: string, text: string): void {
  send(FRAME.log, { level }, text);
}

function lambdaError(errorType: string, err: unknown): string {
  const e = err instanceof Error ? err : new Error(String(err));
  return JSON.stringify({ errorType, errorMessage: e.message, stackTrace: [] });
}

async function factoryFor(f: ModelFormat): Promise<EngineFactory> {
  if (f === 'onnx') return (await import('./onnx-engine.js')).onnxFactory;
  if (f === 'sklearn') return (await import('./sklearn-engine.js')).sklearnFactory;
  throw new Error(`unknown model format ${String(f)}`);
}

/** JIT and native-library warm-up, a round at a time so a load request cuts it short. */
async function warmUp(factory: EngineFactory): Promise<void> {
  if (!warmupFile) return;
  const bytes = new Uint8Array(readFileSync(warmupFile));
  const rounds = factory.format === 'sklearn' ? 12 : 2;
  for (let i = 0; i < rounds; i++) {
    // Yield first: a load waiting on the channel is read before another round starts.
    await new Promise((resolve) => setImmediate(resolve));
    if (loadRequested) return;
    await factory.warmUp(bytes);
  }
}

async function load(factory: EngineFactory, head: LoadHead): Promise<void> {
  meta = { modelName: head.functionName, modelVersion: head.version };
  const started = performance.now();
  try {
    const bytes = new Uint8Array(readFileSync(head.path));
    engine = await factory.load(bytes, { intraOpThreads: head.intraOpThreads });
  } catch (err) {
    // ModelLoadError: the model cannot be served (its message says why); anything else: the file could not be read.
    send(FRAME.initError, {}, lambdaError('Runtime.ModelLoadError', err instanceof ModelLoadError ? err : new Error(`cannot read the model: ${(err as Error).message}`)));
    channel.end(() => process.exit(1));
    return;
  }
  const ready: ReadyHead = { signature: engine.signature, loadMs: performance.now() - started };
  send(FRAME.ready, ready);
}

async function invoke(id: string, payload: Buffer): Promise<void> {
  const model = engine;
  if (!model) {
    send(FRAME.error, { id }, lambdaError('Runtime.ModelNotLoaded', new Error('the model is not loaded')));
    return;
  }
  let event: unknown;
  try {
    event = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    send(FRAME.error, { id }, lambdaError('ModelInputError', new Error(`the event is not valid JSON: ${(err as Error).message}`)));
    return;
  }
  let call: ModelCall | undefined;
  try {
    call = decodeCall(model.signature, event);
    const outputs = await model.run(call.request);
    const body = call.reply.kind === 'envelope' ? encodeResult(outputs) : encodeReply(call, outputs, meta);
    send(FRAME.result, { id }, body);
  } catch (err) {
    if (!(err instanceof ModelInputError)) {
      send(FRAME.error, { id }, lambdaError('Runtime.ModelError', err));
      return;
    }
    if (call?.http ?? isApiGatewayEvent(event)) send(FRAME.result, { id }, httpError(400, err.message));
    else send(FRAME.error, { id }, JSON.stringify(invokeError(err)));
  }
}

async function main(): Promise<void> {
  const factory = await factoryFor(format);
  // Frames are handled one after another, after the warm-up; a load that arrives cuts it short.
  let queue: Promise<void> = Promise.resolve();
  const decoder = new FrameDecoder((frame: Frame) => {
    if (frame.type === FRAME.load) loadRequested = true;
    queue = queue.then(() => handle(factory, frame));
  });
  channel.on('data', (chunk: Buffer) => {
    try {
      decoder.push(chunk);
    } catch {
      process.exit(2);
    }
  });
  channel.on('end', () => process.exit(0));
  channel.on('error', () => process.exit(2));
  // A failed warm-up only costs speed: the spare still serves.
  queue = warmUp(factory).catch(() => undefined).then(() => send(FRAME.spare, {}));
}

async function handle(factory: EngineFactory, frame: Frame): Promise<void> {
  if (frame.type === FRAME.load) return load(factory, JSON.parse(frame.head) as LoadHead);
  if (frame.type === FRAME.invoke) return invoke((JSON.parse(frame.head) as { id: string }).id, frame.body);
  process.exit(2);
}

process.on('uncaughtException', (err) => {
  try {
    log('ERROR', `model host failed: ${err.stack ?? err.message}`);
  } finally {
    process.exit(3);
  }
});

void main().catch((err: unknown) => {
  send(FRAME.initError, {}, lambdaError('Runtime.ModelHostError', err));
  channel.end(() => process.exit(1));
});
