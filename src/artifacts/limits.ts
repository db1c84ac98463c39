/** Bundle limits, as Lambda's deployment-package quotas (50 MB zipped, 250 MB unpacked). */
export interface BundleLimits {
  readonly maxZippedBytes: number;
  readonly maxUnpackedBytes: number;
  readonly maxEntries: number;
  /** An entry bigger than minRatioCheckBytes that inflates more than this many times is refused. */
  readonly maxCompressionRatio: number;
  readonly minRatioCheckBytes: number;
}

export const DEFAULT_BUNDLE_LIMITS: BundleLimits = {
  maxZippedBytes: 50 * 1024 * 1024,
  maxUnpackedBytes: 250 * 1024 * 1024,
  maxEntries: 20_000,
  // Real code and models compress well under 100:1; zip bombs reach 1000:1 and more.
  maxCompressionRatio: 200,
  minRatioCheckBytes: 1024 * 1024,
};
