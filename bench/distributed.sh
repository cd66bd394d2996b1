#!/usr/bin/env bash
# Issue 16's benchmark: aggregate closed-loop throughput of `bakeoff load` with 1
# and 2 generator threads against nginx (one worker, pinned to SERVER_CPU, as in
# bench/load.sh), then N segments on this machine with one shared start, and the
# cost of `bakeoff merge` over their documents (wall time of the whole process).
# Usage: bench/distributed.sh   (env vars below override; needs nginx on PATH)
set -euo pipefail

DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
PORT=${PORT:-18091}
SERVER_CPU=${SERVER_CPU:-1}
SEGMENTS=${SEGMENTS:-16}
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/nginx.sh"
bakeoff=${BAKEOFF:-$root/target/release/bakeoff}
bench_work dist

nginx_start "$work" "$PORT" "$SERVER_CPU"
url="http://127.0.0.1:$PORT/"

summary() { # file label
    python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
shards = "; ".join(f"cpu {s['cpu']} {s['generator_cpu_share']*100:.0f}% {s['achieved_rate']:.0f} req/s" for s in d.get("shards", []))
print(f"{sys.argv[2]:<28} {d['achieved_rate']:>9.0f} req/s  p50 {d['latency_ms']['p50']:.3f} p99 {d['latency_ms']['p99']:.3f} ms  valid {d['valid']}  [{shards}]")
PY
}

for threads in 1 2 1 2; do
    "$bakeoff" load "$url" -c "$CONNS" -d "${DURATION}s" --threads "$threads" --pin 0 --json >"$work/t$threads.json" 2>/dev/null \
        || "$bakeoff" load "$url" -c "$CONNS" -d "${DURATION}s" --threads "$threads" --json >"$work/t$threads.json"
    summary "$work/t$threads.json" "closed loop, $threads thread(s)"
done

start=$(date -u -d "+3 sec" +%Y-%m-%dT%H:%M:%S.%3NZ)
pids=()
for i in $(seq 0 $((SEGMENTS - 1))); do
    "$bakeoff" load "$url" --rate 8000 -c "$SEGMENTS" -d 3s --segment "$i/$SEGMENTS" \
        --start-at "$start" --json >"$work/seg$i.json" 2>/dev/null &
    pids+=($!)
done
# Not a bare `wait`: nginx is a background job too.
for p in "${pids[@]}"; do wait "$p"; done
bytes=$(cat "$work"/seg*.json | wc -c)
t0=$(date +%s.%N)
"$bakeoff" merge --json "$work"/seg*.json >"$work/merged.json"
t1=$(date +%s.%N)
summary "$work/merged.json" "$SEGMENTS segments merged"
python3 - "$work/merged.json" "$t0" "$t1" "$bytes" "$SEGMENTS" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ms = (float(sys.argv[3]) - float(sys.argv[2])) * 1000
print(f"merge: {int(sys.argv[5])} documents, {int(sys.argv[4]) / int(sys.argv[5]) / 1024:.1f} KiB each, {ms:.1f} ms for the whole process; start skew {d['skew_ms']:.2f} ms")
PY
