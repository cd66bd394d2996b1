#!/usr/bin/env bash
# The capacity search at a contender's own rates, against the reading the
# issue judges it by: what a closed loop saturating the same launch reaches.
# bench/accuracy.sh checks the search against servers of known ceiling up to
# ~25,000 req/s; Node.js contenders run at 50,000-80,000 on one core, where
# the generator's own cost per request matters most. One launch
# (`bakeoff serve`, pinned as `bakeoff run` pins it), and per path: closed
# loops of 64 and 256 connections (2 s warm-up, 10 s measured), then
# `bakeoff load --find-capacity` (10 s confirmation windows), then the 64
# connections again; the capacity ÷ the highest closed-loop reading, which
# the accuracy test holds to 0.85-1.02 (a launch's server does not have a
# fixed ceiling: a slowing core moves both readings).
# Usage: bench/contender-accuracy.sh  (env: CONTENDER=node-fastify,
#                                      PATHS="/json /db", MAX_TIME=2m)
# `bakeoff serve` installs the contender on first use (BAKEOFF_CACHE_DIR,
# default ~/.cache/bakeoff).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/serve.sh"
contender=${CONTENDER:-node-fastify}
paths=${PATHS:-/json /db}
export BAKEOFF_CACHE_DIR=${BAKEOFF_CACHE_DIR:-$HOME/.cache/bakeoff}
export BAKEOFF_CONTENDERS_DIR="$root/contenders"
(cd "$root" && cargo build --release -q -p bakeoff)
bin="$root/target/release/bakeoff"
bench_work contender-accuracy
export BAKEOFF_RESULTS_DIR="$work/results"
pid=
stop_serve() { [[ -z "$pid" ]] || { kill -INT "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }; }
on_exit stop_serve

serve_start "$bin" "$contender" "$work/url" "$work/serve.log"
pid=$serve_pid
url=$(head -1 "$work/url")
grep -o "generator.*contender: cpu [0-9,]*" "$work/serve.log" | head -1

closed() { # path connections out
  "$bin" load --pin 0 -c "$2" -d 10s --warmup 2s --json "$url$1" >"$3"
}
for path in $paths; do
  slug=${path//\//_}
  closed "$path" 64 "$work/before-64$slug.json"
  closed "$path" 256 "$work/before-256$slug.json"
  "$bin" load --pin 0 --find-capacity --max-time "${MAX_TIME:-2m}" --json "$url$path" \
    >"$work/search$slug.json" 2>"$work/search$slug.log"
  closed "$path" 64 "$work/after-64$slug.json"
  python3 - "$work" "$slug" "$contender" "$path" <<'PY'
import json, sys
work, slug, contender, path = sys.argv[1:]
rate = lambda name: json.load(open(f"{work}/{name}{slug}.json"))["achieved_rate"]
b64, b256, a64 = rate("before-64"), rate("before-256"), rate("after-64")
s = json.load(open(f"{work}/search{slug}.json"))
cap = s.get("capacity_rps") or 0.0
best = max(b64, b256, a64)
print(f"{contender} {path}: closed loop {b64:,.0f} (64 conns) and {b256:,.0f} (256) before, {a64:,.0f} (64) after; "
      f"capacity {cap:,.0f} ({s['outcome']}, {len(s['steps'])} windows): {cap / best:.3f}× the highest reading")
PY
done
