import FindMyWay from 'find-my-way';
import type { HTTPMethod } from 'find-my-way';
import type { PayloadFormat, RouteSpec } from '../../registry/types.js';
import { routeKey } from '../../registry/types.js';
import { dictionary } from './http-request.js';

/** A user route bound to its function. */
export interface RouteBinding {
  readonly functionName: string;
  readonly route: RouteSpec;
  /** "POST /hello/{id}" or "$default", as API Gateway puts it in the event. */
  readonly routeKey: string;
  readonly payloadFormat: PayloadFormat;
  /** {name} segments in order; a greedy {name+} is matched by the router's wildcard. */
  readonly greedyParam?: string;
}

export type RouteMatch =
  | { readonly kind: 'found'; readonly binding: RouteBinding; readonly pathParameters: Record<string, string> | undefined }
  | { readonly kind: 'method-not-allowed'; readonly allowed: string[] }
  | { readonly kind: 'not-found' };

const METHODS: HTTPMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
const noop = () => undefined;

/**
 * Matches requests to user routes with API Gateway's precedence (static segments beat {param},
 * which beats {proxy+}; then ANY; then $default). Rebuilt whole when routes change: routes change
 * rarely and a rebuild is cheap, lookups happen on every request.
 */
export class RouteTable {
  private readonly router = FindMyWay({ caseSensitive: true, ignoreTrailingSlash: false, maxParamLength: 2048 });
  private readonly anyRouter = FindMyWay({ caseSensitive: true, ignoreTrailingSlash: false, maxParamLength: 2048 });
  private defaultBinding: RouteBinding | undefined;
  readonly bindings: readonly RouteBinding[];
  /** Routes the router refused (the shape of an earlier route); they match nothing. */
  readonly skipped: RouteBinding[] = [];

  constructor(bindings: readonly RouteBinding[]) {
    this.bindings = bindings;
    for (const binding of bindings) {
      const { route } = binding;
      if (route.path === '$default') {
        this.defaultBinding = binding;
        continue;
      }
      const pattern = toRouterPattern(route.path);
      try {
        if (route.method === 'ANY') this.anyRouter.on(METHODS, pattern, noop, binding);
        else this.router.on(route.method as HTTPMethod, pattern, noop, binding);
      } catch {
        // A stored route the router cannot take (one shape under two keys, deployed before the
        // deployer refused that): the first keeps it. Throwing here would fail every registry
        // change and stop the platform from starting on this data.
        this.skipped.push(binding);
      }
    }
  }

  static fromRoutes(routes: Iterable<{ functionName: string; route: RouteSpec }>): RouteTable {
    const bindings: RouteBinding[] = [];
    for (const { functionName, route } of routes) {
      const greedy = /\{([A-Za-z0-9_]+)\+\}$/.exec(route.path)?.[1];
      bindings.push({
        functionName,
        route,
        routeKey: routeKey(route),
        payloadFormat: route.payloadFormat,
        ...(greedy ? { greedyParam: greedy } : {}),
      });
    }
    return new RouteTable(bindings);
  }

  match(method: string, rawPath: string): RouteMatch {
    const known = METHODS.includes(method as HTTPMethod);
    if (known) {
      const found = this.find(this.router, method as HTTPMethod, rawPath) ?? this.find(this.anyRouter, method as HTTPMethod, rawPath);
      if (found) return found;
    }
    if (this.defaultBinding) return { kind: 'found', binding: this.defaultBinding, pathParameters: undefined };
    const allowed = METHODS.filter((m) => this.find(this.router, m, rawPath) ?? this.find(this.anyRouter, m, rawPath));
    if (allowed.length > 0) return { kind: 'method-not-allowed', allowed };
    return { kind: 'not-found' };
  }

  private find(router: FindMyWay.Instance<FindMyWay.HTTPVersion.V1>, method: HTTPMethod, rawPath: string): RouteMatch | undefined {
    let result;
    try {
      result = router.find(method, rawPath);
    } catch {
      return undefined; // malformed percent-encoding matches nothing
    }
    if (!result) return undefined;
    const binding = result.store as RouteBinding;
    let pathParameters: Record<string, string> | undefined;
    for (const [name, value] of Object.entries(result.params)) {
      // API Gateway never matches a parameter to an empty segment.
      if (value === undefined || value === '') return undefined;
      pathParameters ??= dictionary();
      pathParameters[name === '*' ? (binding.greedyParam ?? 'proxy') : name] = value;
    }
    return { kind: 'found', binding, pathParameters };
  }
}

/** '/items/{id}/{proxy+}' -> '/items/:id/*'; literal ':' is escaped for the router. */
export function toRouterPattern(path: string): string {
  return path
    .split('/')
    .map((segment) => {
      const param = /^\{([A-Za-z0-9_]+)(\+?)\}$/.exec(segment);
      if (param) return param[2] ? '*' : `:${param[1]}`;
      return segment.replaceAll(':', '::');
    })
    .join('/');
}
