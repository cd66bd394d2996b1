#!/usr/bin/env bash
# Launch-to-launch variance of one contender: LAUNCHES fresh launches, each
# started by `bakeoff serve` exactly as `bakeoff run` starts it (its manifest,
# its variant's environment, bakeoff's install, pinned off CPU 0) and driven
# closed loop (`bakeoff load`, 64 connections, 2 s warm-up, 5 s measured) from
# CPU 0; then each launch's throughput ÷ the median, and how many launches ran
# more than 10% below it. A `quick` run measures one launch per contender, so a
# contender whose launches are bimodal cannot repeat within 10% there, whatever
# the search does (docs/benchmarks.md, "Launch-to-launch variance").
# Usage: bench/launches.sh  (env: CONTENDER=node-fastify, or a variant such as
#                            node-fastify@v8-pool-1; LAUNCHES=10 PATH_=/json
#                            NODE_EXTRA="--max-semi-space-size=32" for Node.js
#                            flags that NODE_OPTIONS allows (it replaces a
#                            variant's NODE_OPTIONS),
#                            NODE_ARGS="--hash-seed=1 --random-seed=1" for
#                            flags it does not, and NO_ASLR=1 to start under
#                            `setarch -R`: both launch a copy of a reference
#                            contender whose start command carries them,
#                            CONNECTIONS=64 the closed loop's connections,
#                            REPEAT=2 to measure each launch twice (new
#                            connections each time: what a launch keeps for its
#                            life repeats, what its connections decide does not),
#                            TRACE_GC=1 to trace V8's GC from start-up and print
#                            how the first full GC of each launch was marked,
#                            CPU_PROFILE=1 to profile each launch's busiest
#                            process from 2 s after start-up to its exit and
#                            print the functions whose share of its samples
#                            differs most between launches)
# With TRACE_GC=1 each launch also shows its first mark-compact's incremental
# steps on the main thread: on one core the slow launches were those whose
# start-up mark-compact the main thread marked itself, in tens of steps with a
# biggest step of ~10 ms, where the fast ones left it to V8's background
# markers, in two or three steps (docs/benchmarks.md, "Launch-to-launch
# variance"). With CPU_PROFILE=1 the slow launches showed where their time
# goes: 14-20% of the worker's samples in Node's process.nextTick (its
# object literal with computed symbol keys), ~1% in the fast ones
# ("Twenty-second pass"). NODE_EXTRA, TRACE_GC and CPU_PROFILE apply to
# Node.js contenders only.
# `bakeoff serve` installs the contender and generates the data on first use
# (BAKEOFF_CACHE_DIR, default ~/.cache/bakeoff).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/lib/serve.sh"
contender=${CONTENDER:-node-fastify}
launches=${LAUNCHES:-10}
path=${PATH_:-/json}
export BAKEOFF_CACHE_DIR=${BAKEOFF_CACHE_DIR:-$HOME/.cache/bakeoff}
export BAKEOFF_CONTENDERS_DIR="$root/contenders"
(cd "$root" && cargo build --release -q -p bakeoff)
bin="$root/target/release/bakeoff"
work=$(mktemp -d /tmp/bakeoff-launches.XXXXXX)
export BAKEOFF_RESULTS_DIR="$work/results"
pid=
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null; [[ -n "${KEEP:-}" ]] || rm -rf "$work"; }
trap cleanup EXIT

# Node.js takes --trace-gc only on its command line; a preload turns it on
# before the app's modules load (the start-up mark-compact comes ~0.3 s in).
node_options=${NODE_EXTRA:-}
if [[ -n "${TRACE_GC:-}" ]]; then
  echo "require('v8').setFlagsFromString('--trace-gc');" >"$work/trace-gc.js"
  node_options="$node_options --require $work/trace-gc.js"
fi
# `--cpu-prof` is not allowed in NODE_OPTIONS: a preload runs V8's profiler
# through node:inspector and writes one profile per process on exit.
if [[ -n "${CPU_PROFILE:-}" ]]; then
  cat >"$work/cpu-prof.js" <<'JS'
const inspector = require('node:inspector');
const fs = require('node:fs');
const dir = process.env.LAUNCH_PROFILE_DIR;
const session = new inspector.Session();
session.connect();
let started = false;
setTimeout(() => {
  session.post('Profiler.enable', () => session.post('Profiler.start', () => { started = true; }));
}, 2000).unref();
process.on('exit', () => {
  if (!started || !dir) return;
  // An in-process session answers synchronously, so this writes before exit.
  session.post('Profiler.stop', (err, res) => {
    if (!err) fs.writeFileSync(`${dir}/${process.pid}.cpuprofile`, JSON.stringify(res.profile));
  });
});
JS
  node_options="$node_options --require $work/cpu-prof.js"
fi
env_args=()
if [[ -n "${node_options// /}" ]]; then env_args=(--env "NODE_OPTIONS=${node_options# }"); fi

