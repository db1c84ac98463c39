import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { fromPackageRoot } from '../../shared/paths.js';
import { parseOrThrow } from '../../shared/validation.js';
import { gbSeconds } from './usage.js';
import type { Usage } from './usage.js';

const providerSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9-]+$/, { message: 'must be lowercase letters, digits and dashes' }),
    name: z.string().min(1),
    perMillionRequests: z.number().min(0),
    perGbSecond: z.number().min(0),
    perVcpuSecond: z.number().min(0).optional(),
    vcpuByMemoryMb: z.array(z.object({ upToMb: z.number().positive(), vcpu: z.number().positive() }).strict()).optional(),
    rounding: z.enum(['1ms', '100ms', '1ms-min100ms']),
    maxMemoryMb: z.number().int().positive().optional(),
    freeTier: z.string().optional(),
    sources: z.array(z.string()).default([]),
  })
  .strict();

export const priceTableSchema = z
  .object({
    $comment: z.string().optional(),
    currency: z.string().min(1).default('USD'),
    updated: z.string().min(1),
    freeTiers: z.enum(['excluded', 'included']).default('excluded'),
    providers: z.array(providerSchema).min(1),
  })
  .strict();

export type PriceTable = z.infer<typeof priceTableSchema>;
export type ProviderPrices = PriceTable['providers'][number];

export const DEFAULT_PRICES_FILE = fromPackageRoot('src', 'telemetry', 'metering', 'prices.json');

/** Read and validate a price table (the bundled one unless the user points at their own). */
export function loadPriceTable(file: string = DEFAULT_PRICES_FILE): PriceTable {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read the price table ${file}: ${(err as Error).message}`);
  }
  return parseOrThrow(priceTableSchema, raw, `price table ${file}`);
}

/** What one provider would charge for some usage, by component. */
export interface ProviderCost {
  readonly provider: string;
  readonly requests: number;
  readonly compute: number;
  readonly total: number;
}

/**
 * The same usage priced by one provider: requests, plus memory (GB-s) and CPU (vCPU-s, where
 * the provider prices it) over the billed time with that provider's rounding.
 */
export function priceUsage(p: ProviderPrices, u: Usage): ProviderCost {
  const requests = (u.requests * p.perMillionRequests) / 1e6;
  const ms = p.rounding === '1ms' ? u.billedMs : p.rounding === '100ms' ? u.billedMs100 : u.billedMsMin100;
  const memoryMb = p.maxMemoryMb !== undefined ? Math.min(u.memoryMb, p.maxMemoryMb) : u.memoryMb;
  // For 1 ms rounding with the full memory, mbMs is exact even if memory changed within a period.
  const gbs = p.rounding === '1ms' && p.maxMemoryMb === undefined ? gbSeconds(u.mbMs) : gbSeconds(ms * memoryMb);
  let compute = gbs * p.perGbSecond;
  if (p.perVcpuSecond !== undefined && p.vcpuByMemoryMb && p.vcpuByMemoryMb.length > 0) {
    compute += (ms / 1000) * vcpuFor(p.vcpuByMemoryMb, u.memoryMb) * p.perVcpuSecond;
  }
  return { provider: p.id, requests, compute, total: requests + compute };
}

function vcpuFor(table: ReadonlyArray<{ upToMb: number; vcpu: number }>, memoryMb: number): number {
  const sorted = [...table].sort((a, b) => a.upToMb - b.upToMb);
  return (sorted.find((row) => memoryMb <= row.upToMb) ?? sorted.at(-1)!).vcpu;
}
