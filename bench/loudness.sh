#!/usr/bin/env bash
# loudness — does every voice play at the same loudness? For every voice of every local
# model (espeak-ng and flite), the preview sentence in the voice's language is synthesized by
# a real server (GET /v1/models/{model}/voices/{voice}/preview), the served Ogg Opus is
# downloaded and measured with ffmpeg's ebur128 filter (ITU-R BS.1770 / EBU R128). Beside it,
# bench/loudness.c gives the engine's own level before levelling and recite's meter after.
# Prints a table and the spread (max - min) of the served loudness, before and after.
#
#   bench/loudness.sh [MODEL]          (from the repository root, after `make`)
#   RECITE_BIN=build-san/recite bench/loudness.sh flite
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${RECITE_BIN:-build/recite}
ONLY=${1:-}
for tool in ffmpeg curl jq; do
  command -v "$tool" >/dev/null || { echo "loudness: needs $tool" >&2; exit 2; }
done
[ -x "$BIN" ] || { echo "loudness: build $BIN first (make)" >&2; exit 2; }

work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# Before/after with recite's own meter (no Opus in between), linked like the binary.
ldlibs=$(printf 'print-ldlibs:\n\t@echo $(LDLIBS)\n' | make -s --no-print-directory -f Makefile -f - print-ldlibs)
cc -O2 -std=gnu11 -Isrc -D_GNU_SOURCE -o "$work/loudness" bench/loudness.c \
  "$(dirname "$BIN")/librecite.a" $ldlibs
"$work/loudness" $ONLY 2>/dev/null > "$work/meter.tsv"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" serve --port "$port" --data "$work/data" --workers "$(nproc)" >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 100); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.05; done
url=http://127.0.0.1:$port

printf '%-7s %-20s %-16s %9s %9s %9s\n' model voice lang raw_LUFS meter ffmpeg
while IFS=$'\t' read -r model voice lang raw meter gain; do
  enc=$(jq -rn --arg v "$voice" '$v|@uri')
  audio=$(curl -sf "$url/v1/models/$model/voices/$enc/preview" | jq -r .audio_url) || audio=
  served=nan
  if [ -n "$audio" ] && curl -sf -o "$work/a.ogg" "$url$audio"; then
    served=$(ffmpeg -nostdin -hide_banner -nostats -i "$work/a.ogg" -af ebur128 -f null - 2>&1 |
             awk '/^ +I:/ { v = $2 } END { print v }')
  fi
  printf '%-7s %-20s %-16s %9s %9s %9s\n' "$model" "$voice" "$lang" "$raw" "$meter" "$served"
  printf '%s\t%s\t%s\n' "$raw" "$meter" "$served" >> "$work/values"
done < "$work/meter.tsv"

awk -F'\t' '
  function upd(i, v) { if (v == "nan" || v == "") return; n[i]++; s[i] += v; q[i] += v * v;
                        if (!(i in lo) || v < lo[i]) lo[i] = v; if (!(i in hi) || v > hi[i]) hi[i] = v }
  { upd(1, $1); upd(2, $2); upd(3, $3) }
  END {
    split("engine output (before levelling)|recite meter (after, PCM)|ffmpeg ebur128 (served Ogg Opus)", name, "|")
    printf "\n%-36s %6s %8s %8s %8s %8s %8s\n", "", "voices", "min", "max", "spread", "mean", "stdev"
    for (i = 1; i <= 3; i++) if (n[i]) {
      m = s[i] / n[i]; sd = sqrt(q[i] / n[i] - m * m)
      printf "%-36s %6d %8.2f %8.2f %8.2f %8.2f %8.2f\n", name[i], n[i], lo[i], hi[i], hi[i] - lo[i], m, sd
    }
  }' "$work/values"
