#!/usr/bin/env python3
"""Replay stored confirmation brackets against a fixed capacity: what each way
of climbing from a held long window to the failure above would spend.

Usage: bench/confirm-replay.py RESULTS.db [MORE.db ...] [--resolution 0.03]

For every confirmed trial, the first long window that held (L) and the lowest
long failure above it before then (H, else the short search's lowest failure)
start the replay; the capacity is taken as the geometric middle of the
trial's final bracket. A probe at or below it passes (a 10 s window), one
above fails (at that trial's mean duration of its abandoned failures). The
climbs: today's (`suite/search/confirm.rs`, `climb`: after a first pass, at
most two resolutions up; otherwise bisect), plain bisection, and probing just
below the failure. A model, not a run: no window's noise is replayed
(docs/benchmarks.md, "Fifty-first pass"). Nor is the blind step: after a
step down with no estimate to land near, today's climb bisects at once
(`climb`'s `blind`); the replay climbs as if every step down had an
estimate, so its "today's climb" is today's for those trials and
bisection's for the rest (9.8 s against 9.7 s a trial in that pass).
"""
import argparse
import math
import sqlite3
import statistics

PASS_S = 10.0


def strategies(res):
    def today(low, high, passes):
        mid = math.sqrt(low * high)
        return mid if passes >= 2 else min(mid, low * (1 + 2 * res))

    return {
        "today's climb": today,
        "bisection": lambda low, high, _: math.sqrt(low * high),
        "just below the failure": lambda low, high, _: high / (1 + res),
    }


def replay(pick, low, high, capacity, fail_s, res):
    spent, passes = 0.0, 1
    for _ in range(20):
        if high / low <= 1 + res + 1e-9:
            break
        probe = pick(low, high, passes)
        if probe <= capacity:
            spent, low, passes = spent + PASS_S, probe, passes + 1
        else:
            spent, high, passes = spent + fail_s, probe, 0
    return spent


def brackets(path):
    db = sqlite3.connect(path)
    steps = {}
    for trial, rate, verdict, dur in db.execute(
        "SELECT trial_id, target_rps, verdict, duration_s FROM search_steps "
        "WHERE phase = 'confirm' ORDER BY trial_id, position"
    ):
        steps.setdefault(trial, []).append((rate, verdict, dur or 0.0))
    short_fail = dict(db.execute(
        "SELECT trial_id, min(target_rps) FROM search_steps "
        "WHERE phase != 'confirm' AND verdict = 'fail' GROUP BY trial_id"))
    for trial, seq in steps.items():
        first = next((i for i, s in enumerate(seq) if s[1] == "pass"), None)
        if first is None:
            continue
        low = seq[first][0]
        above = [r for r, v, _ in seq[:first] if v == "fail" and r > low]
        high = min(above) if above else short_fail.get(trial)
        if not high or high <= low:
            continue
        held = max(r for r, v, _ in seq if v == "pass")
        broke = [r for r, v, _ in seq if v == "fail" and r > held]
        capacity = math.sqrt(held * min(min(broke) if broke else high, high))
        fails = [d for _, v, d in seq if v == "fail"]
        yield low, high, capacity, statistics.mean(fails) if fails else 3.3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("db", nargs="+")
    ap.add_argument("--resolution", type=float, default=0.03)
    args = ap.parse_args()
    rows = [b for path in args.db for b in brackets(path)]
    if not rows:
        raise SystemExit("no confirmed trial with a bracket in those databases")
    print(f"{len(rows)} confirmed brackets, resolution {args.resolution:.0%}")
    for name, pick in strategies(args.resolution).items():
        costs = [replay(pick, *row, args.resolution) for row in rows]
        print(f"  {name}: {statistics.mean(costs):.1f} s after the first pass on average")


if __name__ == "__main__":
    main()
