#!/usr/bin/env bash
# Benchmark bakeoff's load generator against wrk, side by side, on the same nginx.
#
# nginx (one worker, a fixed 13-byte body) is pinned to SERVER_CPU; each generator
# runs pinned to GEN_CPU under /usr/bin/time (user+sys CPU, peak RSS of the whole
# process). Prints the ratios of issue 2, section 5. The three comparison runs
# alternate for ROUNDS rounds and the ratios are the medians of the per-round
# ratios, so one noisy run on a shared VM does not decide a target. Each round
# also runs the floors (crates/bakeoff-load/examples/floor.rs: bare epoll loops
# with no runtime, parsing or statistics), closed and at the open loop's rate, to
# show how much CPU no implementation on this machine can avoid. When `oha` is
# on PATH (cargo install oha), each round also runs it closed and open loop
# (-q with --latency-correction), the tool the issue compares against. Needs root to install wrk and nginx when they are missing.
# Usage: bench/load.sh  (env vars below override).
set -euo pipefail

DURATION=${DURATION:-10}         # seconds per closed-loop / open-loop run
ROUNDS=${ROUNDS:-3}              # alternating rounds of the three comparison runs
RSS_DURATION=${RSS_DURATION:-60} # seconds of the fixed-rate run for peak RSS
OPEN_RATE=${OPEN_RATE:-10000}    # req/s of the open-loop runs
CONNS=${CONNS:-64}
PORT=${PORT:-18089}
SERVER_CPU=${SERVER_CPU:-1}
GEN_CPU=${GEN_CPU:-0}
OHA=${OHA:-$(command -v oha || true)} # optional; empty skips oha

source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/nginx.sh"
bench_work bench

if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
    echo "installing wrk and nginx (apt-get)..." >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx >/dev/null
fi
require taskset python3 /usr/bin/time

echo "building bakeoff (release)..." >&2
(cd "$root" && cargo build --release -q -p bakeoff && cargo build --release -q -p bakeoff-load --example floor)
bakeoff="$root/target/release/bakeoff"
floor="$root/target/release/examples/floor"

nginx_start "$work" "$PORT" "$SERVER_CPU"
url="http://127.0.0.1:$PORT/"

# timed NAME CMD...: run pinned to GEN_CPU; leaves "user sys maxrss_kib" in $work/NAME.time
timed() {
    local name=$1; shift
    taskset -c "$GEN_CPU" /usr/bin/time -f '%U %S %M' -o "$work/$name.time" "$@"
}

for r in $(seq "$ROUNDS"); do
    echo "round $r/$ROUNDS: wrk closed loop: 1 thread, $CONNS connections, ${DURATION}s..." >&2
    timed "wrk_$r" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "$url" >"$work/wrk_$r.out"
    echo "round $r/$ROUNDS: bakeoff closed loop: $CONNS connections, ${DURATION}s..." >&2
    timed "bk_closed_$r" "$bakeoff" load "$url" -c "$CONNS" -d "${DURATION}s" --json >"$work/bk_closed_$r.json"
    echo "round $r/$ROUNDS: bakeoff open loop: $OPEN_RATE req/s, ${DURATION}s..." >&2
    timed "bk_open_$r" "$bakeoff" load "$url" -c "$CONNS" --rate "$OPEN_RATE" -d "${DURATION}s" --json >"$work/bk_open_$r.json"
    echo "round $r/$ROUNDS: floors: closed loop, then $OPEN_RATE req/s, ${DURATION}s each..." >&2
    timed "floor_closed_$r" "$floor" closed "127.0.0.1:$PORT" "$DURATION" "$CONNS" >"$work/floor_closed_$r.json"
    timed "floor_$r" "$floor" open "127.0.0.1:$PORT" "$OPEN_RATE" "$DURATION" "$CONNS" >"$work/floor_$r.json"
    if [[ -n "$OHA" ]]; then
        echo "round $r/$ROUNDS: oha: closed loop, then $OPEN_RATE req/s, ${DURATION}s each..." >&2
        timed "oha_closed_$r" "$OHA" -z "${DURATION}s" -c "$CONNS" --no-tui --output-format json "$url" >"$work/oha_closed_$r.json"
        timed "oha_open_$r" "$OHA" -z "${DURATION}s" -c "$CONNS" -q "$OPEN_RATE" --latency-correction --no-tui --output-format json "$url" >"$work/oha_open_$r.json"
    fi
done
echo "bakeoff open loop for peak RSS: $OPEN_RATE req/s, ${RSS_DURATION}s..." >&2
timed bk_rss "$bakeoff" load "$url" -c "$CONNS" --rate "$OPEN_RATE" -d "${RSS_DURATION}s" --json >"$work/bk_rss.json"

