#!/usr/bin/env python3
"""How often a `drift` flag came with a slower server: the flag's precision,
read from stored runs.

Usage: bench/drift-precision.py RESULTS.db [MORE.db ...] [--slow 0.9]

Each database is read on its own (a `bench/repeatability.sh` pair or triple,
or one run): for every confirmed trial of an HTTP workload, its capacity as a
share of the median of all confirmed trials of the same contender and
workload in that database (every run's launches pooled). A trial is flagged
when its cell's `drift` note names it (`trial N a–b%`: the probe's readings
before and after that search as shares of the run's reference, rounded down;
`suite::cell::drift_note`), by the loop on the contender's core or by the
loopback. The flag is worth its word when flagged trials are slower more
often than the others: the script prints, per probe and for all flagged
trials, how many lay more than `--slow` under their cell's median, against
the same share of the trials no flag named. Launch-to-launch spread (Node.js
20's slow launches) is in both shares alike.

A reading, not a test: the trials of one database are not independent (a
slow stretch of the host slows several), and a flag raised on a trial that a
slow launch also slowed counts as right.
"""
import argparse
import collections
import json
import re
import sqlite3
import statistics

PROBES = {
    "loop": "contender's core ran more than",
    "loopback": "loopback between the cores ran more than",
}
TRIAL = re.compile(r"trial (\d+) (\d+)(?:–(\d+))?%")


def read(path):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    trials, caps = {}, collections.defaultdict(list)
    for cell, run, contender, workload, idx, cap in db.execute(
        "SELECT c.id, c.run_id, c.contender, c.workload, t.idx, t.capacity_rps "
        "FROM trials t JOIN cells c ON c.id = t.cell_id "
        "WHERE c.workload NOT IN ('startup', 'ws') AND t.outcome = 'confirmed' "
        "AND t.capacity_rps > 0"
    ):
        trials[(cell, idx)] = (run, contender, workload, cap)
        caps[(contender, workload)].append(cap)
    median = {k: statistics.median(v) for k, v in caps.items()}
    share = {k: cap / median[(c, w)] for k, (_, c, w, cap) in trials.items()}
    flagged = []
    for cell, notes in db.execute("SELECT id, notes_json FROM cells"):
        for note in json.loads(notes or "[]"):
            for probe, words in PROBES.items():
                if words not in note:
                    continue
                for n, lo, hi in TRIAL.findall(note.split(words, 1)[1]):
                    key = (cell, int(n) - 1)
                    if key in share:
                        run, contender, workload, _ = trials[key]
                        lo, hi = int(lo), int(hi or lo)
                        flagged.append((probe, run, contender, workload, int(n), lo, hi, share[key]))
    named = {(f[1], f[2], f[3], f[4]) for f in flagged}
    others = [
        s
        for k, s in share.items()
        if (trials[k][0], trials[k][1], trials[k][2], k[1] + 1) not in named
    ]
    return flagged, others


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dbs", nargs="+")
    ap.add_argument("--slow", type=float, default=0.9, help="a trial under this share of its cell's median is slower")
    args = ap.parse_args()
    all_flagged, all_others = [], []
    for path in args.dbs:
        flagged, others = read(path)
        for f in sorted(flagged, key=lambda f: (f[0], f[5])):
            probe, run, contender, workload, n, lo, hi, s = f
            mark = "  slower" if s < args.slow else ""
            print(f"{path}: {probe} run {run} {contender} {workload} trial {n}: readings {lo}–{hi}%, capacity {s:.3f} of the cell's median{mark}")
        all_flagged += flagged
        all_others += others

    def line(what, shares):
        n = len(shares)
        k = sum(s < args.slow for s in shares)
        pct = f"{100 * k / n:.0f}%" if n else "-"
        return f"{what}: {k} of {n} more than {100 * (1 - args.slow):.0f}% under their cell's median ({pct})"

    print()
    for probe in PROBES:
        print(line(f"trials flagged by the {probe}", [f[7] for f in all_flagged if f[0] == probe]))
    both = [f[7] for f in all_flagged if f[6] < 100 - 100 * {"loop": 0.10, "loopback": 0.25}[f[0]]]
    print(line("  of them, both readings under the bar", both))
    print(line("trials no flag named", all_others))


if __name__ == "__main__":
    main()
