import { randomBytes } from 'node:crypto';
import type { FunctionDocument } from '../../registry/types.js';

export interface CorsConfig {
  readonly AllowCredentials?: boolean;
  readonly AllowHeaders?: readonly string[];
  readonly AllowMethods?: readonly string[];
  readonly AllowOrigins?: readonly string[];
  readonly ExposeHeaders?: readonly string[];
  readonly MaxAge?: number;
}

/** A function URL: an HTTP endpoint for one qualifier of a function, API Gateway 2.0 events in. */
export interface UrlConfig {
  readonly urlId: string;
  /** '' for the unqualified function ($LATEST), else a version or alias. */
  readonly qualifier: string;
  readonly authType: 'NONE' | 'AWS_IAM';
  readonly cors?: CorsConfig;
  readonly invokeMode: 'BUFFERED' | 'RESPONSE_STREAM';
  readonly createdAt: string;
  readonly lastModified: string;
}

export function urlConfigs(doc: FunctionDocument): Record<string, UrlConfig> {
  return (doc.extensions.urls as Record<string, UrlConfig> | undefined) ?? {};
}

/** 32 lowercase letters and digits, like Lambda's URL ids. */
export function newUrlId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(32)].map((b) => alphabet[b % alphabet.length]).join('');
}

export const URL_PREFIX = '/lambda-url';
