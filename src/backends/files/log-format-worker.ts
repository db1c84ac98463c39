// The log formatter's worker thread: columns in, NDJSON bytes out (their buffers transferred).
import { parentPort } from 'node:worker_threads';
import { formatBatches } from './log-columns.js';
import type { FormatReply, FormatRequest } from './log-formatter.js';

parentPort!.on('message', (request: FormatRequest) => {
  const parts = formatBatches(request.batches);
  const reply: FormatReply = { id: request.id, parts };
  parentPort!.postMessage(reply, parts.map((p) => p.buffer as ArrayBuffer));
});
