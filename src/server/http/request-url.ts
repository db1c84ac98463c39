/** Path and query of a request target without building a URL object (hot path). */
export interface RequestTarget {
  /** As sent, still percent-encoded. */
  readonly rawPath: string;
  readonly rawQuery: string;
}

export function splitTarget(url: string | undefined): RequestTarget {
  const target = url ?? '/';
  const q = target.indexOf('?');
  if (q < 0) return { rawPath: target, rawQuery: '' };
  return { rawPath: target.slice(0, q), rawQuery: target.slice(q + 1) };
}

/** Decode a path for matching; a malformed escape (%zz) yields undefined. */
export function decodePath(rawPath: string): string | undefined {
  if (!rawPath.includes('%')) return rawPath;
  try {
    return decodeURIComponent(rawPath);
  } catch {
    return undefined;
  }
}

export function matchesPrefix(path: string, prefix: string): boolean {
  return path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 47 /* / */);
}