python3 - "$work" "$DURATION" "$RSS_DURATION" "$OPEN_RATE" "$CONNS" "$ROUNDS" "$OHA" <<'PY'
import json, re, statistics, sys
work, duration, rss_duration, open_rate, conns, rounds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5], int(sys.argv[6])
with_oha = bool(sys.argv[7])

def usage(name):
    u, s, rss = open(f"{work}/{name}.time").read().split()[-3:]
    return float(u) + float(s), int(rss) / 1024.0

def to_ms(v):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", v)
    n, unit = float(m.group(1)), m.group(2)
    return n * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]

per100k = lambda cpu, n: cpu / n * 1e5 if n else float("nan")

def one_round(r):
    wrk = open(f"{work}/wrk_{r}.out").read()
    wrk_cpu, wrk_rss = usage(f"wrk_{r}")
    closed = json.load(open(f"{work}/bk_closed_{r}.json"))
    opened = json.load(open(f"{work}/bk_open_{r}.json"))
    bk_cpu, bk_rss = usage(f"bk_closed_{r}")
    open_cpu, _ = usage(f"bk_open_{r}")
    floor = json.load(open(f"{work}/floor_{r}.json"))
    floor_cpu, _ = usage(f"floor_{r}")
    floor_closed = json.load(open(f"{work}/floor_closed_{r}.json"))
    floor_closed_cpu, _ = usage(f"floor_closed_{r}")
    wrk_requests = int(re.search(r"(\d+) requests in", wrk).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", wrk)
    extra = {}
    if with_oha:
        for kind in ("closed", "open"):
            doc = json.load(open(f"{work}/oha_{kind}_{r}.json"))
            cpu, rss = usage(f"oha_{kind}_{r}")
            answered = sum(doc["statusCodeDistribution"].values())
            extra[f"oha_{kind}_100k"] = per100k(cpu, answered)
            extra[f"oha_{kind}_rss"] = rss
            extra[f"oha_{kind}_rps"] = doc["summary"]["requestsPerSec"]
    return extra | {
        "wrk_rps": float(re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1)),
        "wrk_100k": per100k(wrk_cpu, wrk_requests),
        "wrk_p50": to_ms(re.search(r"\n\s+50%\s+(\S+)", wrk).group(1)),
        "wrk_p99": to_ms(re.search(r"\n\s+99%\s+(\S+)", wrk).group(1)),
        "wrk_rss": wrk_rss,
        "wrk_errors": errors.group(0) if errors else None,
        "bk_rps": closed["achieved_rate"],
        "bk_100k": per100k(bk_cpu, closed["requests"]),
        "bk_p50": closed["latency_ms"]["p50"],
        "bk_p99": closed["latency_ms"]["p99"],
        "bk_rss": bk_rss,
        "open_rate": opened["achieved_rate"],
        "open_100k": per100k(open_cpu, opened["requests"]),
        "open_lat": (opened["latency_ms"]["p50"], opened["latency_ms"]["p99"]),
        "open_svc": (opened["service_ms"]["p50"], opened["service_ms"]["p99"]),
        "floor_100k": per100k(floor_cpu, floor["requests"]),
        "floor_closed_100k": per100k(floor_closed_cpu, floor_closed["requests"]),
        "closed": closed,
        "opened": opened,
    }

runs = [one_round(r) for r in range(1, rounds + 1)]
med = lambda key: statistics.median(run[key] for run in runs)
ratios = {
    "tput": [x["bk_rps"] / x["wrk_rps"] for x in runs],
    "cpu": [x["bk_100k"] / x["wrk_100k"] for x in runs],
    "open": [x["open_100k"] / x["wrk_100k"] for x in runs],
    "floor": [x["floor_100k"] / x["wrk_100k"] for x in runs],
    "above_floor": [x["open_100k"] / x["floor_100k"] for x in runs],
    "floor_closed": [x["floor_closed_100k"] / x["wrk_100k"] for x in runs],
    "above_floor_closed": [x["bk_100k"] / x["floor_closed_100k"] for x in runs],
}
if with_oha:
    ratios["oha_closed"] = [x["oha_closed_100k"] / x["wrk_100k"] for x in runs]
    ratios["oha_open"] = [x["oha_open_100k"] / x["wrk_100k"] for x in runs]
    ratios["bk_vs_oha_open"] = [x["open_100k"] / x["oha_open_100k"] for x in runs]
rss_run = json.load(open(f"{work}/bk_rss.json"))
_, bk_rss = usage("bk_rss")

def row(name, values, target, ok):
    each = " ".join(f"{v:.2f}" for v in values)
    m = statistics.median(values)
    verdict = f"target {target:<7} {'ok' if ok(m) else 'MISSED'}" if ok else f"{'':<17}"
    print(f"  {name:<52} {m:>6.2f}   {verdict}   (rounds: {each})")

