/**
 * Builds the dashboard's front end into dist/dashboard (index.html, app.js, app.css) with esbuild
 * from npm packages (uPlot); run by `npm run build` after tsc. Nothing is fetched at run time:
 * the platform serves these files.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { build } from 'esbuild';
import { fromPackageRoot } from '../shared/paths.js';

const web = fromPackageRoot('src', 'dashboard', 'web');
const out = fromPackageRoot('dist', 'dashboard');

await mkdir(out, { recursive: true });
await build({
  entryPoints: { app: `${web}/main.ts` },
  bundle: true,
  format: 'esm',
  target: ['es2022'],
  minify: true,
  sourcemap: true,
  outdir: out,
  logLevel: 'warning',
  legalComments: 'linked',
});
await copyFile(`${web}/index.html`, `${out}/index.html`);
