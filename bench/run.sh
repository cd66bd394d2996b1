#!/usr/bin/env bash
# Benchmark `bakeoff run --profile quick` from start to end: its wall time (target
# ≤ 8 minutes on a 2-core machine) and the share of that time spent outside the
# measured windows and warm-ups (target ≤ 10%). Contender installs come from the
# cache (BAKEOFF_CACHE_DIR, default ~/.cache/bakeoff) so install time is not
# counted; run `bakeoff setup` once first on a fresh machine.
# Usage: bench/run.sh   (CONTENDERS=node-fastify,python-flask to narrow it; EXTRA="--workloads json"
# adds options to the measured run only)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
export BAKEOFF_CACHE_DIR=${BAKEOFF_CACHE_DIR:-$HOME/.cache/bakeoff}
export BAKEOFF_CONTENDERS_DIR="$root/contenders"
work=$(mktemp -d /tmp/bakeoff-run-bench.XXXXXX)

cargo build --release -q -p bakeoff --manifest-path "$root/Cargo.toml"
bin="$root/target/release/bakeoff"

pick=()
if [[ -n "${CONTENDERS:-}" ]]; then pick=(--contenders "$CONTENDERS"); fi

echo "setup and verify (cached installs) …"
"$bin" setup --results-dir "$work/results" "${pick[@]}" >/dev/null 2>&1
"$bin" verify --results-dir "$work/results" "${pick[@]}" >/dev/null 2>&1

echo "bakeoff run --profile quick ${pick[*]} ${EXTRA:-} (results in $work) …"
start=$(date +%s.%N)
# shellcheck disable=SC2086
"$bin" run --profile quick --quiet --results-dir "$work/results" "${pick[@]}" ${EXTRA:-} >"$work/out.txt"
end=$(date +%s.%N)

line=$(grep -E '^run [0-9]+: complete in' "$work/out.txt")
measuring=$(sed -E 's/.*\(([0-9.]+) s measuring.*/\1/' <<<"$line")
wall=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }')
overhead=$(awk -v w="$wall" -v m="$measuring" 'BEGIN { printf "%.1f", 100 * (w - m) / w }')
minutes=$(awk -v w="$wall" 'BEGIN { printf "%.2f", w / 60 }')

echo
echo "$line"
printf 'wall time:            %s s (%s min; target ≤ 8 min)\n' "$wall" "$minutes"
printf 'measuring:            %s s\n' "$measuring"
printf 'outside measurements: %s%% of the wall time (target ≤ 10%%; includes the cached setup and verify checks inside bakeoff run)\n' "$overhead"
