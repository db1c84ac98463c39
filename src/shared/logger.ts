import { pino } from 'pino';
import type { Logger } from 'pino';

/** The platform's own structured logs (JSON lines); function logs go to the log store instead. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { svc: 'modelfn' }, timestamp: pino.stdTimeFunctions.isoTime });
}
