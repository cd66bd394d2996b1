#!/usr/bin/env bash
# Soak: does the load generator's memory stay flat over a long fixed-rate run, and
# how much does the results database grow per cell?
#
# 1. `bakeoff load --rate RATE` against a local nginx (one worker, a fixed 13-byte
#    body; python3 -m http.server when nginx is missing) for DURATION seconds,
#    sampling the generator's RSS (VmRSS) every SAMPLE seconds. Prints the first
#    (after WARM seconds), last and max RSS and whether it stayed flat: growth from
#    first to last within max(2 MiB, 5 % of first).
# 2. RUNS short `bakeoff run`s of the tests' `steady` fixture into one database,
#    checkpointing the WAL after each, and prints the bytes added per stored cell.
#
# Usage: bench/soak.sh   (env: DURATION=600 RATE=2000 SAMPLE=5 RUNS=10 BAKEOFF=path)
set -euo pipefail

DURATION=${DURATION:-600}
RATE=${RATE:-2000}
CONNS=${CONNS:-16}
SAMPLE=${SAMPLE:-5}
WARM=${WARM:-5}
RUNS=${RUNS:-10}
PORT=${PORT:-18091}

source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/nginx.sh"
bench_work soak
server_pid=""
load_pid=""

stop_soak() {
    [[ -n "$load_pid" ]] && kill -TERM "$load_pid" 2>/dev/null || true
    # The server runs in its own process group (setsid): stop the whole group.
    stop_group "$server_pid"
}
on_exit stop_soak

if [[ -z "${BAKEOFF:-}" ]]; then
    echo "building bakeoff (debug; set BAKEOFF=target/release/bakeoff for a release binary)..." >&2
    (cd "$root" && cargo build -q -p bakeoff)
    BAKEOFF="$root/target/debug/bakeoff"
fi
require python3 sqlite3

# --- the server -------------------------------------------------------------
if command -v nginx >/dev/null; then
    nginx_config "$work" "$PORT"
    setsid nginx -c "$work/nginx.conf" -p "$work" &
    server="nginx (1 worker)"
else
    mkdir -p "$work/www" && printf 'Hello, World!' >"$work/www/index.html"
    setsid python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$work/www" >/dev/null 2>&1 &
    server="python3 -m http.server"
fi
server_pid=$!
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    sleep 0.1
done

# --- 1. generator RSS over a fixed-rate run -----------------------------------
echo "soak: bakeoff load --rate $RATE -c $CONNS for ${DURATION}s against $server; RSS every ${SAMPLE}s" >&2
"$BAKEOFF" load "http://127.0.0.1:$PORT/" --rate "$RATE" -c "$CONNS" -d "${DURATION}s" --json \
    >"$work/load.json" 2>"$work/load.err" &
load_pid=$!
sleep "$WARM"
samples=()
while kill -0 "$load_pid" 2>/dev/null; do
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$load_pid/status" 2>/dev/null || true)
    [[ -n "$rss" ]] && samples+=("$rss")
    sleep "$SAMPLE"
done
wait "$load_pid" || { echo "error: bakeoff load failed:" >&2; cat "$work/load.err" >&2; exit 1; }
load_pid=""
printf '%s\n' "${samples[@]}" >"$work/rss"
python3 - "$work/rss" "$work/load.json" <<'PY'
import json, sys
rss = [int(x) for x in open(sys.argv[1]).read().split()]
report = json.load(open(sys.argv[2]))
if len(rss) < 2:
    sys.exit("error: fewer than two RSS samples; raise DURATION")
first, last, peak = rss[0], rss[-1], max(rss)
allowed = max(2048, first * 0.05)
flat = last - first <= allowed
print(f"generator RSS: first {first/1024:.1f} MiB, last {last/1024:.1f} MiB, "
      f"max {peak/1024:.1f} MiB over {len(rss)} samples -> "
      f"{'FLAT' if flat else 'GROWING'} (growth {(last-first)/1024:+.1f} MiB, allowed {allowed/1024:.1f} MiB)")
errors = sum(report["errors"].values())
print(f"load: {report['requests']} responses at {report['achieved_rate']:.0f} req/s "
      f"(target {report['target_rate']}), {errors} errors")
sys.exit(0 if flat else 1)
PY

# --- 2. database growth per cell ------------------------------------------------
fixture="$root/crates/bakeoff/tests/fixtures/faults/steady"
db="$work/soak.db"
prev=0
total_bytes=0
total_cells=0
for i in $(seq "$RUNS"); do
    "$BAKEOFF" run -q --contender "$fixture" --workloads json --duration-scale 0.05 \
        --db "$db" --results-dir "$work/results" >/dev/null
    sqlite3 "$db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
    size=$(stat -c %s "$db")
    cells=$(sqlite3 "$db" "SELECT count(*) FROM cells WHERE run_id = (SELECT max(id) FROM runs);")
    if (( i > 1 )); then  # the first run also pays for the schema
        total_bytes=$((total_bytes + size - prev))
        total_cells=$((total_cells + cells))
    fi
    echo "db after run $i: $size bytes ($cells cell(s) in this run)"
    prev=$size
done
if (( total_cells > 0 )); then
    echo "db growth: $((total_bytes / total_cells)) bytes per one-cell run, the run's own rows included (runs 2..$RUNS, after WAL checkpoints)"
fi
