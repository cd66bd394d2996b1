#!/usr/bin/env bash
# Launch-to-launch variance of one contender: LAUNCHES fresh launches, each
# pinned to CPU 1 and driven closed loop (`bakeoff load`, 64 connections, 2 s
# warm-up, 5 s measured) from CPU 0; then each launch's throughput ÷ the median,
# and how many launches ran more than 10% below it. A `quick` run measures one
# launch per contender, so a contender whose launches are bimodal cannot repeat
# within 10% there, whatever the search does (docs/benchmarks.md,
# "Launch-to-launch variance").
# Usage: bench/launches.sh  (env: CONTENDER=node-fastify LAUNCHES=10 PATH_=/json
#                            NODE_EXTRA="--v8-pool-size=1" to pass flags to node,
#                            CONNECTIONS=64 the closed loop's connections,
#                            REPEAT=2 to measure each launch twice (new
#                            connections each time: what a launch keeps for its
#                            life repeats, what its connections decide does not),
#                            TRACE_GC=1 to add --trace-gc and print how the first
#                            full GC of each launch was marked)
# With TRACE_GC=1 each launch also shows its first mark-compact's incremental
# steps on the main thread: on one core the slow launches were those whose
# start-up mark-compact the main thread marked itself, in tens of steps with a
# biggest step of ~10 ms, where the fast ones left it to V8's background
# markers, in two or three steps (docs/benchmarks.md, "Launch-to-launch
# variance").
# The contender must be set up and its database seeded first (`bakeoff verify
# --contenders node-fastify` does both, into RESULTS_DIR, default
# ./bakeoff-results). Any contender under contenders/: its manifest's start
# command, one worker, `{python}` the venv `bakeoff setup` made in
# BAKEOFF_CACHE_DIR (default ~/.cache/bakeoff); NODE_EXTRA and TRACE_GC apply
# to Node.js contenders only.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
contender=${CONTENDER:-node-fastify}
launches=${LAUNCHES:-10}
path=${PATH_:-/json}
dir="$root/contenders/$contender"
[[ -f "$dir/bakeoff.toml" ]] || { echo "$contender: no bakeoff.toml in $dir" >&2; exit 2; }
cache=${BAKEOFF_CACHE_DIR:-$HOME/.cache/bakeoff}
# The manifest's health path, then its start command, one line each:
# `{python}` is the newest venv of this contender in the cache (bakeoff's own
# cache key is not recomputed here), Node's flags go right after `node`.
spec_of() {
  python3 - "$dir/bakeoff.toml" "$cache" "$contender" "$1" "${NODE_EXTRA:-}" "${TRACE_GC:-}" <<'PY'
import glob, os, sys
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    sys.exit("bench/launches.sh reads the manifest with tomllib: Python 3.11 or later")
manifest, cache, name, port, node_extra, trace = sys.argv[1:7]
start = tomllib.load(open(manifest, "rb"))["start"]
cmd = start["command"]
if "{python}" in cmd:
    venvs = sorted(glob.glob(f"{cache}/pip/{name}-*/venv/bin/python"), key=os.path.getmtime)
    if not venvs:
        sys.exit(f"{name}: no venv in {cache}/pip: run `bakeoff setup --contenders {name}` first")
    python = venvs[-1]
flags = node_extra.split() + (["--trace-gc"] if trace else [])
out = [start.get("health_path", "/health")]
for arg in cmd:
    arg = arg.replace("{port}", port).replace("{workers}", "1")
    out.append(arg.replace("{python}", python) if "{python}" in arg else arg)
    if arg == "node":
        out += flags
if flags and "node" not in cmd:
    sys.exit(f"{name}: NODE_EXTRA and TRACE_GC are for Node.js contenders")
print("\n".join(out))
PY
}
if grep -q '"node"' "$dir/bakeoff.toml"; then
  [[ -d "$dir/node_modules" ]] || { echo "$contender: run \`bakeoff setup --contenders $contender\` first" >&2; exit 2; }
