#!/usr/bin/env bash
# Installs what recite needs to build, run and test on Debian 12 (as root), skipping what is
# already there, then the npm test dependencies (playwright-core drives Debian's chromium;
# it never downloads a browser).
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=(
  build-essential pkg-config clang libclang-rt-14-dev
  libwebsockets-dev libwebsockets-evlib-ev libev-dev libssl-dev libespeak-ng-dev espeak-ng-data libopusenc-dev libopus-dev libopusfile-dev
  libsqlite3-dev sqlite3 libmd4c-dev libxml2-dev libcjson-dev libmp3lame-dev
  libflite1 flite1-dev libcurl4-openssl-dev libmpg123-dev libhiredis-dev
  chromium opus-tools ffmpeg sox redis-server wrk nginx-light
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from elsewhere (e.g. NodeSource, which bundles npm and conflicts with
# Debian's npm package): only ask apt for it when the commands are missing.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
