import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { DISCARD_MAX_BYTES } from '../../../src/server/http/body.js';
import { refuseRequest } from '../../../src/server/http/refuse-request.js';

/** The parts of a socket refuseRequest uses, recording what it did. */
class FakeSocket extends EventEmitter {
  writable = true;
  bytesRead = 0;
  written: string[] = [];
  destroyed = 0;
  end(data: string): void {
    this.written.push(data);
    this.writable = false;
  }
  destroy(): void {
    this.destroyed++;
    this.emit('close');
  }
}

const parseError = (code: string): NodeJS.ErrnoException => Object.assign(new Error('Parse Error'), { code });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('answers as Node does (408, 431, else 400) and closes the connection', () => {
  for (const [code, status] of [['ERR_HTTP_REQUEST_TIMEOUT', '408 Request Timeout'], ['HPE_HEADER_OVERFLOW', '431 Request Header Fields Too Large'], ['HPE_INVALID_URL', '400 Bad Request']] as const) {
    const socket = new FakeSocket();
    refuseRequest(parseError(code), socket as unknown as Duplex, 60_000);
    assert.deepEqual(socket.written, [`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`]);
    assert.equal(socket.destroyed, 0, 'not reset under a client still sending');
    socket.destroy();
  }
});

test('what the client still sends is dropped until the byte limit, then the connection is destroyed', () => {
  const socket = new FakeSocket();
  socket.bytesRead = 1000;
  refuseRequest(parseError('HPE_INVALID_URL'), socket as unknown as Duplex, 60_000);
  // The failed parser reports every further chunk as another error: each is dropped.
  socket.bytesRead += DISCARD_MAX_BYTES;
  refuseRequest(parseError('HPE_INVALID_URL'), socket as unknown as Duplex, 60_000);
  assert.equal(socket.destroyed, 0);
  assert.equal(socket.written.length, 1, 'answered once');
  socket.bytesRead += 1;
  refuseRequest(parseError('HPE_INVALID_URL'), socket as unknown as Duplex, 60_000);
  assert.equal(socket.destroyed, 1);
});

test('the linger ends: a client that neither sends nor closes is closed', async () => {
  const socket = new FakeSocket();
  refuseRequest(parseError('HPE_INVALID_METHOD'), socket as unknown as Duplex, 20);
  assert.equal(socket.destroyed, 0);
  await sleep(60);
  assert.equal(socket.destroyed, 1);
});

test('a socket closed before the linger ends is not destroyed again; one no longer writable is destroyed at once', async () => {
  const closed = new FakeSocket();
  refuseRequest(parseError('HPE_INVALID_METHOD'), closed as unknown as Duplex, 20);
  closed.emit('close');
  await sleep(60);
  assert.equal(closed.destroyed, 0);
  const gone = new FakeSocket();
  gone.writable = false;
  refuseRequest(parseError('HPE_INVALID_EOF_STATE'), gone as unknown as Duplex);
  assert.equal(gone.destroyed, 1);
  assert.deepEqual(gone.written, []);
});
