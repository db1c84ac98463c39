/**
 * Caps that keep a hostile artifact from exhausting memory or time. Every size declared by
 * the file is checked against these (and against the bytes actually present) before anything
 * is allocated.
 */
export interface LoadLimits {
  /** Largest decompressed stream accepted (decompression bombs). */
  maxDecompressedBytes: number;
  /** Total bytes of all numpy arrays materialised during one load. */
  maxArrayBytes: number;
  /** Deepest MARK nesting accepted (sklearn pickles stay well under 50). */
  maxMarkDepth: number;
  /** Largest value stack. */
  maxStackSize: number;
  /** Most memo entries. */
  maxMemoEntries: number;
  /** Longest text line / python int accepted by the text opcodes (LONG, INT, FLOAT, GLOBAL). */
  maxLineBytes: number;
}

export const DEFAULT_LIMITS: Readonly<LoadLimits> = Object.freeze({
  maxDecompressedBytes: 512 * 1024 * 1024,
  maxArrayBytes: 512 * 1024 * 1024,
  maxMarkDepth: 1000,
  maxStackSize: 10_000_000,
  maxMemoEntries: 10_000_000,
  maxLineBytes: 4096,
});

export function resolveLimits(partial?: Partial<LoadLimits>): LoadLimits {
  return { ...DEFAULT_LIMITS, ...(partial ?? {}) };
}
