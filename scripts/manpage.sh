#!/usr/bin/env bash
# Writes recite(1) in roff to stdout, generated from the binary's own --help output (the
# commands from `recite --help`, each command's options from `recite CMD --help`, which come
# from the one option table in src/config.c), so the man page cannot drift from the code.
#   scripts/manpage.sh build/recite > build/recite.1      (`make install` does this)
set -euo pipefail
bin=$1
# roff-escapes the text of a help line (not the macros around it)
awk_esc='function esc(s) { gsub(/\\/, "\\e", s); gsub(/-/, "\\-", s); if (s ~ /^[.'"'"']/) s = "\\&" s; return s }'
cat <<'HEAD'
.TH RECITE 1 "" "recite" "User Commands"
.SH NAME
recite \- a self\-hosted server that reads documents aloud
.SH SYNOPSIS
.B recite
.I command
.RI [ options ]
.SH DESCRIPTION
One binary: the server (web player, HTTP API, WebSocket, TTS workers), a worker for
distributed mode, and one\-shot commands.
HEAD
"$bin" --help | awk "$awk_esc"'
  /^commands:/ { f = 1; next }
  f && /^  [a-z]/ { name = $1; $1 = ""; sub(/^ +/, ""); printf ".TP\n.B %s\n%s\n", name, esc($0) }'
echo ".SH COMMANDS"
for c in $("$bin" --help | awk '/^commands:/{f=1; next} f && /^  [a-z]/{print $1}'); do
  "$bin" "$c" --help | awk -v c="$c" "$awk_esc"'
    NR == 1 { sub(/^usage: /, ""); printf ".SS %s\n.nf\n%s\n.fi\n", c, esc($0); next }
    NR == 2 { print esc($0); next }
    /^  -/ {
      line = substr($0, 3)
      flag = line; sub(/  +.*/, "", flag)
      help = substr(line, length(flag) + 1); sub(/^ +/, "", help)
      printf ".TP\n.B %s\n%s\n", esc(flag), esc(help)
    }'
done
cat <<'TAIL'
.SH ENVIRONMENT
Every option but
.B \-\-help
and
.B \-o
can also be set in the environment: the variable is RECITE_ followed by the option's name
in capitals with \- as _, e.g.
.B RECITE_PORT=8080
or
.BR RECITE_MAX_BODY_MB=20 ;
a flag is 1 or 0. The command line wins over the environment. The systemd unit
(recite.service) reads them from /etc/default/recite.
.SH FILES
.TP
.I ./recite\-data
the default data directory (the SQLite database); the service uses /var/lib/recite.
.TP
.I PREFIX/share/recite/web
the web player, served by
.BR "recite serve" .
.SH SEE ALSO
README.md and docs/PROTOCOL.md (the HTTP API and WebSocket messages) in the source tree.
TAIL
