#!/usr/bin/env bash
# Installs what recite needs to build, run and test on Debian 12 (bookworm) or Debian 13
# (trixie), as root, skipping what is already there, then the npm test dependencies
# (playwright-core drives Debian's chromium; it never downloads a browser).
#
# Adding a package: put it in `common` when both releases call it the same, otherwise its
# Debian 12 name in `deb12` and its Debian 13 name in `deb13` (e.g. a library renamed by the
# 64-bit time_t transition, libfoo1 -> libfoo1t64). Only -dev packages and tools belong here:
# the runtime libraries come with them under whatever name the release uses.
set -euo pipefail
cd "$(dirname "$0")/.."
common=(
  build-essential pkg-config clang libclang-rt-dev
  libwebsockets-dev libwebsockets-evlib-ev libev-dev libssl-dev libespeak-ng-dev espeak-ng-data libopusenc-dev libopus-dev libopusfile-dev
  libsqlite3-dev sqlite3 libmd4c-dev libxml2-dev libcjson-dev libmp3lame-dev
  libflite1 flite1-dev libcurl4-openssl-dev libmpg123-dev libhiredis-dev libicu-dev
  libpoppler-glib-dev libglib2.0-dev libarchive-dev fonts-dejavu-core
  libavformat-dev libavcodec-dev libavutil-dev libswresample-dev
  libflac-dev
  chromium opus-tools ffmpeg sox redis-server wrk nginx-light
  systemd   # systemd-analyze verify checks the unit that `make install` writes
  debootstrap   # CI's Debian 13 leg (.ci/debian13) builds its root with it
)
# Names that differ between the releases. (libclang-rt-dev above follows each release's
# default clang: libclang-rt-14-dev on 12, libclang-rt-19-dev on 13.)
deb12=()
deb13=()

. /etc/os-release
case "${VERSION_ID:-}" in
  12) release=("${deb12[@]}") ;;
  *)  release=("${deb13[@]}") ;;   # 13, and testing/unstable, which carry 13's names forward
esac
pkgs=("${common[@]}" "${release[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from elsewhere (e.g. NodeSource, which bundles npm and conflicts with
# Debian's npm package): only ask apt for it when the commands are missing.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing on Debian ${VERSION_ID:-?}: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
# ONNX Runtime for the piper model: apt where Debian packages it, else a folder of its own
# (scripts/onnxruntime.sh says where each part comes from).
bash scripts/onnxruntime.sh
