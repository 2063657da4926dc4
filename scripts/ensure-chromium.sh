#!/usr/bin/env bash
# Makes sure a Chromium for the admin console's browser test (test/console) is installed:
# Debian's `chromium` package, driven by playwright-core through its executablePath (no
# browser download from Playwright's servers). Idempotent and quiet: does nothing when
# ACD_BRIDGE_CHROMIUM or /usr/bin/chromium is already an executable.
set -euo pipefail

chromium="${ACD_BRIDGE_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$chromium" ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-chromium: $chromium is missing and this is not root;" >&2
  echo "install Chromium (Debian/Ubuntu: sudo apt-get install -y chromium)" >&2
  echo "or point ACD_BRIDGE_CHROMIUM at a Chromium binary." >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: no apt-get on this machine; install Chromium by hand and set ACD_BRIDGE_CHROMIUM" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null

if [ ! -x "$chromium" ]; then
  echo "ensure-chromium: installed the chromium package but found no $chromium" >&2
  exit 1
fi
