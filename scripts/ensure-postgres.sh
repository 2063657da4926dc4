#!/usr/bin/env bash
# Makes sure PostgreSQL server binaries (initdb, pg_ctl, postgres) are installed, so the test
# suite can start a throwaway cluster (see test/setup/postgres.ts). Idempotent and quiet:
# does nothing when a /usr/lib/postgresql/<version>/bin/pg_ctl already exists.
set -euo pipefail

have_pg() {
  local f
  for f in /usr/lib/postgresql/*/bin/pg_ctl; do
    [ -x "$f" ] && [ -x "$(dirname "$f")/initdb" ] && return 0
  done
  return 1
}

if have_pg; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-postgres: PostgreSQL server binaries are missing and this is not root;" >&2
  echo "install the 'postgresql' package (Debian/Ubuntu: sudo apt-get install -y postgresql)" >&2
  echo "or point ACD_BRIDGE_TEST_PG_URL at a database you may create databases on." >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-postgres: no apt-get on this machine; install PostgreSQL (initdb, pg_ctl) by hand" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends postgresql >/dev/null

if ! have_pg; then
  echo "ensure-postgres: installed the postgresql package but found no /usr/lib/postgresql/*/bin/pg_ctl" >&2
  exit 1
fi
