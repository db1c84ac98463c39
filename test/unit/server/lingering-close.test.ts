import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { isLingering, lingeringClose } from '../../../src/server/http/lingering-close.js';
import { refuseRequest } from '../../../src/server/http/refuse-request.js';

/** The parts of a socket the closing code uses, recording what it did. */
class FakeSocket extends EventEmitter {
  writable = true;
  bytesRead = 0;
  written: string[] = [];
  ended = 0;
  destroyed = 0;
  write(data: string): boolean {
    this.written.push(data);
    return true;
  }
  end(): void {
    this.ended++;
    this.writable = false;
  }
  destroy(): void {
    this.destroyed++;
    this.emit('close');
  }
  get duplex(): Duplex {
    return this as unknown as Duplex;
  }
}

const parseError = (code: string): NodeJS.ErrnoException => Object.assign(new Error('Parse Error'), { code });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a refused request is answered as Node does (408, 431, else 400), once, and its connection closed lingering', () => {
  for (const [code, status] of [['ERR_HTTP_REQUEST_TIMEOUT', '408 Request Timeout'], ['HPE_HEADER_OVERFLOW', '431 Request Header Fields Too Large'], ['HPE_INVALID_URL', '400 Bad Request']] as const) {
    const socket = new FakeSocket();
    refuseRequest(parseError(code), socket.duplex);
    // The failed parser reports every further chunk the client sends as another error.
    refuseRequest(parseError(code), socket.duplex);
    assert.deepEqual(socket.written, [`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`]);
    assert.equal(socket.ended, 1);
    assert.equal(socket.destroyed, 0, 'not reset under a client still sending');
    assert.ok(isLingering(socket.duplex));
    socket.destroy();
  }
});

test('a socket no longer writable is destroyed at once, unanswered', () => {
  const gone = new FakeSocket();
  gone.writable = false;
  refuseRequest(parseError('HPE_INVALID_EOF_STATE'), gone.duplex);
  assert.equal(gone.destroyed, 1);
  assert.deepEqual(gone.written, []);
});

test('the lingering close ends after its time: a client that neither sends nor closes is closed', async () => {
  const socket = new FakeSocket();
  lingeringClose(socket.duplex, { lingerMs: 20 });
  lingeringClose(socket.duplex, { lingerMs: 20 });
  assert.equal(socket.ended, 1, 'ended once');
  assert.equal(socket.destroyed, 0);
  await sleep(80);
  assert.equal(socket.destroyed, 1);
});

test('the lingering close ends past its byte limit', async () => {
  const socket = new FakeSocket();
  socket.bytesRead = 5000;
  lingeringClose(socket.duplex, { lingerMs: 60_000, maxBytes: 1000, checkEveryMs: 5 });
  socket.bytesRead += 1000;
  await sleep(40);
  assert.equal(socket.destroyed, 0, 'at the limit: still reading');
  socket.bytesRead += 1;
  await sleep(40);
  assert.equal(socket.destroyed, 1);
});

test('a socket the client closed first is not destroyed again later', async () => {
  const socket = new FakeSocket();
  lingeringClose(socket.duplex, { lingerMs: 20, checkEveryMs: 5 });
  socket.emit('close');
  socket.bytesRead += 1e9;
  await sleep(60);
  assert.equal(socket.destroyed, 0);
});
