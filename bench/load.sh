#!/usr/bin/env bash
# Benchmark bakeoff's load generator against wrk, side by side, on the same nginx.
#
# nginx (one worker, a fixed 13-byte body) is pinned to SERVER_CPU; each generator
# runs pinned to GEN_CPU under /usr/bin/time (user+sys CPU, peak RSS of the whole
# process). Prints the ratios of issue 2, section 5. Needs root to install wrk and
# nginx when they are missing. Usage: bench/load.sh  (env vars below override).
set -euo pipefail

DURATION=${DURATION:-10}         # seconds per closed-loop / open-loop run
RSS_DURATION=${RSS_DURATION:-60} # seconds of the fixed-rate run for peak RSS
OPEN_RATE=${OPEN_RATE:-10000}    # req/s of the open-loop runs
CONNS=${CONNS:-64}
PORT=${PORT:-18089}
SERVER_CPU=${SERVER_CPU:-1}
GEN_CPU=${GEN_CPU:-0}

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/bakeoff-bench.XXXXXX)
nginx_pid=""

cleanup() {
    # nginx runs in its own session (setsid), so its master's pid is its process
    # group: stop the whole group. setsid may fork, so the pid comes from nginx.
    if [[ -z "$nginx_pid" && -s "$work/nginx.pid" ]]; then
        nginx_pid=$(cat "$work/nginx.pid")
    fi
    if [[ -n "$nginx_pid" ]]; then
        kill -TERM -- "-$nginx_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$nginx_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$nginx_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
    echo "installing wrk and nginx (apt-get)..." >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx >/dev/null
fi
for tool in taskset python3 /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "error: $tool is required" >&2; exit 2; }
done

echo "building bakeoff (release)..." >&2
(cd "$root" && cargo build --release -q -p bakeoff)
bakeoff="$root/target/release/bakeoff"

mkdir -p "$work"/{body,proxy,fastcgi,uwsgi,scgi}
cat >"$work/nginx.conf" <<CONF
user root;
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    client_body_temp_path $work/body;
    proxy_temp_path $work/proxy;
    fastcgi_temp_path $work/fastcgi;
    uwsgi_temp_path $work/uwsgi;
    scgi_temp_path $work/scgi;
    server {
        listen 127.0.0.1:$PORT;
        location / { default_type text/plain; return 200 "Hello, World!"; }
    }
}
CONF
setsid taskset -c "$SERVER_CPU" nginx -c "$work/nginx.conf" -p "$work" >"$work/nginx.out" 2>&1 &
for i in $(seq 101); do
    if [[ -s "$work/nginx.pid" ]] && (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
        nginx_pid=$(cat "$work/nginx.pid")
        break
    fi
    if [[ $i == 101 ]]; then
        echo "error: nginx did not start on 127.0.0.1:$PORT (is the port taken? set PORT=...):" >&2
        cat "$work/nginx.out" "$work/error.log" >&2 2>/dev/null
        exit 1
    fi
    sleep 0.1
done
url="http://127.0.0.1:$PORT/"

# timed NAME CMD...: run pinned to GEN_CPU; leaves "user sys maxrss_kib" in $work/NAME.time
timed() {
    local name=$1; shift
    taskset -c "$GEN_CPU" /usr/bin/time -f '%U %S %M' -o "$work/$name.time" "$@"
}

echo "wrk closed loop: 1 thread, $CONNS connections, ${DURATION}s..." >&2
timed wrk wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "$url" >"$work/wrk.out"
echo "bakeoff closed loop: $CONNS connections, ${DURATION}s..." >&2
timed bk_closed "$bakeoff" load "$url" -c "$CONNS" -d "${DURATION}s" --json >"$work/bk_closed.json"
echo "bakeoff open loop: $OPEN_RATE req/s, ${DURATION}s..." >&2
timed bk_open "$bakeoff" load "$url" -c "$CONNS" --rate "$OPEN_RATE" -d "${DURATION}s" --json >"$work/bk_open.json"
echo "bakeoff open loop for peak RSS: $OPEN_RATE req/s, ${RSS_DURATION}s..." >&2
timed bk_rss "$bakeoff" load "$url" -c "$CONNS" --rate "$OPEN_RATE" -d "${RSS_DURATION}s" --json >"$work/bk_rss.json"

python3 - "$work" "$DURATION" "$RSS_DURATION" "$OPEN_RATE" "$CONNS" <<'PY'
import json, re, sys
work, duration, rss_duration, open_rate, conns = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5]

