import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AccessKey, KeyStore } from '../../../src/auth/access-keys.js';
import { SESSION_COOKIE, SessionSigner, checkCredentials, parseCookies, sessionCookie } from '../../../src/dashboard/session.js';

const key = (id: string, secret: string, revoked = false): AccessKey => ({ accessKeyId: id, secretAccessKey: secret, tenant: 't', admin: true, createdAt: '', revoked, description: '' });

function keyStore(keys: AccessKey[]): KeyStore {
  const map = new Map(keys.map((k) => [k.accessKeyId, k]));
  return { get: (id) => map.get(id), list: () => [...map.values()], create: () => Promise.reject(new Error('no')), revoke: () => Promise.resolve(false) };
}

test('sessions are signed, expire, and cannot be forged or altered', () => {
  let now = 1_000_000;
  const signer = new SessionSigner(Buffer.alloc(32, 7), 60_000, () => now);
  const { token, claims } = signer.issue('AKIAEXAMPLE');
  assert.match(token, /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  assert.deepEqual(signer.verify(token), { accessKeyId: 'AKIAEXAMPLE', expiresAt: now + 60_000 });
  assert.equal(claims.expiresAt, now + 60_000);
  const [v, body, mac] = token.split('.') as [string, string, string];
  const forgedBody = Buffer.from(JSON.stringify({ k: 'AKIAOTHER', e: now + 60_000 })).toString('base64url');
  assert.equal(signer.verify(`${v}.${forgedBody}.${mac}`), undefined, 'claims changed: the MAC no longer fits');
  assert.equal(signer.verify(`${v}.${body}.${mac.slice(0, -2)}AA`), undefined, 'MAC changed');
  assert.equal(signer.verify(`v2.${body}.${mac}`), undefined);
  assert.equal(new SessionSigner(Buffer.alloc(32, 8), 60_000, () => now).verify(token), undefined, 'another platform key does not accept it');
  assert.equal(signer.verify(undefined), undefined);
  assert.equal(signer.verify('x'.repeat(5000)), undefined);
  now += 60_000;
  assert.equal(signer.verify(token), undefined, 'expired');
});

test('credentials: the right secret of a live key passes; wrong, unknown or revoked ones do not', () => {
  const keys = keyStore([key('AKIA1', 'secret-one'), key('AKIA2', 'secret-two', true)]);
  assert.equal(checkCredentials(keys, 'AKIA1', 'secret-one')?.accessKeyId, 'AKIA1');
  assert.equal(checkCredentials(keys, 'AKIA1', 'secret-on'), undefined);
  assert.equal(checkCredentials(keys, 'AKIA1', 'secret-one '), undefined);
  assert.equal(checkCredentials(keys, 'AKIA2', 'secret-two'), undefined, 'revoked');
  assert.equal(checkCredentials(keys, 'AKIA3', 'secret-one'), undefined, 'unknown');
});

test('the cookie is HttpOnly, SameSite=Strict, scoped to /ui and parsed back', () => {
  const c = sessionCookie('v1.a.b', 3600, false);
  assert.match(c, /HttpOnly/);
  assert.match(c, /SameSite=Strict/);
  assert.match(c, /Path=\/ui/);
  assert.doesNotMatch(c, /Secure/);
  assert.match(sessionCookie('v1.a.b', 3600, true), /; Secure$/);
  assert.equal(parseCookies(`other=1; ${SESSION_COOKIE}=v1.a.b; x=2`).get(SESSION_COOKIE), 'v1.a.b');
  assert.equal(parseCookies(undefined).size, 0);
});
