import type { TestContext } from 'node:test';

/** One backend instance under test; `reopen` (a restart on the same storage) is optional. */
export interface Harness<T> {
  readonly subject: T;
  reopen?(): Promise<T>;
  close(): Promise<void>;
}

/** Builds a fresh backend for one test, or returns undefined after marking the test skipped. */
export type HarnessFactory<T> = (t: TestContext) => Promise<Harness<T> | undefined>;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll until check() holds (backends whose change feeds arrive over the network). */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}
