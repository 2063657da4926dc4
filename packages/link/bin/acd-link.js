#!/usr/bin/env node
// The built command line (`pnpm build` writes dist/). Kept as a committed file so the `bin`
// link exists in a fresh checkout, before anything is built (as packages/server/bin does).
import "../dist/bin.js"
