import type { IncomingMessage, ServerResponse } from 'node:http';
import { ModelfnError } from '../../shared/errors.js';
import type { LogStore, StoredLogRecord } from '../../telemetry/logs/log-record.js';
import { LogRenderer } from '../../telemetry/logs/log-record.js';
import { sendJson } from '../../server/http/respond.js';
import { trackStream } from '../../server/http/streams.js';

/**
 * GET .../functions/{name}/logs: recent records as JSON, or with follow=1 an NDJSON stream that
 * stays open and carries new records as they are written.
 */
export async function streamLogs(logs: LogStore, req: IncomingMessage, res: ServerResponse, name: string, query: URLSearchParams): Promise<void> {
  const since = parseTime(query.get('since'));
  const until = parseTime(query.get('until'));
  const limit = query.has('limit') ? Number(query.get('limit')) : 200;
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new ModelfnError('INVALID_PARAMETER', 'limit must be a whole number from 1 to 10000');
  const requestId = query.get('requestId') ?? undefined;
  const follow = query.get('follow') === '1' || query.get('follow') === 'true';
  if (!follow) {
    const records = await logs.query({ functionName: name, since, until, requestId, limit });
    sendJson(res, 200, { records: new LogRenderer().render(records) });
    return;
  }
  // Following: subscribed before the query, so that no line falls between what the query read
  // and what the subscription delivers (the store hands subscribers only lines logged after they
  // subscribed; lines seen twice are skipped by their sequence number).
  const early: Array<readonly StoredLogRecord[]> = [];
  let deliver: (batch: readonly StoredLogRecord[]) => void = (batch) => {
    early.push(batch);
  };
  const unsubscribe = logs.subscribe(name, (batch) => deliver(batch));
  let records: StoredLogRecord[];
  try {
    records = await logs.query({ functionName: name, since, until, requestId, limit });
  } catch (err) {
    unsubscribe();
    throw err;
  }
  const renderer = new LogRenderer();
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  const untrack = trackStream(res);
  let lastSeq = 0;
  const write = (batch: readonly StoredLogRecord[]) => {
    const fresh = batch.filter((r) => r.seq > lastSeq && (requestId === undefined || r.requestId === requestId));
    if (fresh.length === 0) return;
    lastSeq = fresh.at(-1)!.seq;
    res.write(renderer.render(fresh).map((line) => `${JSON.stringify(line)}\n`).join(''));
  };
  write(records);
  for (const batch of early) write(batch);
  deliver = write;
  // Keep proxies and clients from timing out a quiet stream.
  const heartbeat = setInterval(() => res.write('\n'), 15_000);
  await new Promise<void>((resolve) => {
    const done = () => {
      untrack();
      clearInterval(heartbeat);
      unsubscribe();
      resolve();
    };
    req.socket.once('close', done);
    res.once('close', done);
  });
}

/** An epoch-ms number, an ISO date, or a duration back from now ("15m", "2h", "7d"). */
export function parseTime(value: string | null): number | undefined {
  if (value === null || value === '') return undefined;
  const rel = /^(\d+)(s|m|h|d)$/.exec(value);
  if (rel) return Date.now() - Number(rel[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[rel[2] as 's' | 'm' | 'h' | 'd'];
  if (/^\d+$/.test(value)) return Number(value);
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) throw new ModelfnError('INVALID_PARAMETER', `since must be a time (ISO 8601, epoch ms) or a duration like 15m, 2h, 7d; got ${JSON.stringify(value)}`);
  return parsed;
}
