// The log formatter's worker thread: columns in, NDJSON bytes out (their buffers transferred).
import { parentPort } from 'node:worker_threads';
import { columnsToText } from './log-columns.js';
import type { FormatReply, FormatRequest } from './log-formatter.js';

const encoder = new TextEncoder();

parentPort!.on('message', (request: FormatRequest) => {
  const parts = request.batches.map((b) => encoder.encode(columnsToText(b.functionName, b.columns)));
  const reply: FormatReply = { id: request.id, parts };
  parentPort!.postMessage(reply, parts.map((p) => p.buffer as ArrayBuffer));
});
