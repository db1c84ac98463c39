import { replay, standardPolicies } from './replay.js';
import type { PolicyResult, PolicyUnderTest, PoolModel } from './replay.js';
import type { Trace } from './trace.js';

/** Adaptive against fixed 10 min: the issue's target is >= 40 % fewer cold starts at no more wasted memory-time. */
export interface Comparison {
  readonly coldStartReduction: number;
  readonly wastedRatio: number;
  readonly targetMet: boolean;
}

export interface ModelReport {
  readonly model: PoolModel;
  readonly results: readonly PolicyResult[];
  readonly adaptiveVsFixed10: Comparison;
}

export interface SimulationReport {
  readonly trace: string;
  readonly models: readonly ModelReport[];
  readonly elapsedMs: number;
}

export const MODEL_TITLES: Record<PoolModel, string> = {
  app: "the paper's model: a loaded function serves overlapping calls; a call is cold when the function is not loaded",
  pool: "modelfn's pools: one call per instance; a call that finds every instance busy cold-starts another (scale-out)",
};

function compareTo(fixed10: PolicyResult | undefined, adaptive: PolicyResult | undefined): Comparison {
  const coldStartReduction = fixed10 && adaptive && fixed10.coldStarts > 0 ? 1 - adaptive.coldStarts / fixed10.coldStarts : 0;
  const wastedRatio = fixed10 && adaptive && fixed10.wastedGbSeconds > 0 ? adaptive.wastedGbSeconds / fixed10.wastedGbSeconds : 0;
  return { coldStartReduction, wastedRatio, targetMet: coldStartReduction >= 0.4 && wastedRatio <= 1 };
}

function compare(results: readonly PolicyResult[]): Comparison {
  // The adaptive policy as the scheduler runs it by default: within the warm-memory budget when one was replayed.
  const adaptive = results.find((r) => r.budget !== undefined) ?? results.find((r) => r.label.startsWith('adaptive'));
  return compareTo(
    results.find((r) => r.label === 'fixed 10 min'),
    adaptive,
  );
}

/** Replay a trace against fixed 10 min, fixed 20 min and adaptive (or the policies given), in each pool model. */
export function simulate(trace: Trace, options: { policies?: readonly PolicyUnderTest[]; models?: readonly PoolModel[] } = {}): SimulationReport {
  const began = performance.now();
  const policies = options.policies ?? standardPolicies();
  const models = (options.models ?? ['app', 'pool']).map((model) => {
    const results = policies.map((p) => replay(trace, p, model));
    return { model, results, adaptiveVsFixed10: compare(results) };
  });
  return { trace: trace.description, models, elapsedMs: performance.now() - began };
}

function fmt(value: number, digits: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(header), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)];
}

/** The report as Markdown tables, one per pool model. */
export function formatReport(report: SimulationReport): string {
  const out = [`Keep-alive policies replayed in virtual time on one trace (${report.trace}; ${fmt(report.elapsedMs / 1000, 1)} s)`];
  for (const m of report.models) {
    const header = ['policy', 'invocations', 'cold starts', 'after idle', 'cold-start rate', 'p75 of functions', 'pre-warms', 'wasted warm GB-s'];
    const rows = m.results.map((r) => [
      r.label,
      fmt(r.invocations, 0),
      fmt(r.coldStarts, 0),
      fmt(r.coldStartsAfterIdle, 0),
      `${fmt(r.coldStartRate * 100, 3)} %`,
      `${fmt(r.p75FunctionColdStartRate * 100, 1)} %`,
      fmt(r.prewarms, 0),
      fmt(r.wastedGbSeconds, 0),
    ]);
    const a = m.adaptiveVsFixed10;
    const fixed10 = m.results.find((r) => r.label === 'fixed 10 min');
    const budgeted = m.results.find((r) => r.budget !== undefined);
    const alone = m.results.find((r) => r.label.startsWith('adaptive') && r.budget === undefined);
    const budgetLines: string[] = [];
    if (budgeted?.budget) {
      const b = budgeted.budget;
      budgetLines.push(
        `warm-memory budget: ${fmt(b.releasedIdle, 0)} idle instances unloaded early, ${fmt(b.skippedPrewarms, 0)} pre-warms skipped or cut short; ` +
          `${fmt(b.spentGbS, 0)} GB-s spent of ${fmt(b.allowanceGbS, 0)} allowed (${fmt(b.allowanceGbS > 0 ? (b.spentGbS / b.allowanceGbS) * 100 : 0, 1)} %)`,
      );
      if (alone) {
        const c = compareTo(fixed10, alone);
        budgetLines.push(`adaptive without the budget: ${fmt(c.coldStartReduction * 100, 1)} % fewer cold starts, ${fmt(c.wastedRatio * 100, 1)} % of fixed 10 min's wasted memory-time`);
      }
    }
    out.push(
      '',
      `### ${m.model} model (${MODEL_TITLES[m.model]})`,
      '',
      ...table(header, rows),
      '',
      `${budgeted ? 'adaptive + budget' : 'adaptive'} vs fixed 10 min: ${fmt(a.coldStartReduction * 100, 1)} % fewer cold starts, ${fmt(a.wastedRatio * 100, 1)} % of its wasted memory-time ` +
        `(target >= 40 % fewer at <= 100 %: ${a.targetMet ? 'met' : 'NOT met'})`,
      ...budgetLines,
    );
  }
  const app = report.models.find((m) => m.model === 'app') ?? report.models[0];
  if (app) {
    const kinds = Object.keys(app.results[0]?.byKind ?? {}).sort();
    const short = (r: PolicyResult) => (r.budget ? 'adaptive + budget' : r.label.split(' (')[0]!);
    const header = ['kind of function', 'functions', ...app.results.flatMap((r) => [`cold: ${short(r)}`, `GB-s: ${short(r)}`])];
    const rows = kinds.map((kind) => [
      kind,
      fmt(app.results[0]!.byKind[kind]!.functions, 0),
      ...app.results.flatMap((r) => [fmt(r.byKind[kind]?.coldStarts ?? 0, 0), fmt(r.byKind[kind]?.wastedGbSeconds ?? 0, 0)]),
    ]);
    out.push('', `### by kind of function (${app.model} model)`, '', ...table(header, rows));
  }
  out.push(
    '',
    '"after idle": cold starts of calls that found no call of the function running (what keep-alive and pre-warm address); ' +
      '"p75 of functions": the 75th percentile over functions of their own cold-start rate (the paper\'s headline metric); ' +
      '"wasted warm GB-s": memory of loaded instances that served nothing (pre-warmed ones included); ' +
      '"adaptive + warm-memory budget": the adaptive policy with the platform holding its idle memory to what fixed 10 min would hold, cumulatively (the scheduler\'s default for adaptive functions).',
  );
  return out.join('\n');
}
