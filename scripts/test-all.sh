#!/usr/bin/env bash
# Runs every test. PostgreSQL tests need Debian's postgresql binaries: installed here when
# missing (as root), then the vitest global setup starts a throwaway cluster on 127.0.0.1; the admin
# console's browser test needs Debian's chromium, installed the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-postgres.sh
bash scripts/ensure-chromium.sh
exec pnpm exec vitest run "$@"
