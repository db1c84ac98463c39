#!/usr/bin/env node
// The CLI entry point: run the compiled CLI (built by `npm install` through the `prepare` script).
import('../dist/src/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    console.error('modelfn is not built yet: run `npm install` (or `npm run build`) in the modelfn folder first.');
    process.exit(1);
  }
  throw err;
});
