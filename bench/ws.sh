#!/usr/bin/env bash
# What the WebSocket fan-out costs the generator, beside what it costs the
# server: node-fastify's /ws room (one worker, pinned to SERVER_CPU) takes
# messages at each RATE from CLIENTS clients and writes every one to every
# client; the generator (crates/bakeoff-load/examples/ws_cost.rs, the engine
# `bakeoff run` uses, pinned to GEN_CPU) reads and times every delivery. Prints,
# per rate, the deliveries per second, each side's CPU per delivery and their
# ratio. Below 1 the generator is the cheaper side: the fan-out search then
# meets the server's limit before its own (the search calls a window whose
# generator used over 90% of its core generator-limited).
# Usage: bench/ws.sh   (needs `bakeoff setup` first, for node-fastify's node_modules)
#   RATES="500 1000 1500" CLIENTS=100 SECONDS_PER=5 GEN_CPU=0 SERVER_CPU=1 PORT=18301
set -euo pipefail

RATES=${RATES:-500 1000 1500}
CLIENTS=${CLIENTS:-100}
SECONDS_PER=${SECONDS_PER:-5}
GEN_CPU=${GEN_CPU:-0}
SERVER_CPU=${SERVER_CPU:-1}
PORT=${PORT:-18301}

source "$(dirname "$0")/lib/common.sh"
bench_work ws
require node python3 taskset curl
app="$root/contenders/node-fastify"
[[ -e "$app/node_modules" ]] || { echo "error: run \`bakeoff setup\` first (node-fastify has no node_modules)" >&2; exit 2; }

echo "building the ws_cost example (release)..." >&2
(cd "$root" && cargo build --release -q -p bakeoff-load --example ws_cost)
cost="$root/target/release/examples/ws_cost"

# The app opens its SQLite database at start; /ws never reads it.
python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('create table world(id integer primary key, randomnumber integer)'); c.execute('create table fortune(id integer primary key, message text)'); c.commit()" "$work/db.sqlite"
(cd "$app" && PORT=$PORT BAKEOFF_WORKERS=1 BAKEOFF_UPSTREAM=http://127.0.0.1:9 BAKEOFF_SQLITE="$work/db.sqlite" \
    NODE_ENV=production exec taskset -c "$SERVER_CPU" node server.js >"$work/server.log" 2>&1) &
server=$!
stop_server() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
on_exit stop_server
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break
    sleep 0.1
done
curl -sf "http://127.0.0.1:$PORT/health" >/dev/null || { cat "$work/server.log" >&2; echo "error: node-fastify did not start" >&2; exit 1; }

# CPU seconds (user + system) of the server: its primary and its workers.
server_cpu() {
    local total=0 p
    for p in "$server" $(pgrep -P "$server" || true); do
        [[ -r /proc/$p/stat ]] || continue
        total=$(awk -v t="$total" -v hz="$(getconf CLK_TCK)" '{print t + ($14 + $15) / hz}' "/proc/$p/stat")
    done
    echo "$total"
}

printf '%-8s %-12s %-10s %-16s %-16s %-8s %s\n' rate clients deliv/s "gen µs/deliv" "server µs/deliv" ratio "p99 (ms)"
for rate in $RATES; do
    before=$(server_cpu)
    line=$(taskset -c "$GEN_CPU" "$cost" "ws://127.0.0.1:$PORT/ws" "$rate" "$CLIENTS" "$SECONDS_PER" "$GEN_CPU")
    after=$(server_cpu)
    python3 - "$rate" "$CLIENTS" "$before" "$after" "$line" <<'EOF'
import json, sys
rate, clients, before, after, line = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
r = json.loads(line)
# Both sides' CPU covers the warm-up second and the close, over the same measured deliveries.
deliveries = r["deliveries_per_s"]
server_us = (after - before) * 1e6 / r["deliveries"] if r["deliveries"] else float("nan")
gen_us = r["cpu_us_per_delivery"]
flag = "" if r["valid"] else "  (generator-limited: " + "; ".join(r["warnings"]) + ")"
print(f'{rate:<8} {clients:<12} {deliveries:<10.0f} {gen_us:<16.2f} {server_us:<16.2f} {gen_us / server_us:<8.2f} {r["p99_ms"]:.1f}{flag}')
EOF
done
