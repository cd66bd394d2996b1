#!/usr/bin/env bash
# Does the drift probe see what a server feels? Times, side by side on one core,
# the drift probe's loop as it is (six interleaved shift/xor/add chains:
# crates/bakeoff/src/measure/speed.rs), the single dependent chain it was until
# December 2026, and a Python loop of dict and string work (an interpreter's
# kind of load), every 200 ms for DURATION seconds; prints each one's spread and how its
# timings correlate with the Python loop's. A probe that correlates well moves
# when the machine slows what the contenders run; one that does not cannot tell
# a slower machine from a slower server. The loops are C ports of the Rust
# ones (cc, which Rust needs for linking, builds them).
# Usage: bench/probe-correlation.sh  (env: CPU=1 DURATION=40)
set -euo pipefail
CPU=${CPU:-1}
DURATION=${DURATION:-40}
work=$(mktemp -d /tmp/bakeoff-probe.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat > "$work/loops.c" <<'C'
#include <stdint.h>
uint64_t chain(uint64_t n) {
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (uint64_t i = 0; i < n; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; x += i; }
    return x;
}
uint64_t interleaved(uint64_t n) {
    uint64_t a = 1, b = 2, c = 3, d = 4, e = 5, f = 6;
    for (uint64_t i = 0; i < n; i++) {
        a ^= a << 13; b ^= b >> 7; c ^= c << 17; d += i; e ^= e >> 5;
        f += a; a += f; b ^= d; c += e; e += i;
    }
    return a ^ b ^ c ^ d ^ e ^ f;
}
C
cc -O2 -shared -fPIC -o "$work/libloops.so" "$work/loops.c"
taskset -c "$CPU" python3 - "$work/libloops.so" "$DURATION" "$CPU" <<'PY'
import ctypes, json, statistics as st, sys, time
lib = ctypes.CDLL(sys.argv[1])
for f in (lib.chain, lib.interleaved):
    f.restype, f.argtypes = ctypes.c_uint64, [ctypes.c_uint64]
def python_loop():
    d, s = {}, 0
    for i in range(40000):
        k = "k%d" % (i % 997)
        d[k] = d.get(k, 0) + i
        s += len(k)
    return s + len(json.dumps(d))
def ms(f):
    t = time.perf_counter(); f(); return (time.perf_counter() - t) * 1e3
rows, end = [], time.time() + float(sys.argv[2])
while time.time() < end:
    rows.append((ms(lambda: lib.interleaved(2_000_000)), ms(lambda: lib.chain(2_000_000)), ms(python_loop)))
    time.sleep(0.2)
def corr(x, y):
    mx, my = st.mean(x), st.mean(y)
    num = sum((a - mx) * (b - my) for a, b in zip(x, y))
    den = (sum((a - mx) ** 2 for a in x) * sum((b - my) ** 2 for b in y)) ** 0.5
    return num / den if den else float("nan")
cols = list(zip(*rows))
print(f"{len(rows)} timings of each on cpu {sys.argv[3]}")
print(f"{'loop':<34} {'median ms':>9} {'min':>7} {'max':>7} {'CV':>6}  corr. with Python")
names = ["drift probe (interleaved chains)", "single chain (until 2026-12)", "Python dict/str loop"]
for name, c in zip(names, cols):
    print(f"{name:<34} {st.median(c):9.2f} {min(c):7.2f} {max(c):7.2f} {100 * st.pstdev(c) / st.mean(c):5.1f}%  {corr(c, cols[2]):+.2f}")
PY
