/**
 * Names in NATS: subjects, KV keys, stream and consumer names allow fewer characters than
 * modelfn's names ('$async:fn', 'GET /items/{id}', 'fn/rule'). `token` maps any string to one
 * subject token of letters, digits and '-', escaping everything else as _XX (UTF-8 bytes in hex),
 * so distinct names stay distinct and a name never adds a '.' (a new token) to a subject.
 */
export function token(name: string): string {
  if (name === '') return '_';
  let out = '';
  for (const byte of Buffer.from(name, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9-]/.test(c) ? c : `_${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** The inverse of token(). */
export function untoken(tok: string): string {
  if (tok === '_') return '';
  const bytes: number[] = [];
  for (let i = 0; i < tok.length; i++) {
    if (tok[i] === '_') {
      bytes.push(parseInt(tok.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(tok.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Every bucket, stream and subject modelfn uses on a NATS account (one modelfn cluster per account). */
export const NAMES = {
  registryBucket: 'modelfn_registry',
  blobBucket: 'modelfn_blobs',
  queueConfigBucket: 'modelfn_queues',
  recordBucket: 'modelfn_records',
  scheduleBucket: 'modelfn_schedules',
  keyBucket: 'modelfn_keys',
  nodeBucket: 'modelfn_nodes',
  /** One work-queue stream per queue: MODELFN_Q_<token>. */
  queueStream: (queue: string) => `MODELFN_Q_${token(queue)}`,
  queueSubject: (queue: string, part: 'ready' | 'later') => `modelfn.q.${token(queue)}.${part}`,
  /** Core NATS: "messages were sent to this queue" (wakes consumers on every node). */
  queueSent: 'modelfn.queue.sent',
  /** Core NATS: ack / nak of a lease held by another node. */
  queueLease: (nodeId: string) => `modelfn.queue.lease.${nodeId}`,
  meteringStream: 'MODELFN_METERING',
  meteringSubject: 'modelfn.metering.usage',
  /** Forwarded invocations: one queue group per function. */
  invoke: (functionName: string) => `modelfn.invoke.${token(functionName)}`,
  reply: (nodeId: string) => `modelfn.reply.${nodeId}`,
  logQuery: (nodeId: string) => `modelfn.logs.${nodeId}`,
} as const;
