#!/usr/bin/env -S node --max-semi-space-size=64
// --max-semi-space-size=64: the gateway allocates a little per request at tens of thousands of
// requests a second; with 64 MB semi-spaces (Node's default: 16) the young generation is scavenged
// less often. In an A/B run on the 2-core test machine it took the gateway from 80 to 69 µs of
// CPU per request. `npm start` and the benchmark pass the same flag.
// The CLI entry point: run the compiled CLI (built by `npm install` through the `prepare` script).
import('../dist/src/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    console.error('modelfn is not built yet: run `npm install` (or `npm run build`) in the modelfn folder first.');
    process.exit(1);
  }
  throw err;
});
