#!/usr/bin/env bash
# Accuracy of the capacity search against real servers of known ceiling: one
# thread spending a fixed time per request, its own work included, so its
# ceiling is 1/service (bakeoff-load's testkit); a closed loop shows it reaches
# it, then the search with the real engine. Prints capacity ÷ ceiling per
# server (or that the machine stalled every search of a case, which the test
# then confirms with a probe); the test asserts 0.85–1.005.
# Usage: bench/accuracy.sh [rounds]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
cargo build -q --release -p bakeoff --tests
for i in $(seq 1 "$rounds"); do
  echo "round $i:"
  cargo test -q --release -p bakeoff --test capacity -- --nocapture 2>&1 |
    # The harness's own output may share a line with a test's: match anywhere.
    grep -oE '(service [^ ]+: |room: |--find-capacity: ).*' || { echo "capacity test failed" >&2; exit 1; }
done