def usage(name):
    u, s, rss = open(f"{work}/{name}.time").read().split()[-3:]
    return float(u) + float(s), int(rss) / 1024.0

def to_ms(v):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", v)
    n, unit = float(m.group(1)), m.group(2)
    return n * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]

wrk = open(f"{work}/wrk.out").read()
wrk_requests = int(re.search(r"(\d+) requests in", wrk).group(1))
wrk_rps = float(re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1))
wrk_p50 = to_ms(re.search(r"\n\s+50%\s+(\S+)", wrk).group(1))
wrk_p99 = to_ms(re.search(r"\n\s+99%\s+(\S+)", wrk).group(1))
wrk_errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", wrk)
wrk_cpu, wrk_rss = usage("wrk")

closed = json.load(open(f"{work}/bk_closed.json"))
opened = json.load(open(f"{work}/bk_open.json"))
rss_run = json.load(open(f"{work}/bk_rss.json"))
bk_cpu, bk_rss_closed = usage("bk_closed")
open_cpu, _ = usage("bk_open")
_, bk_rss = usage("bk_rss")

per100k = lambda cpu, n: cpu / n * 1e5 if n else float("nan")
wrk_100k = per100k(wrk_cpu, wrk_requests)
bk_100k = per100k(bk_cpu, closed["requests"])
open_100k = per100k(open_cpu, opened["requests"])

def row(name, value, target, ok):
    print(f"  {name:<52} {value:>10}   target {target:<7} {'ok' if ok else 'MISSED'}")

print(f"\nbakeoff vs wrk ({conns} connections, one generator thread; {duration}s runs)")
print(f"  {'':<52} {'wrk':>10}   {'bakeoff':>10}")
print(f"  {'closed-loop throughput (req/s)':<52} {wrk_rps:>10.0f}   {closed['achieved_rate']:>10.0f}")
print(f"  {'closed-loop CPU-s per 100k requests':<52} {wrk_100k:>10.3f}   {bk_100k:>10.3f}")
print(f"  {'closed-loop p50 (ms)':<52} {wrk_p50:>10.3f}   {closed['latency_ms']['p50']:>10.3f}")
print(f"  {'closed-loop p99 (ms)':<52} {wrk_p99:>10.3f}   {closed['latency_ms']['p99']:>10.3f}")
print(f"  {'peak RSS, closed loop (MiB)':<52} {wrk_rss:>10.1f}   {bk_rss_closed:>10.1f}")
print(f"  {'bakeoff open loop %.0f req/s: achieved' % open_rate:<52} {'':>10}   {opened['achieved_rate']:>10.0f}")
print(f"  {'bakeoff open loop: CPU-s per 100k requests':<52} {'':>10}   {open_100k:>10.3f}")
print(f"  {'bakeoff open loop: corrected p50 / p99 (ms)':<52} {'':>10}   {opened['latency_ms']['p50']:.3f} / {opened['latency_ms']['p99']:.3f}")
print(f"  {'bakeoff open loop: service p50 / p99 (ms)':<52} {'':>10}   {opened['service_ms']['p50']:.3f} / {opened['service_ms']['p99']:.3f}")
print(f"  {'bakeoff %ss at %.0f req/s: peak RSS (MiB)' % (rss_duration, open_rate):<52} {'':>10}   {bk_rss:>10.1f}")
print("\nratios")
row("closed-loop throughput, bakeoff / wrk", f"{closed['achieved_rate'] / wrk_rps:.2f}", ">= 1.0", closed['achieved_rate'] / wrk_rps >= 1.0)
row("CPU-s per 100k, closed loop, bakeoff / wrk", f"{bk_100k / wrk_100k:.2f}", "<= 0.8", bk_100k / wrk_100k <= 0.8)
row("CPU-s per 100k, bakeoff open loop / wrk closed loop", f"{open_100k / wrk_100k:.2f}", "<= 1.0", open_100k / wrk_100k <= 1.0)
row(f"peak RSS over {rss_duration}s fixed-rate run (MiB)", f"{bk_rss:.1f}", "<= 16", bk_rss <= 16)
print("\nvalidity (bakeoff's self-check)")
for name, doc in [("closed", closed), ("open", opened), ("rss", rss_run)]:
    errs = sum(doc["errors"].values())
    print(f"  {name:<8} valid={doc['valid']} errors={errs} generator_cpu_s={doc['generator_cpu_s']:.2f} warnings={doc['warnings']}")
if wrk_errors:
    print(f"  wrk reported errors: {wrk_errors.group(0)}")
PY