# NODE_ARGS and NO_ASLR change the start command itself: a copy of the
# reference contender, renamed, served by directory (`--contender DIR@variant`).
target=("$contender")
if [[ -n "${NODE_ARGS:-}${NO_ASLR:-}" ]]; then
  name=${contender%%@*}
  variant=${contender#"$name"}
  [[ -f "$root/contenders/$name/bakeoff.toml" ]] || { echo "NODE_ARGS/NO_ASLR: $name is not a reference contender" >&2; exit 2; }
  cp -r "$root/contenders/$name" "$work/$name-launches"
  python3 - "$work/$name-launches/bakeoff.toml" "${NODE_ARGS:-}" "${NO_ASLR:-}" <<'PY'
import json, re, shlex, sys
path, args, no_aslr = sys.argv[1], shlex.split(sys.argv[2]), sys.argv[3]
text = open(path).read()
m = re.search(r'^command = (\[.*\])', text, re.M)
if not m:
    sys.exit(f"NODE_ARGS/NO_ASLR: no one-line start command (command = [...]) in {path}")
cmd = json.loads(m[1])
if args and cmd[0] != "node":
    sys.exit(f"NODE_ARGS: the start command {cmd} does not run node")
cmd = cmd[:1] + args + cmd[1:]
if no_aslr:
    cmd = ["setarch", "-R"] + cmd
text = text[: m.start(1)] + json.dumps(cmd) + text[m.end(1) :]
text = re.sub(r'^name = "([^"]+)"', r'name = "\1-launches"', text, count=1, flags=re.M)
open(path, "w").write(text)
print(f"start command: {' '.join(cmd)}")
PY
  target=(--contender "$work/$name-launches$variant")
fi

for i in $(seq 1 "$launches"); do
  launch_env=("${env_args[@]}")
  if [[ -n "${CPU_PROFILE:-}" ]]; then
    mkdir -p "$work/profile-$i"
    launch_env+=(--env "LAUNCH_PROFILE_DIR=$work/profile-$i")
  fi
  serve_start "$bin" "${target[0]}" "$work/url-$i" "$work/serve-$i.log" "${target[@]:1}" "${launch_env[@]}"
  pid=$serve_pid
  url=$(head -1 "$work/url-$i")
  for r in $(seq 1 "${REPEAT:-1}"); do
    "$bin" load --pin 0 -c "${CONNECTIONS:-64}" -d 5s --warmup 2s --json "$url$path" >"$work/load-$i-$r.json"
  done
  kill -INT "$pid"; wait "$pid" || { echo "launch $i: bakeoff serve failed:" >&2; cat "$work/serve-$i.log" >&2; exit 1; }
  pid=
  # The newest log on this port: an ephemeral port may come round again.
  log=$(ls -t "$BAKEOFF_RESULTS_DIR"/logs/*-p"${url##*:}".log | head -1)
  cp "$log" "$work/launch-$i.log"
  sleep 1
done

python3 - "$work" "$launches" "$contender" "${node_options:-} ${NODE_ARGS:-}${NO_ASLR:+ (setarch -R)}" "${TRACE_GC:-}" "${REPEAT:-1}" "${CPU_PROFILE:-}" <<'PY'
import collections, glob, json, os, re, statistics, sys
work, n, contender, extra, trace = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
profile = sys.argv[7]


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

IDLE = {"(idle)", "(program)", "(root)"}


def shares(i):
    """Each function's share of the busy samples of launch i's busiest
    process (a cluster's worker, not its primary), by self time."""
    best = None
    for path in glob.glob(f"{work}/profile-{i}/*.cpuprofile"):
        p = json.load(open(path))
        nodes = {node["id"]: node["callFrame"] for node in p["nodes"]}
        t = collections.Counter()
        for sample, dt in zip(p["samples"], p["timeDeltas"]):
            cf = nodes[sample]
            name = cf["functionName"] or "(anonymous)"
            if name not in IDLE:
                t[f"{name} {os.path.basename(cf['url'])}:{cf['lineNumber'] + 1}"] += dt
        if best is None or sum(t.values()) > sum(best.values()):
            best = t
    total = sum(best.values()) if best else 0
    return {k: v / total for k, v in best.items()} if total else {}


if profile:
    per = [shares(i) for i in range(1, n + 1)]
    names = set().union(*per)
    spread = sorted(names, key=lambda k: max(s.get(k, 0) for s in per) - min(s.get(k, 0) for s in per), reverse=True)
    print("share of each launch's busy samples (self time), the functions that differ most between launches:")
    print("  " + " ".join(f"{'L' + str(i):>6}" for i in range(1, n + 1)) + "  function")
    for k in spread[:5]:
        print("  " + " ".join(f"{100 * s.get(k, 0):5.1f}%" for s in per) + f"  {k}")
PY
