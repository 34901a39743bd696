#!/usr/bin/env node
// The `tasks` command (cli/src/main.ts, built by `npm run build`).
require('../dist/main.js').main();
