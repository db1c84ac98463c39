import type { NatsConnection, Subscription } from 'nats';
import { maxPayload } from '../backends/nats/connection.js';
import { NAMES } from '../backends/nats/names.js';
import type { LogQuery, LogRecord, LogStore, StoredLogRecord } from '../telemetry/logs/log-record.js';

const DELETE_SUBJECT = 'modelfn.logs.delete';

/**
 * Function logs in a cluster: each node keeps the logs of the invocations it ran (its own
 * segments, written off the request path as on one node), and a query asks every live node over
 * NATS and merges the answers by time, so `modelfn logs` on any node shows every node's lines.
 * Records from other nodes carry seq 0: following (-f) streams the node asked, whose sequence
 * numbers are its own. Deleting a function's logs is announced to every node.
 */
export class ClusterLogStore implements LogStore {
  private readonly subs: Subscription[] = [];

  constructor(
    private readonly local: LogStore,
    private readonly nc: NatsConnection,
    private readonly nodeId: string,
    private readonly otherNodes: () => readonly string[],
  ) {}

  start(): void {
    this.subs.push(
      this.nc.subscribe(NAMES.logQuery(this.nodeId), {
        callback: (err, m) => {
          if (err) return;
          void (async () => {
            let records: StoredLogRecord[] = [];
            try {
              records = await this.local.query(JSON.parse(Buffer.from(m.data).toString('utf8')) as LogQuery);
            } catch {
              records = [];
            }
            // Keep the newest lines that fit in one NATS message.
            let body = Buffer.from(JSON.stringify(records));
            while (body.length > maxPayload(this.nc) - 1024 && records.length > 0) {
              records = records.slice(Math.ceil(records.length / 4));
              body = Buffer.from(JSON.stringify(records));
            }
            m.respond(body);
          })();
        },
      }),
      this.nc.subscribe(DELETE_SUBJECT, {
        callback: (err, m) => {
          if (!err) void this.local.deleteFunction(Buffer.from(m.data).toString('utf8')).catch(() => undefined);
        },
      }),
    );
  }

  append(record: LogRecord): void {
    this.local.append(record);
  }

  async query(q: LogQuery): Promise<StoredLogRecord[]> {
    const limit = Math.min(Math.max(q.limit ?? 1000, 1), 10_000);
    const ask = async (node: string): Promise<StoredLogRecord[]> => {
      try {
        const reply = await this.nc.request(NAMES.logQuery(node), Buffer.from(JSON.stringify(q)), { timeout: 2000 });
        return (JSON.parse(Buffer.from(reply.data).toString('utf8')) as StoredLogRecord[]).map((r) => ({ ...r, seq: 0 }));
      } catch {
        return []; // a node that does not answer in time contributes nothing
      }
    };
    const parts = await Promise.all([this.local.query(q), ...this.otherNodes().map(ask)]);
    const merged = parts.flat().sort((a, b) => a.ts - b.ts);
    return merged.slice(Math.max(0, merged.length - limit));
  }

  subscribe(functionName: string, listener: (records: StoredLogRecord[]) => void): () => void {
    return this.local.subscribe(functionName, listener);
  }

  async deleteFunction(functionName: string): Promise<void> {
    await this.local.deleteFunction(functionName);
    this.nc.publish(DELETE_SUBJECT, Buffer.from(functionName));
  }

  flush(): Promise<void> {
    return this.local.flush();
  }

  async close(): Promise<void> {
    for (const s of this.subs.splice(0)) s.unsubscribe();
  }
}
