#!/usr/bin/env bash
# Launch-to-launch variance of one contender: LAUNCHES fresh launches, each
# pinned to CPU 1 and driven closed loop (`bakeoff load`, 64 connections, 2 s
# warm-up, 5 s measured) from CPU 0; then each launch's throughput ÷ the median,
# and how many launches ran more than 10% below it. A `quick` run measures one
# launch per contender, so a contender whose launches are bimodal cannot repeat
# within 10% there, whatever the search does (docs/benchmarks.md,
# "Launch-to-launch variance").
# Usage: bench/launches.sh  (env: CONTENDER=node-fastify LAUNCHES=10 PATH_=/json
#                            NODE_EXTRA="--v8-pool-size=1" to pass flags to node)
# The contender must be set up and its database seeded first (`bakeoff verify
# --contenders node-fastify` does both, into RESULTS_DIR, default
# ./bakeoff-results); Node.js contenders only.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
contender=${CONTENDER:-node-fastify}
launches=${LAUNCHES:-10}
path=${PATH_:-/json}
dir="$root/contenders/$contender"
[[ -f "$dir/server.js" ]] || { echo "$contender: no server.js in $dir (Node.js contenders only)" >&2; exit 2; }
[[ -d "$dir/node_modules" ]] || { echo "$contender: run \`bakeoff setup --contenders $contender\` first" >&2; exit 2; }
seeded=${RESULTS_DIR:-$root/bakeoff-results}/data/bakeoff.sqlite
[[ -f "$seeded" ]] || { echo "no seeded database at $seeded: run \`bakeoff verify --contenders $contender\` first (or set RESULTS_DIR)" >&2; exit 2; }
(cd "$root" && cargo build --release -q -p bakeoff)
bin="$root/target/release/bakeoff"
work=$(mktemp -d /tmp/bakeoff-launches.XXXXXX)
pid=
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cp "$seeded" "$work/app.sqlite"

read -ra extra <<<"${NODE_EXTRA:-}"
for i in $(seq 1 "$launches"); do
  port=$((18100 + i))
  (cd "$dir" && PORT=$port BAKEOFF_UPSTREAM=http://127.0.0.1:9 BAKEOFF_SQLITE="$work/app.sqlite" \
    BAKEOFF_WORKERS=1 exec taskset -c 1 node "${extra[@]}" server.js >"$work/launch-$i.log" 2>&1) &
  pid=$!
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
    sleep 0.1
  done
  "$bin" load --pin 0 -c 64 -d 5s --warmup 2s --json "http://127.0.0.1:$port$path" >"$work/load-$i.json"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  sleep 1
done

python3 - "$work" "$launches" "$contender" "${NODE_EXTRA:-}" <<'EOF'
import json, statistics, sys
work, n, contender, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rates = [json.load(open(f"{work}/load-{i}.json"))["achieved_rate"] for i in range(1, n + 1)]
med = statistics.median(rates)
print(f"{contender} {extra}".strip() + f": {n} launches, closed loop, req/s")
for i, r in enumerate(rates, 1):
    print(f"  launch {i:2}: {r:9,.0f}  {r / med:.3f}× the median")
slow = sum(r < 0.9 * med for r in rates)
cv = statistics.pstdev(rates) / statistics.mean(rates) * 100
print(f"median {med:,.0f}, min/median {min(rates) / med:.3f}, CV {cv:.1f}%, {slow} of {n} more than 10% below the median")
EOF
