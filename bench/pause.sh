#!/usr/bin/env bash
# A server that pauses: how many sends the engine blames on itself. A Node
# server answers each request after DELAY ms and blocks its event loop for
# BLOCK ms every EVERY ms (a garbage collector's pause, as a client sees it),
# pinned to CPU 1; `bakeoff load` drives it from CPU 0 over 100 connections, few
# enough that a pause ties every one up. Prints, per rate, the sends left more
# than 2 ms late through the engine (`late_stalled` at `bakeoff load`'s bar; a
# run's is a twentieth of the SLO, and over 1% of sends its stall rule reads as
# a machine holding the generator up), all late sends, and the corrected p99. With OLD=path/to/another/bakeoff both binaries run side by
# side, alternating, for a before/after.
# Usage: bench/pause.sh [rates]   (default "1000 1600")
set -euo pipefail
cd "$(dirname "$0")/.."
rates="${1:-1000 1600}"
DELAY="${DELAY:-50}" EVERY="${EVERY:-300}" BLOCK="${BLOCK:-20}"
cargo build -q --release -p bakeoff
new="$PWD/target/release/bakeoff"
work="$(mktemp -d)"
trap 'kill "$srv" 2>/dev/null || true; wait "$srv" 2>/dev/null || true; rm -rf "$work"' EXIT
cat > "$work/server.js" <<'EOF'
const http = require('http');
const [delay, every, block] = [+process.env.DELAY, +process.env.EVERY, +process.env.BLOCK];
setInterval(() => { const end = Date.now() + block; while (Date.now() < end); }, every);
const srv = http.createServer((req, res) => {
  setTimeout(() => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('ok'); }, delay);
}).listen(0, '127.0.0.1', () => console.log(srv.address().port));
EOF
# Run in the background, exec makes the server the job itself, so the trap stops it.
pin() { if command -v taskset > /dev/null; then exec taskset -c "$@"; else shift; exec "$@"; fi; }
(DELAY=$DELAY EVERY=$EVERY BLOCK=$BLOCK pin 1 node "$work/server.js" > "$work/port") &
srv=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
port="$(cat "$work/port")"
echo "server: ${DELAY} ms per answer, its loop blocked ${BLOCK} ms every ${EVERY} ms (cpu 1); generator on cpu 0"
printf '%-6s %6s %8s %10s %8s %8s\n' binary rate sends stalled late p99_ms
for rate in $rates; do
  for bin in ${OLD:+old} new; do
    exe="$new"; [ "$bin" = old ] && exe="$OLD"
    "$exe" load --rate "$rate" -c 100 -d 5s --warmup 1s --pin 0 --json \
      "http://127.0.0.1:$port/" > "$work/out.json"
    python3 - "$bin" "$rate" "$work/out.json" <<'EOF'
import json, sys
bin, rate, path = sys.argv[1:]
d = json.load(open(path))
sends = d["requests"]
print(f"{bin:<6} {rate:>6} {sends:>8} {d['late_stalled']:>5} {100 * d['late_stalled'] / max(sends, 1):>3.1f}% "
      f"{d['late_sends']:>8} {d['latency_ms']['p99']:>8.1f}")
EOF
  done
done
