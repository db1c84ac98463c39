import type { RequestSigner } from './signer.js';

/**
 * The CLI's HTTP client for a modelfn platform, local or remote. Every client command goes
 * through here; requests are signed with AWS Signature Version 4 when credentials are known.
 */

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
}

export class PlatformClient {
  constructor(
    readonly endpoint: string,
    private readonly signer?: RequestSigner,
  ) {}

  async request(method: string, path: string, body?: Buffer | string, headers: Record<string, string> = {}): Promise<ApiResponse> {
    let response: Response;
    const url = new URL(path, this.endpoint);
    const bytes = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
    const signed = this.signer ? { ...headers, ...(await this.signer.sign(method, url, headers, bytes)) } : headers;
    try {
      response = await fetch(url, { method, body: bytes, headers: signed });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new CliError(`cannot reach modelfn at ${this.endpoint} (${cause}); is it running? Start it with \`modelfn up\` or point --endpoint / MODELFN_ENDPOINT at it.`);
    }
    return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
  }

  /** A modelfn API call: JSON in, JSON out, errors become CliError with the platform's message. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.request(method, path, body === undefined ? undefined : JSON.stringify(body), body === undefined ? {} : { 'content-type': 'application/json' });
    return this.parse<T>(res);
  }

  parse<T>(res: ApiResponse): T {
    const text = res.body.toString('utf8');
    if (res.status >= 400) throw new CliError(describeError(res.status, text));
    if (text === '') return undefined as T;
    return JSON.parse(text) as T;
  }

  /** Stream an NDJSON response line by line. */
  async *lines(path: string): AsyncGenerator<string> {
    let response: Response;
    const url = new URL(path, this.endpoint);
    const headers = this.signer ? await this.signer.sign('GET', url, {}, undefined) : {};
    try {
      response = await fetch(url, { headers });
    } catch (err) {
      throw new CliError(`cannot reach modelfn at ${this.endpoint}: ${(err as Error).message}`);
    }
    if (response.status >= 400 || !response.body) throw new CliError(describeError(response.status, await response.text()));
    const decoder = new TextDecoder();
    let pending = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      pending += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line.trim() !== '') yield line;
      }
    }
  }
}

function describeError(status: number, text: string): string {
  if (status === 403 && /Missing Authentication Token/.test(text)) {
    return 'the platform requires signed requests: run the CLI where the data directory (./.modelfn or $MODELFN_HOME) holds its credentials file, or set MODELFN_ACCESS_KEY_ID and MODELFN_SECRET_ACCESS_KEY (or MODELFN_CREDENTIALS_FILE)';
  }
  try {
    const body = JSON.parse(text) as { message?: string; code?: string; Message?: string };
    const message = body.message ?? body.Message;
    if (message) return `${message}${body.code ? ` (${body.code}, HTTP ${status})` : ` (HTTP ${status})`}`;
  } catch {
    /* not JSON */
  }
  return `HTTP ${status}${text ? `: ${text.slice(0, 500)}` : ''}`;
}

export function defaultEndpoint(env: NodeJS.ProcessEnv): string {
  if (env.MODELFN_ENDPOINT) return env.MODELFN_ENDPOINT;
  return `http://127.0.0.1:${env.MODELFN_PORT ?? '8080'}`;
}
