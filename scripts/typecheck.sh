#!/usr/bin/env bash
# Typechecks the libraries as a project-reference build (tsc -b), then every example, the
# benchmarks and the end-to-end tests as plain programs (they publish no declarations).
set -euo pipefail
cd "$(dirname "$0")/.."
tsc -b tsconfig.json
for project in examples/*/tsconfig.json bench/tsconfig.json test/tsconfig.json docs/tools/tsconfig.json; do
  [ -f "$project" ] || continue
  echo "typecheck ${project%/tsconfig.json}"
  tsc --noEmit -p "$project"
done