print(f"\nbakeoff vs wrk ({conns} connections, one generator thread; {rounds} rounds of {duration}s runs; medians)")
print(f"  {'':<52} {'wrk':>10}   {'bakeoff':>10}")
print(f"  {'closed-loop throughput (req/s)':<52} {med('wrk_rps'):>10.0f}   {med('bk_rps'):>10.0f}")
print(f"  {'closed-loop CPU-s per 100k requests':<52} {med('wrk_100k'):>10.3f}   {med('bk_100k'):>10.3f}")
print(f"  {'closed-loop p50 (ms)':<52} {med('wrk_p50'):>10.3f}   {med('bk_p50'):>10.3f}")
print(f"  {'closed-loop p99 (ms)':<52} {med('wrk_p99'):>10.3f}   {med('bk_p99'):>10.3f}")
print(f"  {'peak RSS, closed loop (MiB)':<52} {med('wrk_rss'):>10.1f}   {med('bk_rss'):>10.1f}")
print(f"  {'bakeoff open loop %.0f req/s: achieved' % open_rate:<52} {'':>10}   {med('open_rate'):>10.0f}")
print(f"  {'bakeoff open loop: CPU-s per 100k requests':<52} {'':>10}   {med('open_100k'):>10.3f}")
print(f"  {'closed-loop floor (bare epoll loop): CPU-s per 100k':<52} {'':>10}   {med('floor_closed_100k'):>10.3f}")
print(f"  {'open-loop floor (bare 1 ms loop): CPU-s per 100k':<52} {'':>10}   {med('floor_100k'):>10.3f}")
for x in runs:
    print(f"  {'bakeoff open loop: corrected p50 / p99 (ms)':<52} {'':>10}   {x['open_lat'][0]:.3f} / {x['open_lat'][1]:.3f}   service {x['open_svc'][0]:.3f} / {x['open_svc'][1]:.3f}")
if with_oha:
    print(f"  {'oha closed loop: throughput (req/s)':<52} {'':>10}   {med('oha_closed_rps'):>10.0f}")
    print(f"  {'oha closed loop: CPU-s per 100k / peak RSS (MiB)':<52} {'':>10}   {med('oha_closed_100k'):>10.3f} / {med('oha_closed_rss'):.1f}")
    print(f"  {'oha -q open loop: CPU-s per 100k / peak RSS (MiB)':<52} {'':>10}   {med('oha_open_100k'):>10.3f} / {med('oha_open_rss'):.1f}")
print(f"  {'bakeoff %ss at %.0f req/s: peak RSS (MiB)' % (rss_duration, open_rate):<52} {'':>10}   {bk_rss:>10.1f}")
print("\nratios (median of the rounds)")
row("closed-loop throughput, bakeoff / wrk", ratios["tput"], ">= 1.0", lambda m: m >= 1.0)
row("CPU-s per 100k, closed loop, bakeoff / wrk", ratios["cpu"], "<= 0.8", lambda m: m <= 0.8)
row("  closed-loop floor / wrk", ratios["floor_closed"], "", None)
row("  bakeoff closed loop / closed-loop floor", ratios["above_floor_closed"], "", None)
row("CPU-s per 100k, bakeoff open loop / wrk closed loop", ratios["open"], "<= 1.0", lambda m: m <= 1.0)
row("  open-loop floor (1 ms ticks) / wrk closed loop", ratios["floor"], "", None)
row("  bakeoff open loop / open-loop floor", ratios["above_floor"], "", None)
row(f"peak RSS over {rss_duration}s fixed-rate run (MiB)", [bk_rss], "<= 16", lambda m: m <= 16)
if with_oha:
    print("\noha on the same server (for reference)")
    row("CPU-s per 100k, oha closed loop / wrk", ratios["oha_closed"], "", None)
    row("CPU-s per 100k, oha -q open loop / wrk closed loop", ratios["oha_open"], "", None)
    row("CPU-s per 100k, bakeoff open loop / oha -q open loop", ratios["bk_vs_oha_open"], "", None)
print("\nvalidity (bakeoff's self-check)")
docs = [(f"closed/{i}", x["closed"]) for i, x in enumerate(runs, 1)]
docs += [(f"open/{i}", x["opened"]) for i, x in enumerate(runs, 1)] + [("rss", rss_run)]
for name, doc in docs:
    errs = sum(doc["errors"].values())
    print(f"  {name:<8} valid={doc['valid']} errors={errs} late_sends={doc['late_sends']} (generator's: {doc['late_stalled']}) generator_cpu_s={doc['generator_cpu_s']:.2f} warnings={doc['warnings']}")
for i, x in enumerate(runs, 1):
    if x["wrk_errors"]:
        print(f"  wrk round {i} reported errors: {x['wrk_errors']}")
PY
