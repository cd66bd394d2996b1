#!/usr/bin/env bash
# How steady this machine is, with nothing of bakeoff running: the runner's drift
# probe (a fixed integer loop, crates/bakeoff/examples/machine_speed.rs) timed on
# each core every INTERVAL_MS for SECONDS, and /proc/stat's steal over the same
# time. A core whose speed moves by X% from one second to the next moves every
# server's capacity with it: this bounds the repeatability any run can reach here.
# Then the steal under a wake-heavy load: a thread per CPU sleeping 0.1 ms in a
# loop (10,000 wake-ups a second, as a server and the generator under load). On a
# VM the hypervisor's delay in running a woken vCPU is charged as steal, which busy
# loops never show; over 2% voids bakeoff's windows (docs/methodology.md).
# Usage: bench/machine.sh  (env: SECONDS_PER_CORE=60 INTERVAL_MS=250 CPUS="0 1"
#                           WAKE_SECONDS=10)
set -euo pipefail
SECONDS_PER_CORE=${SECONDS_PER_CORE:-60}
INTERVAL_MS=${INTERVAL_MS:-250}
CPUS=${CPUS:-$(seq -s ' ' 0 $(($(nproc) - 1)))}
root=$(cd "$(dirname "$0")/.." && pwd)
(cd "$root" && cargo build --release -q -p bakeoff --example machine_speed)
probe="$root/target/release/examples/machine_speed"

steal() { awk '/^cpu /{print $9}' /proc/stat; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
printf '%-4s %8s %8s %8s %8s %7s %7s\n' cpu readings median min max cv steal%
for cpu in $CPUS; do
    s0=$(steal); t0=$(date +%s.%N)
    out=$("$probe" "$cpu" "$SECONDS_PER_CORE" "$INTERVAL_MS")
    s1=$(steal); t1=$(date +%s.%N)
    hz=$(getconf CLK_TCK); ncpu=$(nproc)
    steal_pct=$(echo "$s0 $s1 $t0 $t1 $hz $ncpu" | awk '{printf "%.2f", 100*($2-$1)/$5/(($4-$3)*$6)}')
    echo "$out" | python3 -c "
import json, sys
d = json.load(sys.stdin)
print('%-4d %8d %8.1f %8.1f %8.1f %6.1f%% %7s' % (d['cpu'], d['readings'], d['median'], d['min'], d['max'], 100 * d['cv'], '$steal_pct'))
"
done

WAKE_SECONDS=${WAKE_SECONDS:-10}
s0=$(steal); t0=$(date +%s.%N)
for cpu in $CPUS; do
    python3 -c '
import os, sys, time
os.sched_setaffinity(0, {int(sys.argv[1])})
end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    time.sleep(0.0001)
' "$cpu" "$WAKE_SECONDS" &
done
wait
s1=$(steal); t1=$(date +%s.%N)
hz=$(getconf CLK_TCK); ncpu=$(nproc)
wake_pct=$(echo "$s0 $s1 $t0 $t1 $hz $ncpu" | awk '{printf "%.2f", 100*($2-$1)/$5/(($4-$3)*$6)}')
echo "steal under 10,000 wake-ups/s on each CPU for ${WAKE_SECONDS} s: ${wake_pct}% of the machine"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
