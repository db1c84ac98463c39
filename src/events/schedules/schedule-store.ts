import { z } from 'zod';
import type { Registry } from '../../registry/registry.js';
import type { FunctionDocument } from '../../registry/types.js';
import type { Clock } from '../../shared/clock.js';
import { ModelfnError } from '../../shared/errors.js';
import { own, parseJsonBody } from '../../shared/json.js';
import { parseOrThrow } from '../../shared/validation.js';
import { parseSchedule } from './schedule-expression.js';

/** Schedules live in the function document (`extensions.schedules`), so they replicate with it. */
export const SCHEDULES = 'schedules';

export interface StoredSchedule {
  readonly expression: string;
  readonly enabled: boolean;
  /** Custom event (JSON text) instead of the scheduled-event JSON, as an EventBridge target Input. */
  readonly input?: string;
  readonly qualifier?: string;
  /** Anchor of rate schedules; reset when the expression changes. */
  readonly createdAt: number;
}

export const RULE_NAME = /^[A-Za-z0-9._-]{1,64}$/;

export const scheduleInputSchema = z
  .object({
    expression: z.string({ message: 'is required, e.g. "rate(5 minutes)" or "cron(0 12 * * ? *)"' }).min(1).max(256),
    enabled: z.boolean().default(true),
    input: z.string().max(8192).nullable().optional(),
    qualifier: z.string().regex(/^(\$LATEST|[0-9]+|[A-Za-z0-9_-]{1,128})$/).nullable().optional(),
  })
  .strict();

export function schedulesOf(doc: FunctionDocument): Readonly<Record<string, StoredSchedule>> {
  return (doc.extensions[SCHEDULES] as Record<string, StoredSchedule> | undefined) ?? {};
}

export class ScheduleStore {
  constructor(
    private readonly registry: Registry,
    private readonly clock: Clock,
    private readonly allowSeconds: boolean,
  ) {}

  async put(functionName: string, rule: string, body: unknown): Promise<{ created: boolean; schedule: StoredSchedule }> {
    if (!RULE_NAME.test(rule)) throw new ModelfnError('INVALID_PARAMETER', 'rule name: must be 1-64 letters, digits, ., - or _');
    const input = parseOrThrow(scheduleInputSchema, body, 'schedule');
    try {
      parseSchedule(input.expression, { allowSeconds: this.allowSeconds });
    } catch (err) {
      if (err instanceof ModelfnError) throw new ModelfnError('INVALID_PARAMETER', `invalid schedule: expression: ${err.message.replace(/^ScheduleExpression: /, '')}`);
      throw err;
    }
    if (input.input) parseJsonBody(input.input, 'input');
    let created = false;
    let stored: StoredSchedule | undefined;
    await this.registry.update(functionName, (doc) => {
      if (!doc) throw new ModelfnError('FUNCTION_NOT_FOUND', `function ${functionName} does not exist`);
      const all = schedulesOf(doc);
      const previous = own(all, rule);
      created = previous === undefined;
      stored = {
        expression: input.expression.trim(),
        enabled: input.enabled,
        ...(input.input ? { input: input.input } : {}),
        ...(input.qualifier ? { qualifier: input.qualifier } : {}),
        createdAt: previous && previous.expression === input.expression.trim() ? previous.createdAt : this.clock.now(),
      };
      return { ...doc, extensions: { ...doc.extensions, [SCHEDULES]: { ...all, [rule]: stored } } };
    });
    return { created, schedule: stored! };
  }

  async remove(functionName: string, rule: string): Promise<void> {
    await this.registry.update(functionName, (doc) => {
      if (!doc) throw new ModelfnError('FUNCTION_NOT_FOUND', `function ${functionName} does not exist`);
      const all = { ...schedulesOf(doc) };
      if (!own(all, rule)) throw new ModelfnError('RESOURCE_NOT_FOUND', `function ${functionName} has no schedule ${rule}`);
      delete all[rule];
      return { ...doc, extensions: { ...doc.extensions, [SCHEDULES]: all } };
    });
  }
}
