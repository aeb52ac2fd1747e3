#!/usr/bin/env bash
# Instructions per hook call in the running service: exactly repeatable, unlike
# wall-clock figures on a shared machine.
#
#   benches/callgrind_call.sh                          # typical patient, target/release build
#   SIZE=large benches/callgrind_call.sh
#   SENTINEL_BIN=/tmp/old/cart-sentinel benches/callgrind_call.sh   # another build
#   KEEP=/tmp/cg.out benches/callgrind_call.sh   # keep the profile for callgrind_annotate
#
# Starts the release binary under `valgrind --tool=callgrind` on the embedded default (as
# benches/load.sh does, no FHIR server), sends CALLS (3) patient-view calls with the full
# prefetch one after another, stops it, and prints the instructions per call of the whole
# connection task (actix's HTTP/1 dispatcher: body reading, parsing, engine, response, storage
# queueing), inclusive. Needs valgrind (apt-get install valgrind).

set -euo pipefail
cd "$(dirname "$0")/.."

SIZE=${SIZE:-typical}
CALLS=${CALLS:-3}
BODY=benches/data/$SIZE.json
[ -f "$BODY" ] || python3 benches/gen_patient.py "$SIZE" >&2
if [ -n "${SENTINEL_BIN:-}" ]; then
    BIN=$SENTINEL_BIN
else
    cargo build --release --quiet --bin cart-sentinel
    BIN=target/release/cart-sentinel
fi
command -v valgrind >/dev/null || { echo "valgrind is required (apt-get install valgrind)" >&2; exit 1; }

TMP=$(mktemp -d)
PID=""
cleanup() {
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; fi
    if [ -n "${KEEP:-}" ] && [ -f "$TMP/cg.out" ]; then cp "$TMP/cg.out" "$KEEP"; fi
    rm -rf "$TMP"
}
trap cleanup EXIT

# shellcheck source=benches/service.sh
. benches/service.sh
PORT=$(free_port)
SENTINEL__SERVER__PORT=$PORT SENTINEL__STORAGE__DATA_DIR="$TMP/data" RUST_LOG=warn \
    valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.out" "$BIN" serve >"$TMP/log" 2>&1 &
PID=$!
# Ready when the port accepts connections: no HTTP request before the calls, so the
# connection task's total is the calls' alone.
for _ in $(seq 1200); do
    python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' \
        "$PORT" 2>/dev/null && break
    kill -0 "$PID" 2>/dev/null || { cat "$TMP/log" >&2; exit 1; }
    sleep 0.2
done
for _ in $(seq "$CALLS"); do
    status=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
        --data-binary @"$BODY" "http://127.0.0.1:$PORT/cds-services/cart-monitoring")
    [ "$status" = 200 ] || { echo "a call answered $status" >&2; exit 1; }
done
kill -INT "$PID"; wait "$PID" 2>/dev/null || true; PID=""

echo "$BIN, $SIZE patient ($(wc -c <"$BODY") bytes), instructions per call over $CALLS calls:"
# The connection task's total: the largest line of actix's HTTP/1 dispatcher (inlined parts of
# a function are listed under other source files). For one part of a call, count it alone with
# `valgrind --tool=callgrind --toggle-collect=...` on the `eval` command (README, Performance).
callgrind_annotate --inclusive=yes "$TMP/cg.out" 2>/dev/null | python3 -c '
import re, sys
total = 0
for line in sys.stdin:
    m = re.match(r"\s*([\d,]+) \(", line)
    if m and re.search(r"h1::dispatcher::Dispatcher<T,S,B,X,U> as core::future::future::Future>::poll", line):
        total = max(total, int(m.group(1).replace(",", "")))
print(f"  whole call (actix connection task): {total / int(sys.argv[1]) / 1e6:.1f} M")
' "$CALLS"
