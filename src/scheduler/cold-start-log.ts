import type { ColdStartRecord } from './scheduler.js';

/** The last cold starts of each function, for the modelfn API and the dashboard (bounded memory). */
export class ColdStartLog {
  private readonly byFunction = new Map<string, ColdStartRecord[]>();

  constructor(private readonly perFunction = 20) {}

  add(record: ColdStartRecord): void {
    let list = this.byFunction.get(record.functionName);
    if (!list) this.byFunction.set(record.functionName, (list = []));
    list.push(record);
    if (list.length > this.perFunction) list.shift();
  }

  /** Newest first. */
  recent(functionName: string): ColdStartRecord[] {
    return [...(this.byFunction.get(functionName) ?? [])].reverse();
  }

  forget(functionName: string): void {
    this.byFunction.delete(functionName);
  }
}

/** The platform log line that breaks a cold start down, after the first invocation's REPORT. */
export function formatInitPhases(requestId: string, r: ColdStartRecord): string {
  const p = r.phases;
  const part = (label: string, ms: number | undefined) => (ms === undefined ? '' : `\t${label}: ${ms.toFixed(2)} ms`);
  return (
    `INIT_PHASES RequestId: ${requestId}\tInit Duration: ${r.initDurationMs.toFixed(2)} ms` +
    part('Fetch', p?.fetchMs) +
    part('Process Start', p?.processStartMs) +
    part('Runtime Init', p?.runtimeInitMs) +
    part('User Init', p?.userInitMs) +
    part('First Invoke', p?.firstInvokeMs) +
    `\tStem Cell: ${r.stemCell ? 'yes' : 'no'}`
  );
}
