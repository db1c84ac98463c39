import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/**
 * Signs the CLI's requests with AWS Signature Version 4 (the AWS SDK's own signer), so the
 * platform authenticates its CLI exactly as it authenticates the AWS CLI and SDKs.
 */
export class RequestSigner {
  private readonly signers = new Map<string, SignatureV4>();

  /** service: fixed, or by default chosen per path ('modelfn' for /_modelfn, else 'lambda'). */
  constructor(
    private readonly credentials: Credentials,
    private readonly region: string,
    private readonly service?: string,
  ) {}

  private signerFor(path: string): SignatureV4 {
    const service = this.service ?? (path.startsWith('/_modelfn') ? 'modelfn' : 'lambda');
    let signer = this.signers.get(service);
    if (!signer) {
      signer = new SignatureV4({ credentials: this.credentials, region: this.region, service, sha256: Hash.bind(null, 'sha256'), uriEscapePath: true });
      this.signers.set(service, signer);
    }
    return signer;
  }

  /** Headers to add to a request (authorization, x-amz-date, x-amz-content-sha256). */
  async sign(method: string, url: URL, headers: Record<string, string>, body: Buffer | undefined): Promise<Record<string, string>> {
    const query = wireQuery(url.search);
    const signed = await this.signerFor(url.pathname).sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query,
      headers: { ...headers, host: url.host },
      body,
    });
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(signed.headers)) if (k !== 'host') out[k] = String(v);
    return out;
  }
}

/**
 * The query as it goes on the wire, decoded the way SigV4 decodes it (percent escapes only). A '+'
 * stays '+': URLSearchParams would read it as a space, and the signature would cover "%20" while
 * the platform, like AWS, canonicalises the '+' it receives as "%2B".
 */
function wireQuery(search: string): Record<string, string | string[]> {
  // No prototype: a parameter named toString or constructor is a parameter like any other.
  const query = Object.create(null) as Record<string, string | string[]>;
  for (const part of search.replace(/^\?/, '').split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = decodeComponent(eq < 0 ? part : part.slice(0, eq));
    const v = decodeComponent(eq < 0 ? '' : part.slice(eq + 1));
    const existing = query[k];
    query[k] = existing === undefined ? v : Array.isArray(existing) ? [...existing, v] : [existing, v];
  }
  return query;
}

function decodeComponent(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
