import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';

/**
 * Tests that need a Debian package: on a developer machine without it they skip with a one-line
 * notice; under CI=true a missing dependency fails the test, so CI can never pass by skipping.
 */
export interface Requirement {
  readonly name: string;
  readonly install: string;
  available(): boolean;
}

const cache = new Map<string, boolean>();

function probe(key: string, check: () => boolean): boolean {
  let value = cache.get(key);
  if (value === undefined) {
    value = check();
    cache.set(key, value);
  }
  return value;
}

export const PYTHON3 = process.env.MODELFN_TEST_PYTHON ?? '/usr/bin/python3';

export const requirements = {
  python3: { name: 'python3', install: 'python3', available: () => probe('python3', () => existsSync(PYTHON3)) },
  sklearn: {
    name: 'python3-sklearn',
    install: 'python3-sklearn',
    available: () => probe('sklearn', () => spawnSync(PYTHON3, ['-c', 'import sklearn, joblib'], { stdio: 'ignore' }).status === 0),
  },
  onnx: {
    name: 'python3-onnx',
    install: 'python3-onnx',
    available: () => probe('onnx', () => spawnSync(PYTHON3, ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0),
  },
  awscli: { name: 'awscli', install: 'awscli', available: () => probe('awscli', () => existsSync('/usr/bin/aws')) },
  natsServer: {
    name: 'nats-server',
    install: 'nats-server',
    available: () => probe('nats', () => spawnSync('nats-server', ['--version'], { stdio: 'ignore' }).status === 0 || existsSync('/usr/sbin/nats-server')),
  },
  chromium: { name: 'chromium', install: 'chromium', available: () => probe('chromium', () => existsSync('/usr/bin/chromium')) },
  curl: { name: 'curl', install: 'curl', available: () => probe('curl', () => spawnSync('curl', ['--version'], { stdio: 'ignore' }).status === 0) },
  chrt: { name: 'chrt (util-linux)', install: 'util-linux', available: () => probe('chrt', () => existsSync('/usr/bin/chrt')) },
  bwrap: { name: 'bubblewrap', install: 'bubblewrap', available: () => probe('bwrap', () => existsSync('/usr/bin/bwrap')) },
  /** Network namespaces for partition tests: iproute2's `ip netns`, which needs root. */
  netns: {
    name: 'network namespaces (root and iproute2)',
    install: 'iproute2',
    available: () => probe('netns', () => process.getuid?.() === 0 && spawnSync('ip', ['netns', 'list'], { stdio: 'ignore' }).status === 0),
  },
} satisfies Record<string, Requirement>;

/**
 * Returns true when the test may run. Without the dependency: under CI=true it throws (the test
 * fails); elsewhere it marks the test skipped with a one-line notice and returns false.
 */
export function need(t: TestContext, ...reqs: Requirement[]): boolean {
  const missing = reqs.filter((r) => !r.available());
  if (missing.length === 0) return true;
  const names = missing.map((r) => r.name).join(', ');
  const line = `needs ${names}: sudo apt-get install -y ${missing.map((r) => r.install).join(' ')}`;
  if (process.env.CI === 'true') throw new Error(`CI=true and ${line}`);
  t.skip(line);
  return false;
}
