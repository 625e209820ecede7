#!/usr/bin/env bash
# Installs Azurite (the Azure Storage emulator, from npm) into .tools/azurite once, unless FRESHET_AZURITE names one.
# Called by ./test.sh (the integration tests start and stop it themselves) and by ./freshet for --profile azurite.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
azurite="$root/.tools/azurite/node_modules/.bin/azurite"
if [ -z "${FRESHET_AZURITE:-}" ] && [ ! -x "$azurite" ]; then
  command -v npm >/dev/null || { echo "npm is needed to install Azurite (the Azure Storage emulator)" >&2; exit 1; }
  echo "installing Azurite 3.37.0 into .tools/azurite (once)" >&2
  mkdir -p "$root/.tools/azurite"
  npm install --prefix "$root/.tools/azurite" --no-audit --no-fund --loglevel=error azurite@3.37.0 >/dev/null
fi
