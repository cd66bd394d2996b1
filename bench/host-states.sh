#!/usr/bin/env bash
# How fast this host changes speed: a busy loop timed every 100 ms on the
# contender's CPU (cpu 1) for a minute, with nothing else of bakeoff's
# running. Prints one letter per reading (F: within 10% of the top, m: within
# 25%, s: slower), then the share of slow readings and the lengths of the
# slow and fast stretches. With SPIN=1 a busy loop on cpu 0 runs meanwhile,
# to tell bakeoff's own load (the generator's core) from the host's tenants.
# Usage: bench/host-states.sh [seconds]   (default 60)
set -euo pipefail
seconds="${1:-60}"
spinner=""
if [[ "${SPIN:-0}" == 1 ]]; then
  taskset -c 0 sh -c 'while :; do :; done' &
  spinner=$!
  trap 'kill $spinner 2>/dev/null || true' EXIT
fi
python3 - "$seconds" <<'PY'
import itertools, os, sys, time
os.sched_setaffinity(0, {1})
span = float(sys.argv[1])
vals = []
t0 = time.perf_counter()
while time.perf_counter() - t0 < span:
    t = time.perf_counter(); n = 0
    while time.perf_counter() - t < 0.1:
        for _ in range(5000):
            n += 1
    vals.append(n / (time.perf_counter() - t) / 1e6)
top = sorted(vals)[int(len(vals) * 0.9)]
s = ''.join('F' if v > 0.9 * top else ('m' if v > 0.75 * top else 's') for v in vals)
print(f"{len(vals)} readings, top (90th percentile) {top:.1f} M iterations/s")
for i in range(0, len(s), 100):
    print(s[i:i + 100])
runs = [(k, len(list(g))) for k, g in itertools.groupby(s.replace('m', 'F'))]
slow = sorted(n for k, n in runs if k == 's') or [0]
fast = sorted(n for k, n in runs if k == 'F') or [0]
print(f"slow {s.count('s') / len(s):.0%} of the time; slow stretches {slow[len(slow) // 2] / 10:.1f} s median, "
      f"{slow[-1] / 10:.1f} s longest; fast stretches {fast[len(fast) // 2] / 10:.1f} s median, {fast[-1] / 10:.1f} s longest")
PY
