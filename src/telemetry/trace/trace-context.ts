import { randomFillSync } from 'node:crypto';

/**
 * Trace context at the edge: W3C `traceparent` and AWS X-Ray's `X-Amzn-Trace-Id` in, one trace
 * for the invocation out. The function sees it as `_X_AMZN_TRACE_ID` (Node bootstrap) or the
 * Runtime API's `Lambda-Runtime-Trace-Id` header; the caller gets a `traceparent` back.
 *
 * The two formats name the same 128-bit trace id: X-Ray's `Root=1-<8 hex epoch s>-<24 hex>` is the
 * W3C trace id `<8 hex><24 hex>` (the mapping X-Ray and OpenTelemetry's X-Ray propagator use). The
 * platform is a hop of its own: it makes a new span id, passed on as `Parent=` and returned in
 * `traceparent`.
 */
export interface TraceContext {
  /** 32 lowercase hex. */
  readonly traceId: string;
  /** The platform's span for this invocation, 16 lowercase hex. */
  readonly spanId: string;
  readonly sampled: boolean;
  /** What the function gets (`_X_AMZN_TRACE_ID`, `Lambda-Runtime-Trace-Id`). */
  readonly amznTraceId: string;
  /** What the caller gets back. */
  readonly traceparent: string;
}

export interface ParsedTraceparent {
  readonly traceId: string;
  readonly parentId: string;
  readonly sampled: boolean;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** W3C trace-context level 1: version 00 exactly; future versions parsed by the same prefix; ff invalid. */
export function parseTraceparent(value: string | undefined): ParsedTraceparent | undefined {
  if (value === undefined) return undefined;
  const m = TRACEPARENT.exec(value.trim());
  if (!m) return undefined;
  const [, version, traceId, parentId, flags, rest] = m;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (traceId === ZERO_TRACE || parentId === ZERO_SPAN) return undefined;
  return { traceId: traceId!, parentId: parentId!, sampled: (Number.parseInt(flags!, 16) & 1) === 1 };
}

export interface ParsedAmznTraceId {
  /** `1-<8 hex>-<24 hex>` */
  readonly root: string;
  readonly parent?: string;
  readonly sampled?: boolean;
}

const ROOT = /^1-([0-9a-f]{8})-([0-9a-f]{24})$/;

/** `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1` (any order, extra keys kept out). */
export function parseAmznTraceId(value: string | undefined): ParsedAmznTraceId | undefined {
  if (value === undefined || value.length > 512) return undefined;
  let root: string | undefined;
  let parent: string | undefined;
  let sampled: boolean | undefined;
  for (const part of value.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim().toLowerCase();
    if (key === 'Root' && ROOT.test(v)) root = v;
    else if (key === 'Parent' && /^[0-9a-f]{16}$/.test(v)) parent = v;
    else if (key === 'Sampled' && (v === '0' || v === '1')) sampled = v === '1';
  }
  if (root === undefined) return undefined;
  return { root, ...(parent !== undefined ? { parent } : {}), ...(sampled !== undefined ? { sampled } : {}) };
}

/** W3C trace id <-> X-Ray root. */
export function rootFromTraceId(traceId: string): string {
  return `1-${traceId.slice(0, 8)}-${traceId.slice(8)}`;
}

export function traceIdFromRoot(root: string): string {
  return root.slice(2, 10) + root.slice(11);
}

export function formatAmznTraceId(traceId: string, parentId: string, sampled: boolean): string {
  return `Root=${rootFromTraceId(traceId)};Parent=${parentId};Sampled=${sampled ? 1 : 0}`;
}

/**
 * The trace of one invocation from the request's headers: an incoming traceparent wins (it is the
 * standard), else X-Amzn-Trace-Id, else a new trace whose id starts with the epoch seconds, as
 * X-Ray ids do. Unparseable headers start a new trace, as the W3C spec says.
 */
export function traceFromHeaders(traceparent: string | undefined, amznTraceId: string | undefined, nowMs: number = Date.now()): TraceContext {
  const spanId = randomHex(8);
  const w3c = parseTraceparent(traceparent);
  let traceId: string;
  let sampled: boolean;
  if (w3c) {
    traceId = w3c.traceId;
    sampled = w3c.sampled;
  } else {
    const amzn = parseAmznTraceId(amznTraceId);
    if (amzn) {
      traceId = traceIdFromRoot(amzn.root);
      sampled = amzn.sampled ?? true;
    } else {
      traceId = Math.floor(nowMs / 1000).toString(16).padStart(8, '0').slice(-8) + randomHex(12);
      sampled = true;
    }
  }
  return {
    traceId,
    spanId,
    sampled,
    amznTraceId: formatAmznTraceId(traceId, spanId, sampled),
    traceparent: `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`,
  };
}

/** One header value of a Node request (first of repeated ones). */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : Array.isArray(value) ? value[0] : undefined;
}

// Random bytes come from a pool refilled 4 KB at a time: one syscall per few hundred requests.
const pool = Buffer.allocUnsafe(4096);
let poolAt = pool.length;

function randomHex(bytes: number): string {
  if (poolAt + bytes > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const hex = pool.toString('hex', poolAt, poolAt + bytes);
  poolAt += bytes;
  return hex;
}
