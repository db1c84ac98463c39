import type { Registry } from '../../registry/registry.js';
import { sendJson } from '../../server/http/respond.js';
import { ModelfnError } from '../../shared/errors.js';
import type { ScheduleClaims } from '../schedules/schedule-claims.js';
import type { ScheduleRunner } from '../schedules/schedule-runner.js';
import type { ScheduleStore } from '../schedules/schedule-store.js';
import { schedulesOf } from '../schedules/schedule-store.js';
import { ruleArn } from '../schedules/scheduled-event.js';
import type { AdminRegistrar } from './http.js';
import { jsonBody, noContent } from './http.js';

/** Schedules over the modelfn API: GET / PUT / DELETE /_modelfn/v1/functions/{name}/schedules[/{rule}]. */
export function registerScheduleRoutes(admin: AdminRegistrar, d: { registry: Registry; store: ScheduleStore; runner: ScheduleRunner; claims: ScheduleClaims }): void {
  const view = async (functionName: string, rule: string) => {
    const s = schedulesOf(d.registry.get(functionName)!)[rule]!;
    const last = await d.claims.lastScheduled(`${functionName}/${rule}`);
    const next = d.runner.nextRun(functionName, rule, last);
    return {
      name: rule,
      arn: ruleArn(d.registry.account, rule),
      function: functionName,
      expression: s.expression,
      enabled: s.enabled,
      input: s.input ?? null,
      qualifier: s.qualifier ?? null,
      createdAt: new Date(s.createdAt).toISOString(),
      lastRun: last === undefined ? null : new Date(last).toISOString(),
      nextRun: next === undefined ? null : new Date(next).toISOString(),
    };
  };
  const mustGet = (name: string) => {
    const doc = d.registry.get(name);
    if (!doc) throw new ModelfnError('FUNCTION_NOT_FOUND', `function ${name} does not exist`);
    return doc;
  };
  admin.on('GET', '/_modelfn/v1/functions/:name/schedules', async (_req, res, p) => {
    const doc = mustGet(p.name!);
    sendJson(res, 200, { schedules: await Promise.all(Object.keys(schedulesOf(doc)).sort().map((rule) => view(doc.name, rule))) });
  });
  admin.on('PUT', '/_modelfn/v1/functions/:name/schedules/:rule', async (req, res, p) => {
    mustGet(p.name!);
    const { created } = await d.store.put(p.name!, p.rule!, await jsonBody(req));
    sendJson(res, created ? 201 : 200, await view(p.name!, p.rule!));
  });
  admin.on('DELETE', '/_modelfn/v1/functions/:name/schedules/:rule', async (_req, res, p) => {
    mustGet(p.name!);
    await d.store.remove(p.name!, p.rule!);
    await d.claims.forget(`${p.name!}/${p.rule!}`);
    noContent(res);
  });
}
