/** The dashboard API (same origin, session cookie). */
export class SignedOut extends Error {}

export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(`/ui/api${path}`, { headers: { accept: 'application/json' } });
  if (res.status === 401) throw new SignedOut();
  const body = (await res.json()) as T & { message?: string };
  if (!res.ok) throw new Error(body.message ?? `HTTP ${res.status}`);
  return body;
}

export async function postJson<T>(path: string, value: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`/ui/api${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });
  return { status: res.status, body: (await res.json()) as T };
}

export interface LivePoint {
  t: number;
  requests: number;
  errors: number;
  throttles: number;
  coldStarts: number;
  p50: number | null;
  p99: number | null;
  instances: number;
}

export interface FunctionInfo {
  name: string;
  runtime: string;
  handler: string;
  memoryMb: number;
  timeoutSec: number;
  versions: string[];
  aliases: Array<{ name: string; functionVersion: string }>;
  routes: Array<{ method: string; path: string }>;
  reservedConcurrency: number | null;
  keepAliveSec: number | null;
  keepAlivePolicy: 'fixed' | 'adaptive' | null;
  keepAlive: KeepAliveStatus[];
  lastModified: string;
  instances: { instances: number; idle: number; busy: number; starting: number; waiting: number };
  last5m?: { requests: number; errors: number; throttles: number; coldStarts: number };
  latest?: LivePoint | null;
}

export interface Overview {
  version: string;
  telemetry: boolean;
  stepMs: number;
  functions: FunctionInfo[];
}

export interface Invocation {
  requestId: string;
  ts: number;
  version: string;
  durationMs: number;
  billedDurationMs: number;
  initDurationMs?: number;
  errorType?: string;
  traceId?: string;
}

export interface KeepAliveStatus {
  version: string;
  policy: 'fixed' | 'adaptive';
  mode: 'fixed' | 'histogram';
  reason: string;
  prewarmSec: number;
  keepAliveSec: number;
  idleTimes: { samples: number; outOfRange: number; cv: number };
  idleSince: string | null;
  nextPrewarmAt: string | null;
}

export interface ColdStart {
  at: string | null;
  version: string;
  instanceId: string | null;
  trigger: 'request' | 'provisioned' | 'prewarm';
  requestId: string | null;
  stemCell: boolean;
  initDurationMs: number | null;
  phases: { fetchMs: number | null; processStartMs: number | null; runtimeInitMs: number | null; userInitMs: number | null; firstInvokeMs: number | null };
}

export interface Detail {
  function: FunctionInfo;
  stepMs: number;
  points: LivePoint[];
  invocations: Invocation[];
  coldStarts: ColdStart[];
}

export interface CostReport {
  since: number;
  until: number;
  currency: string;
  pricesUpdated: string;
  freeTiers: string;
  providers: Array<{ id: string; name: string; freeTier?: string; sources: string[] }>;
  functions: Array<{ functionName: string; version: string; requests: number; errors: number; coldStarts: number; memoryMb: number; gbSeconds: number; cpuSeconds: number; costs: Record<string, number> }>;
  total: { requests: number; gbSeconds: number; cpuSeconds: number; coldStarts: number; costs: Record<string, number> };
}

export interface Session {
  authRequired: boolean;
  signedIn: boolean;
  accessKeyId?: string;
  tenant?: string;
}