fi
spec_of 0 >/dev/null
seeded=${RESULTS_DIR:-$root/bakeoff-results}/data/bakeoff.sqlite
[[ -f "$seeded" ]] || { echo "no seeded database at $seeded: run \`bakeoff verify --contenders $contender\` first (or set RESULTS_DIR)" >&2; exit 2; }
(cd "$root" && cargo build --release -q -p bakeoff)
bin="$root/target/release/bakeoff"
work=$(mktemp -d /tmp/bakeoff-launches.XXXXXX)
pid=
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cp "$seeded" "$work/app.sqlite"

for i in $(seq 1 "$launches"); do
  port=$((18100 + i))
  mapfile -t spec < <(spec_of "$port")
  health=${spec[0]} cmd=("${spec[@]:1}")
  (cd "$dir" && PORT=$port BAKEOFF_UPSTREAM=http://127.0.0.1:9 BAKEOFF_SQLITE="$work/app.sqlite" \
    BAKEOFF_WORKERS=1 exec taskset -c 1 "${cmd[@]}" >"$work/launch-$i.log" 2>&1) &
  pid=$!
  up=
  for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$port$health" >/dev/null && { up=1; break; }
    sleep 0.1
  done
  [[ -n "$up" ]] || { echo "launch $i never answered $health in 30 s:" >&2; cat "$work/launch-$i.log" >&2; exit 1; }
  for r in $(seq 1 "${REPEAT:-1}"); do
    "$bin" load --pin 0 -c "${CONNECTIONS:-64}" -d 5s --warmup 2s --json "http://127.0.0.1:$port$path" >"$work/load-$i-$r.json"
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  sleep 1
done

python3 - "$work" "$launches" "$contender" "${NODE_EXTRA:-}" "${TRACE_GC:-}" "${REPEAT:-1}" <<'EOF'
import json, re, statistics, sys
work, n, contender, extra, trace = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]


def first_mark_compact(i):
    """The steps the main thread took in the launch's first mark-compact, in
    the process that logged the most GC lines (a cluster's worker, not its
    primary, which shares the log)."""
    by_pid = {}
    for line in open(f"{work}/launch-{i}.log", errors="replace"):
        pid = re.match(r"\[(\d+):", line)
        if pid:
            by_pid.setdefault(pid[1], []).append(line)
    for line in max(by_pid.values(), key=len, default=[]):
        m = re.search(r"Mark-Compact.*in (\d+) steps since start of marking, biggest step ([\d.]+) ms", line)
        if m:
            return f"  first mark-compact: {m[1]} steps on the main thread, biggest {m[2]} ms"
    return "  no mark-compact logged"


repeat = int(sys.argv[6])
loads = [
    [json.load(open(f"{work}/load-{i}-{r}.json"))["achieved_rate"] for r in range(1, repeat + 1)]
    for i in range(1, n + 1)
]
rates = [statistics.mean(l) for l in loads]
med = statistics.median(rates)
print(f"{contender} {extra}".strip() + f": {n} launches, closed loop, req/s")
for i, (r, l) in enumerate(zip(rates, loads), 1):
    gc = first_mark_compact(i) if trace else ""
    each = f"  (each: {' / '.join(f'{x:,.0f}' for x in l)})" if repeat > 1 else ""
    print(f"  launch {i:2}: {r:9,.0f}  {r / med:.3f}× the median{each}{gc}")
slow = sum(r < 0.9 * med for r in rates)
cv = statistics.pstdev(rates) / statistics.mean(rates) * 100
print(f"median {med:,.0f}, min/median {min(rates) / med:.3f}, CV {cv:.1f}%, {slow} of {n} more than 10% below the median")
if repeat > 1:
    within = statistics.median((max(l) - min(l)) / statistics.mean(l) * 100 for l in loads)
    print(f"within a launch: the median gap between its {repeat} measurements {within:.1f}%")
EOF
