#!/usr/bin/env bash
# Load test of the release build. Bounded, loopback only, stops by itself.
#
#   benches/load.sh                      # typical patient, c = 1, 8, 64, 15 s each
#   DURATION=5 CONCURRENCY="1 64" SIZE=large benches/load.sh
#   SENTINEL_BIN=/tmp/old/cart-sentinel benches/load.sh   # another build (say, the previous
#                                                          # release), not rebuilt; same pack
#
# 1. installs wrk if missing (apt-get), builds the release binary, generates the patient;
# 2. starts a mock FHIR server (benches/mock_fhir.py: every query answered after 20 ms);
# 3. starts cart-sentinel on the embedded default (development mode, SQLite in a temporary data
#    directory, a free port, SENTINEL__FHIR__ALLOWED_SERVERS = the mock) and times start-up to
#    ready (GET /readyz answers 200): once on an empty data directory, once on a restart;
# 4. fires patient-view with the full prefetch at each concurrency for DURATION seconds:
#    p50 / p99 latency, requests/s, errors (socket errors + non-2xx), peak RSS of the service
#    during that run (VmHWM, reset before each run);
# 5. the fetch path: the same request without prefetch, with fhirServer = the mock, at c = 1;
#    compared with the slowest single query to the mock, timed alone.
# Everything it started is stopped on exit.

set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-15}
CONCURRENCY=${CONCURRENCY:-"1 8 64"}
SIZE=${SIZE:-typical}
FETCH_DELAY_MS=${FETCH_DELAY_MS:-20}
WARMUP=${WARMUP:-3}

TMP=$(mktemp -d)
SERVICE_PID=""
MOCK_PID=""
cleanup() {
    local rc=$?
    if [ -n "$SERVICE_PID" ]; then kill "$SERVICE_PID" 2>/dev/null; wait "$SERVICE_PID" 2>/dev/null || true; fi
    if [ -n "$MOCK_PID" ]; then kill "$MOCK_PID" 2>/dev/null; wait "$MOCK_PID" 2>/dev/null || true; fi
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%s\n' "$*" >&2; }

# --- load generator ----------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
    say "installing wrk (apt-get)"
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null
    else
        sudo apt-get update -qq >/dev/null && sudo apt-get install -y -qq wrk >/dev/null
    fi
fi
command -v wrk >/dev/null || { say "wrk is required (apt-get install wrk)"; exit 1; }

# --- build and data ----------------------------------------------------------------------
if [ -n "${SENTINEL_BIN:-}" ]; then
    BIN=$SENTINEL_BIN
    say "using $BIN (not rebuilt)"
else
    say "building the release binary"
    cargo build --release --quiet --bin cart-sentinel
    BIN=target/release/cart-sentinel
fi
BODY=benches/data/$SIZE.json
[ -f "$BODY" ] || python3 benches/gen_patient.py "$SIZE" >&2

# shellcheck source=benches/service.sh
. benches/service.sh

# --- mock FHIR server --------------------------------------------------------------------
python3 benches/mock_fhir.py --port 0 --request "$BODY" --delay-ms "$FETCH_DELAY_MS" \
    >"$TMP/mock.out" 2>"$TMP/mock.err" &
MOCK_PID=$!
for _ in $(seq 100); do grep -q '^port ' "$TMP/mock.out" 2>/dev/null && break; sleep 0.05; done
MOCK_PORT=$(sed -n 's/^port //p' "$TMP/mock.out")
[ -n "$MOCK_PORT" ] || { say "mock FHIR server did not start"; cat "$TMP/mock.err" >&2; exit 1; }
FHIR_BASE="http://127.0.0.1:$MOCK_PORT/fhir"

# --- the service -------------------------------------------------------------------------
PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
start_service() { # sets READY_MS: milliseconds from exec to the first 200 from /readyz
    local t0 t1
    t0=$(date +%s%N)
    SENTINEL__SERVER__PORT=$PORT \
    SENTINEL__STORAGE__DATA_DIR="$TMP/data" \
    SENTINEL__FHIR__ALLOWED_SERVERS="[\"$FHIR_BASE\"]" \
        "$BIN" serve >>"$TMP/service.log" 2>&1 &
    SERVICE_PID=$!
    if wait_ready "$URL" "$SERVICE_PID"; then
        t1=$(date +%s%N)
        READY_MS=$(((t1 - t0) / 1000000))
        return 0
    fi
    say "the service did not become ready"; tail -20 "$TMP/service.log" >&2; exit 1
}
stop_service() {
    kill "$SERVICE_PID"; wait "$SERVICE_PID" 2>/dev/null || true; SERVICE_PID=""
}
start_service
READY_COLD=$READY_MS
stop_service
start_service
READY_WARM=$READY_MS

# --- requests ----------------------------------------------------------------------------
python3 - "$BODY" "$FHIR_BASE" "$TMP/fetch.json" <<'EOF'
import json, sys
req = json.load(open(sys.argv[1]))
del req["prefetch"]
req["fhirServer"] = sys.argv[2]
json.dump(req, open(sys.argv[3], "w"))
EOF
cards() { # the rule ids of the cards answered to a body, or the HTTP status
    curl -s -o "$TMP/resp.json" -w '%{http_code}' -H 'Content-Type: application/json' \
        --data-binary @"$1" "$URL/cds-services/cart-monitoring" >"$TMP/status"
    if [ "$(cat "$TMP/status")" = 200 ]; then
        python3 -c 'import json,sys; print(",".join(c["source"]["topic"]["code"] for c in json.load(open(sys.argv[1]))["cards"]))' "$TMP/resp.json"
    else
        echo "HTTP $(cat "$TMP/status")"
    fi
}
CARDS_PREFETCH=$(cards "$BODY")
CARDS_FETCH=$(cards "$TMP/fetch.json")

cat >"$TMP/post.lua" <<'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open(os.getenv("LOAD_BODY"), "rb"))
wrk.body = f:read("*a")
f:close()
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %.3f %.3f %.1f %d %d %d\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6), summary.requests,
    e.connect + e.read + e.write + e.timeout, e.status))
