import type { AsyncConfigStore } from '../async/async-config-store.js';
import type { LambdaOperationRegistrar } from './http.js';
import { intParam, jsonBody, noContent, sendAws } from './http.js';

const PATH = '/2019-09-25/functions/:name/event-invoke-config';

/**
 * Lambda's asynchronous invocation configuration operations, with AWS's paths and shapes:
 * Put (replace), Update (merge), Get, Delete and List. Authentication is the surface's job.
 */
export function registerEventInvokeConfigOperations(api: LambdaOperationRegistrar, store: AsyncConfigStore): void {
  const target = (name: string, query: URLSearchParams) => store.target(name, query.get('Qualifier') ?? undefined);
  api.operation('PUT', PATH, async (req, res, params, query, id) => {
    const t = target(params.name!, query);
    sendAws(res, 200, await store.put(t.name, t.qualifier, await jsonBody(req), false), id);
  });
  api.operation('POST', PATH, async (req, res, params, query, id) => {
    const t = target(params.name!, query);
    sendAws(res, 200, await store.put(t.name, t.qualifier, await jsonBody(req), true), id);
  });
  api.operation('GET', PATH, async (_req, res, params, query, id) => {
    const t = target(params.name!, query);
    sendAws(res, 200, store.get(t.name, t.qualifier), id);
  });
  api.operation('DELETE', PATH, async (_req, res, params, query, id) => {
    const t = target(params.name!, query);
    await store.delete(t.name, t.qualifier);
    noContent(res, { 'x-amzn-requestid': id });
  });
  api.operation('GET', `${PATH}/list`, async (_req, res, params, query, id) => {
    const t = target(params.name!, new URLSearchParams());
    const max = intParam(query, 'MaxItems', 50, 1, 50);
    const all = store.list(t.name);
    const start = Number(query.get('Marker') ?? 0) || 0;
    const page = all.slice(start, start + max);
    sendAws(res, 200, { FunctionEventInvokeConfigs: page, ...(start + max < all.length ? { NextMarker: String(start + max) } : {}) }, id);
  });
}
