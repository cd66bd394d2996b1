#!/usr/bin/env bash
# Generator CPU per request of a templated scenario against a plain URL, side by
# side on the same nginx (issue 15's target: templating adds at most 15%).
#
# nginx (one worker, "Hello, World!" on any path) is pinned to SERVER_CPU; each
# `bakeoff load` runs pinned to GEN_CPU under /usr/bin/time (user+sys CPU of the
# whole process), open loop at RATE req/s for DURATION s. The two runs alternate
# for ROUNDS rounds; the ratio is the median of the per-round ratios, so one noisy
# run on a shared VM does not decide it. The scenario renders every template kind
# per request: an integer, a pick, a CSV row (random), the sequence number and a
# UUID, in the path, the query and a header, plus a sessions run (two classes in
# order on each connection) to show the session cursor's cost.
# Usage: bench/templates.sh  (env vars below override). Needs root to install nginx.
set -euo pipefail

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
RATE=${RATE:-10000}
CONNS=${CONNS:-64}
PORT=${PORT:-18091}
SERVER_CPU=${SERVER_CPU:-1}
GEN_CPU=${GEN_CPU:-0}

source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/nginx.sh"
bench_work templates

if ! command -v nginx >/dev/null; then
    echo "installing nginx (apt-get)..." >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
fi
require taskset python3 /usr/bin/time

echo "building bakeoff (release)..." >&2
(cd "$root" && cargo build --release -q -p bakeoff)
bakeoff="$root/target/release/bakeoff"

nginx_start "$work" "$PORT" "$SERVER_CPU"
url="http://127.0.0.1:$PORT"

python3 - "$work/users.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("id,name\n")
    for i in range(1000):
        f.write(f"{i},user{i}\n")
PY
cat >"$work/templated.toml" <<TOML
[data.users]
file = "users.csv"
order = "random"

[[request]]
name = "item"
path = "/items/{{ int 1 10000 }}"
query = { sort = "{{ pick name price date }}", n = "{{ seq }}" }
headers = { X-User = "{{ csv users.name }}", X-Request-Id = "{{ uuid }}" }
TOML
cat >"$work/sessions.toml" <<TOML
[[request]]
name = "list"
path = "/items"

[[request]]
name = "get"
path = "/items/1"

[[session]]
name = "browse"
steps = ["list", "get"]
TOML

timed() { # name cmd...: leaves "user sys" in $work/NAME.time
    local name=$1; shift
    taskset -c "$GEN_CPU" /usr/bin/time -f '%U %S' -o "$work/$name.time" "$@"
}
for r in $(seq "$ROUNDS"); do
    for kind in plain templated sessions; do
        echo "round $r/$ROUNDS: $kind, $RATE req/s, ${DURATION}s..." >&2
        if [[ $kind == plain ]]; then
            timed "${kind}_$r" "$bakeoff" load "$url/items/1" -c "$CONNS" --rate "$RATE" -d "${DURATION}s" --json >"$work/${kind}_$r.json"
        else
            timed "${kind}_$r" "$bakeoff" load "$url" --scenario "$work/$kind.toml" -c "$CONNS" --rate "$RATE" -d "${DURATION}s" --json >"$work/${kind}_$r.json"
        fi
    done
done

python3 - "$work" "$ROUNDS" "$RATE" "$DURATION" "$GEN_CPU" "$SERVER_CPU" <<'PY'
import json, statistics, sys
work, rounds, rate, duration, gen, srv = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
def cost(name):
    """µs of generator CPU (user + sys, whole process) per measured request."""
    user, sys_ = map(float, open(f"{work}/{name}.time").read().split()[-2:])
    doc = json.load(open(f"{work}/{name}.json"))
    return (user + sys_) / max(doc["requests"], 1) * 1e6
print(f"generator CPU per request, open loop at {rate} req/s for {duration}s, {rounds} rounds (generator on cpu {gen}, nginx on cpu {srv})")
print(f"{'round':<6} {'plain µs':>9} {'templated µs':>13} {'sessions µs':>12} {'templated ÷ plain':>18} {'sessions ÷ plain':>17}")
ratios_t, ratios_s = [], []
for r in range(1, rounds + 1):
    p, t, s = cost(f"plain_{r}"), cost(f"templated_{r}"), cost(f"sessions_{r}")
    ratios_t.append(t / p); ratios_s.append(s / p)
    print(f"{r:<6} {p:>9.2f} {t:>13.2f} {s:>12.2f} {t/p:>18.3f} {s/p:>17.3f}")
print(f"\nmedian templated ÷ plain: {statistics.median(ratios_t):.3f} (target ≤ 1.15)")
print(f"median sessions ÷ plain:  {statistics.median(ratios_s):.3f}")
PY
