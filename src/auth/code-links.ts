import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Short-lived download links for code bundles (GetFunction's Code.Location, like S3 presigned
 * URLs): the link carries an expiry and an HMAC of (bundle, expiry) under a per-process secret.
 */
export class CodeLinks {
  private readonly secret = randomBytes(32);

  constructor(private readonly ttlMs = 10 * 60 * 1000) {}

  /** Query string for a link valid for the next ttlMs. */
  sign(sha256: string, now = Date.now()): string {
    const expires = now + this.ttlMs;
    return `expires=${expires}&signature=${this.mac(sha256, expires)}`;
  }

  verify(sha256: string, query: URLSearchParams, now = Date.now()): boolean {
    const expires = Number(query.get('expires'));
    const given = Buffer.from(query.get('signature') ?? '', 'hex');
    if (!Number.isFinite(expires) || expires < now) return false;
    const expected = Buffer.from(this.mac(sha256, expires), 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private mac(sha256: string, expires: number): string {
    return createHmac('sha256', this.secret).update(`${sha256}\n${expires}`).digest('hex');
  }
}
