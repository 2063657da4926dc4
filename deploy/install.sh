#!/usr/bin/env bash
# Installs the built acd-bridge server into a directory as a user of the registry would:
# packs every runtime package (pnpm pack applies publishConfig: the exports point at dist/)
# and `npm install`s the tarballs with the exact peer versions the project is tested with.
#
#   bash deploy/install.sh <target-dir>        (after `pnpm build`)
#
# Used by the Dockerfile and by scripts/installed-smoke.sh; docs/install.md has the same
# peer versions for embedders who install from the registry.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
target="${1:?usage: deploy/install.sh <target-dir>}"
packs="$(mktemp -d)"
trap 'rm -rf "$packs"' EXIT

for p in core sql-storage api-push http csv sql-source five9 vonage genesys-engage server; do
  [ -f "$here/packages/$p/dist/index.js" ] || { echo "packages/$p is not built: run pnpm build" >&2; exit 1; }
  (cd "$here/packages/$p" && pnpm pack --pack-destination "$packs" >/dev/null)
done

# the peers, at the versions the lockfile tests (keep in step with docs/install.md)
peers=(
  effect@3.22.4
  @effect/platform@0.97.2
  @effect/platform-node@0.108.2
  @effect/sql@0.52.1
  @effect/experimental@0.61.1
  @effect/cli@0.77.2
  @effect/cluster@0.60.2
  @effect/rpc@0.76.2
)

mkdir -p "$target"
cd "$target"
[ -f package.json ] || printf '{ "name": "acd-bridge-install", "private": true, "type": "module" }\n' > package.json
npm install --omit=dev --no-audit --no-fund "$packs"/*.tgz "${peers[@]}"
echo "installed: $target/node_modules/.bin/acd-bridge"
