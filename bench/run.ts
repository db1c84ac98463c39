// `npm run bench [section ...]`: every benchmark, each printing a table whose baseline was
// measured in the same run. `npm run bench core python` runs only the sections named.
import { benchCluster } from './cluster.js';
import { benchColdStarts } from './cold-starts.js';
import { benchCore } from './core.js';
import { benchEvents } from './events.js';
import { benchLambdaApi } from './lambda-api.js';
import { benchModelServing } from './model-serving.js';
import { benchPythonColdStart } from './python-cold-start.js';
import { benchSklearnForest } from './sklearn-forest.js';
import { benchTelemetry } from './telemetry.js';
import { generateTrace } from '../src/simulator/trace-generator.js';
import { formatReport, simulate } from '../src/simulator/simulate.js';

const sections: Record<string, () => Promise<unknown>> = {
  core: () => benchCore(),
  events: () => benchEvents(),
  python: () => benchPythonColdStart(),
  sklearn: () => benchSklearnForest(),
  models: () => benchModelServing(),
  telemetry: () => benchTelemetry(),
  'lambda-api': () => benchLambdaApi(),
  cluster: () => benchCluster(),
  cold: () => benchColdStarts(),
  // The keep-alive simulator's table (the default seeded trace of `npm run simulate`).
  simulate: async () => process.stdout.write(`\n## Keep-alive simulator\n${formatReport(simulate(generateTrace()))}\n`),
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !(w in sections));
if (unknown.length > 0) {
  process.stderr.write(`unknown bench section(s): ${unknown.join(', ')}; known: ${Object.keys(sections).join(', ')}\n`);
  process.exit(2);
}
process.stdout.write(`# modelfn benchmarks (${new Date().toISOString()}; machines are shared and noisy: figures are medians)\n`);
for (const [name, run] of Object.entries(sections)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  await run();
}