end
EOF

hwm_mb() { peak_rss_mb "$SERVICE_PID"; }
reset_hwm() { echo 5 >"/proc/$SERVICE_PID/clear_refs" 2>/dev/null || true; }
run() { # body concurrency seconds -> "p50 p99 rps requests socket_errors non2xx"
    LOAD_BODY=$1 wrk -t1 -c"$2" -d"$3"s --timeout 5s -s "$TMP/post.lua" \
        "$URL/cds-services/cart-monitoring" | sed -n 's/^RESULT //p'
}

say "warming up (${WARMUP} s)"
run "$BODY" 8 "$WARMUP" >/dev/null

ROWS=()
for c in $CONCURRENCY; do
    say "patient-view, $SIZE patient, full prefetch, c=$c, ${DURATION} s"
    reset_hwm
    read -r p50 p99 rps n sock non2xx <<<"$(run "$BODY" "$c" "$DURATION")"
    ROWS+=("$(printf '| prefetch | %3s | %8s | %8s | %8s | %7s | %s + %s | %6s |' \
        "$c" "$p50" "$p99" "$rps" "$n" "$sock" "$non2xx" "$(hwm_mb)")")
done

# The slowest single query to the mock, each query timed alone (median of 5).
SLOWEST=$(python3 - "$FHIR_BASE" "$(sed -n 's/.*"patientId": *"\([^"]*\)".*/\1/p' "$BODY" | head -1)" <<'EOF'
import json, statistics, sys, time, urllib.request
base, pid = sys.argv[1], sys.argv[2]
templates = json.load(open("cds-hooks/services/cart-monitoring.json"))["prefetch"]
worst = 0.0
for t in templates.values():
    url = base + "/" + t.replace("{{context.patientId}}", pid).replace("|", "%7C")
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        with urllib.request.urlopen(url) as r:
            r.read()
        times.append(time.perf_counter() - t0)
    worst = max(worst, statistics.median(times))
print(f"{worst * 1000:.1f}")
EOF
)
say "fetch path: no prefetch, fhirServer = mock (${FETCH_DELAY_MS} ms per query), c=1, ${DURATION} s"
reset_hwm
read -r p50 p99 rps n sock non2xx <<<"$(run "$TMP/fetch.json" 1 "$DURATION")"
ROWS+=("$(printf '| fetch    | %3s | %8s | %8s | %8s | %7s | %s + %s | %6s |' \
    1 "$p50" "$p99" "$rps" "$n" "$sock" "$non2xx" "$(hwm_mb)")")
FETCH_P50=$p50
FETCH_P99=$p99

# --- report ------------------------------------------------------------------------------
echo
echo "cart-sentinel load test: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
echo "patient: $BODY ($(stat -c %s "$BODY") bytes); wrk -t1, ${DURATION} s per run; service: release build, development defaults"
echo
echo "| path     |   c |  p50 ms  |  p99 ms  |  req/s   | requests | errors (socket + non-2xx) | peak RSS MB |"
echo "|----------|-----|----------|----------|----------|----------|------------|--------|"
printf '%s\n' "${ROWS[@]}"
echo
echo "start-up to ready: ${READY_COLD} ms on an empty data directory (migrations, pack seeding), ${READY_WARM} ms on a restart"
echo "cards, full prefetch: ${CARDS_PREFETCH:-none}"
echo "cards, fetch path:    ${CARDS_FETCH:-none}"
echo "fetch path: slowest single query alone ${SLOWEST} ms; hook call p50 ${FETCH_P50} ms, p99 ${FETCH_P99} ms (target: slowest query + 10 ms)"
echo "service log: $(grep -cE 'ERROR|panicked' "$TMP/service.log" || true) error lines"
