/**
 * Access keys, as AWS has them: an id and a secret, here belonging to a tenant (namespace). The
 * embedded default keeps them in SQLite; on first start it creates one admin pair and writes it as
 * an AWS shared-credentials file (<data dir>/credentials, profile "modelfn").
 */
export interface AccessKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly tenant: string;
  /** Admin keys manage keys and see every tenant. */
  readonly admin: boolean;
  readonly createdAt: string;
  readonly revoked: boolean;
  readonly description: string;
}

/** Who made a request, once its signature (or dashboard session) checked out. */
export interface Principal {
  readonly accessKeyId: string;
  readonly tenant: string;
  readonly admin: boolean;
}

export interface KeyStore {
  /** Synchronous: consulted on the request path from an in-memory view. */
  get(accessKeyId: string): AccessKey | undefined;
  list(): AccessKey[];
  create(options: { tenant: string; admin: boolean; description?: string }): Promise<AccessKey>;
  revoke(accessKeyId: string): Promise<boolean>;
}
