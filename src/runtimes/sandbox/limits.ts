import type { FunctionConfig } from '../../registry/types.js';
import type { ProcessLimits } from './bwrap-args.js';

/**
 * Per-instance limits that hold without cgroups (set with prlimit inside every sandbox, hard and
 * soft alike, so a function cannot raise them):
 *
 * - RLIMIT_NPROC = 1024 tasks (processes and threads), Lambda's own limit. It counts per user
 *   namespace (Linux >= 5.14), and every sandbox has its own, so a fork bomb exhausts its own
 *   sandbox's allowance, not the host's pid space. (On an older kernel the count would be shared
 *   by every sandbox of one host uid.)
 * - RLIMIT_DATA = twice the memory size plus the runtime's own baseline. It counts private
 *   writable memory (heaps, Buffers, numpy arrays: native allocations the V8 heap cap does not
 *   see), so an allocation far beyond the memory size fails at once (Node.js: RangeError "Array
 *   buffer allocation failed"; Python: MemoryError) instead of taking the host's memory. The
 *   memory size itself is enforced by the RSS watchdog (src/scheduler/memory-watchdog.ts, every
 *   200 ms over the sandbox's whole process tree); the rlimit bounds what a burst can take
 *   between two samples. RLIMIT_AS is not used: V8 reserves far more address space than it uses
 *   (WebAssembly guard regions), and so does OpenBLAS.
 *   Baselines measured here: Node.js 48 MB (VmData of an idle instance), Python with numpy and
 *   scikit-learn 210 MB (OpenBLAS buffers), a model host about 100 MB.
 * - RLIMIT_CORE = 0: no core files.
 *
 * Where the platform can write a memory cgroup (memory-cgroups.ts), the kernel also caps each
 * sandbox as a whole at its memory size plus its /tmp size (tmpfs pages are charged to it): a
 * limit that holds at every allocation. Without one, the watchdog and RLIMIT_DATA are the limit.
 */
export const PROCESS_LIMIT = 1024;

/** Lambda's default ephemeral storage (/tmp), and its range. */
export const DEFAULT_TMP_MB = 512;
export const TMP_RANGE = { min: 512, max: 10240 } as const;

const BASELINE_MB = { nodejs: 256, python: 384, provided: 256, model: 256 } as const;

export type RuntimeFamily = keyof typeof BASELINE_MB;

/** `tmpMb`: the sandbox's /tmp size, which its memory cgroup is charged for too. */
export function processLimits(family: RuntimeFamily, memoryMb: number, tmpMb: number): ProcessLimits {
  return { processes: PROCESS_LIMIT, dataMb: 2 * memoryMb + BASELINE_MB[family], memoryCapMb: memoryMb + tmpMb };
}

/** The function's network setting (documents stored before it existed: allowed). */
export function networkOf(config: Pick<FunctionConfig, 'network'>): 'allow' | 'deny' {
  return config.network ?? 'allow';
}

/** The function's /tmp size in MB. */
export function tmpSizeOf(config: Pick<FunctionConfig, 'tmpSizeMb'>): number {
  return config.tmpSizeMb ?? DEFAULT_TMP_MB;
}
