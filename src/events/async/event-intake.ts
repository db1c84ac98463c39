import type { Registry } from '../../registry/registry.js';
import type { SubmitRequest } from './async-invoker.js';

/** What the Invoke operation and async routes need: store an event durably (404/413 on bad input). */
export interface EventIntake {
  submit(request: SubmitRequest): Promise<void>;
}

/**
 * The intake of each running platform, keyed by the registry it serves (one per platform), so the
 * surfaces find it without new constructor wiring: the event module attaches itself at start and
 * detaches at stop. A surface that finds none answers as before (Event invocations refused).
 */
const intakes = new WeakMap<Registry, EventIntake>();

export function attachEventIntake(registry: Registry, intake: EventIntake | undefined): void {
  if (intake) intakes.set(registry, intake);
  else intakes.delete(registry);
}

export function eventIntakeFor(registry: Registry): EventIntake | undefined {
  return intakes.get(registry);
}
