#!/usr/bin/env bash
# Throughput of two builds compared in one sitting, round by round (A then B in each round), so
# that a machine whose speed drifts moves both alike. Loopback only, stops by itself.
#
#   benches/compare_load.sh OLD_BIN OLD_DIR                # this checkout's release build vs OLD
#   ROUNDS=5 REQUESTS=3000 CONCURRENCY=64 benches/compare_load.sh /tmp/old/cart-sentinel /tmp/old-checkout
#
# OLD_DIR is the checkout the old binary was built from: each service runs in its own checkout's
# directory, on its own pack (cds-hooks/), so what is compared is what each version answers. Each
# run: a fresh service on an empty data directory (development defaults), `ab -k` posting the
# typical patient REQUESTS times at CONCURRENCY, then the service's own CPU seconds
# (/proc/<pid>/stat, user + system) and peak RSS. Prints one line per run and the medians.
# Needs `ab` (apache2-utils; installed with apt-get if missing).

set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { sed -n 2,13p "$0" >&2; exit 2; }
OLD_BIN=$(realpath "$1")
OLD_DIR=$(realpath "$2")
ROUNDS=${ROUNDS:-5}
REQUESTS=${REQUESTS:-3000}
CONCURRENCY=${CONCURRENCY:-64}
BODY=$(realpath benches/data/typical.json)
[ -f "$BODY" ] || python3 benches/gen_patient.py typical >&2

if ! command -v ab >/dev/null; then
    echo "installing ab (apt-get install apache2-utils)" >&2
    apt-get install -y -qq apache2-utils >/dev/null 2>&1 ||
        sudo apt-get install -y -qq apache2-utils >/dev/null
fi
NEW_BIN=${SENTINEL_BIN:-}
if [ -z "$NEW_BIN" ]; then
    cargo build --release --quiet --bin cart-sentinel
    NEW_BIN=$(realpath target/release/cart-sentinel)
fi
NEW_DIR=$(pwd)
# shellcheck source=benches/service.sh
. benches/service.sh

TMP=$(mktemp -d)
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$TMP"' EXIT
PORT=$(free_port)
TICK=$(getconf CLK_TCK)

one_run() { # label binary dir -> "label req/s cpu_s peak_MB failed"
    local data="$TMP/data-$RANDOM"
    (cd "$3" && SENTINEL__SERVER__PORT=$PORT SENTINEL__STORAGE__DATA_DIR=$data \
        exec "$2" serve >"$TMP/service.log" 2>&1) &
    PID=$!
    wait_ready "http://127.0.0.1:$PORT" "$PID" || { tail -20 "$TMP/service.log" >&2; exit 1; }
    local before after
    before=$(awk '{print $14 + $15}' "/proc/$PID/stat")
    ab -q -k -n "$REQUESTS" -c "$CONCURRENCY" -p "$BODY" -T application/json \
        "http://127.0.0.1:$PORT/cds-services/cart-monitoring" >"$TMP/ab.txt" 2>&1
    after=$(awk '{print $14 + $15}' "/proc/$PID/stat")
    local rps failed peak
    rps=$(awk '/Requests per second/ {print $4}' "$TMP/ab.txt")
    failed=$(awk '/Failed requests|Non-2xx/ {n += $NF} END {print n + 0}' "$TMP/ab.txt")
    peak=$(peak_rss_mb "$PID")
    kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
    rm -rf "$data"
    echo "$1 $rps $(awk -v t="$((after - before))" -v k="$TICK" 'BEGIN {printf "%.2f", t / k}') $peak $failed"
}

echo "round build req/s service_cpu_s peak_MB failed" | tee "$TMP/runs"
for r in $(seq "$ROUNDS"); do
    echo "$r $(one_run new "$NEW_BIN" "$NEW_DIR")" | tee -a "$TMP/runs"
    echo "$r $(one_run old "$OLD_BIN" "$OLD_DIR")" | tee -a "$TMP/runs"
done
echo
echo "medians over $ROUNDS rounds ($REQUESTS requests at c = $CONCURRENCY, typical patient):"
for b in new old; do
    awk -v b="$b" '$2 == b' "$TMP/runs" | sort -k3 -n | awk -v b="$b" '{r[NR] = $3} END {printf "%s: %s req/s\n", b, r[int((NR + 1) / 2)]}'
    awk -v b="$b" '$2 == b' "$TMP/runs" | sort -k4 -n | awk '{c[NR] = $4} END {printf "    service CPU %s s for the run\n", c[int((NR + 1) / 2)]}'
done
