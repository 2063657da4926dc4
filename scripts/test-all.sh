#!/usr/bin/env bash
# Runs every test. PostgreSQL tests need Debian's postgresql binaries: installed here when
# missing (as root), then the vitest global setup starts a throwaway cluster on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-postgres.sh
exec pnpm exec vitest run "$@"
