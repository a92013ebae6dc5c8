#!/usr/bin/env bash
# ONNX Runtime for the `piper` model (src/engines/piper*.c), called by scripts/deps.sh as
# its own step. Where Debian packages it (Debian 13: libonnxruntime-dev) it comes from apt.
# Elsewhere (Debian 12) it is put together under ORT_PREFIX (default /usr/local, with a
# pkg-config file, so the build finds it exactly as it finds Debian's) from two registry
# packages:
#   - the shared library from the `onnxruntime-node` npm package (fetched with `npm pack`,
#     which runs no install script: that script would try to download GPU builds);
#   - the C headers from Debian 13's libonnxruntime-dev .deb, fetched with `apt-get
#     download` against a one-off source list in a temporary folder (the machine's own apt
#     sources are never touched) and unpacked with `dpkg -x`.
# The headers say ORT_API_VERSION 21 either way and src/engines/piper_ort.c asks the
# runtime for exactly that version, so both give the same build (a newer runtime serves
# older API versions). The Makefile takes pkg-config's libonnxruntime; a user without root
# can run this with ORT_PREFIX=deps/onnxruntime, a folder the Makefile also looks in.
set -euo pipefail
cd "$(dirname "$0")/.."
ORT_NPM_VERSION=1.30.0        # onnxruntime-node: the library (Debian 12)
ORT_DEB_SUITE=trixie          # the Debian release whose libonnxruntime-dev gives the headers
dest=${ORT_PREFIX:-/usr/local}

if pkg-config --exists libonnxruntime 2>/dev/null; then
  echo "onnxruntime: $(pkg-config --modversion libonnxruntime) found by pkg-config"
  exit 0
fi
if [ -f "$dest/include/onnxruntime/onnxruntime_c_api.h" ] && [ -e "$dest/lib/libonnxruntime.so" ]; then
  echo "onnxruntime: already in $dest"
  exit 0
fi
# Debian 13 and later: the distribution's own package.
release=$(. /etc/os-release && echo "${VERSION_ID:-0}")
if [ "${release%%.*}" -ge 13 ] 2>/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-cache show libonnxruntime-dev >/dev/null 2>&1 || apt-get update -qq
  apt-get install -y -qq --no-install-recommends libonnxruntime-dev
  exit 0
fi

case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) echo "onnxruntime: onnxruntime-node has no library for $(uname -m)" >&2; exit 1 ;;
esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "onnxruntime: library from npm onnxruntime-node@$ORT_NPM_VERSION"
(cd "$tmp" && npm pack --silent "onnxruntime-node@$ORT_NPM_VERSION" >/dev/null)
tar -xzf "$tmp"/onnxruntime-node-*.tgz -C "$tmp" "package/bin/napi-v6/linux/$arch/libonnxruntime.so.1"

echo "onnxruntime: C headers from Debian $ORT_DEB_SUITE's libonnxruntime-dev"
mkdir -p "$tmp/apt/lists/partial" "$tmp/apt/cache/archives/partial" "$tmp/apt/parts" "$tmp/apt/prefs"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $ORT_DEB_SUITE main" \
  > "$tmp/apt/sources.list"
apt_opts=(-o "Dir::Etc::sourcelist=$tmp/apt/sources.list" -o "Dir::Etc::sourceparts=$tmp/apt/parts"
          -o "Dir::Etc::preferencesparts=$tmp/apt/prefs" -o "Dir::State::Lists=$tmp/apt/lists"
          -o "Dir::Cache=$tmp/apt/cache" -o "Dir::State::status=/dev/null"
          -o "APT::Sandbox::User=root")
apt-get "${apt_opts[@]}" -qq update
(cd "$tmp" && apt-get "${apt_opts[@]}" -qq download libonnxruntime-dev)
dpkg -x "$tmp"/libonnxruntime-dev_*.deb "$tmp/deb"

mkdir -p "$dest/include/onnxruntime" "$dest/lib/pkgconfig"
cp "$tmp"/deb/usr/include/onnxruntime/*.h "$dest/include/onnxruntime/"
cp "$tmp/package/bin/napi-v6/linux/$arch/libonnxruntime.so.1" "$dest/lib/"
ln -sf libonnxruntime.so.1 "$dest/lib/libonnxruntime.so"
prefix=$(cd "$dest" && pwd)
{
  echo "prefix=$prefix"
  echo 'libdir=${prefix}/lib'
  echo 'includedir=${prefix}/include/onnxruntime'
  echo
  echo 'Name: onnxruntime'
  echo "Description: ONNX Runtime (library: npm onnxruntime-node; headers: Debian $ORT_DEB_SUITE)"
  echo "Version: $ORT_NPM_VERSION"
  echo 'Libs: -L${libdir} -lonnxruntime'
  echo 'Cflags: -I${includedir}'
} > "$dest/lib/pkgconfig/libonnxruntime.pc"
if [ "$(id -u)" = 0 ] && [ "$prefix" = /usr/local ]; then ldconfig; fi
api=$(sed -n 's/^#define ORT_API_VERSION //p' "$dest/include/onnxruntime/onnxruntime_c_api.h")
echo "onnxruntime: $ORT_NPM_VERSION in $prefix (headers: ORT_API_VERSION $api)"
