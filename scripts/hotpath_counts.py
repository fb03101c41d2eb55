#!/usr/bin/env python3
"""Runs the HotPaths benchmark executable and checks (or writes) its allocation counts.

    hotpath_counts.py check  EXECUTABLE THRESHOLDS.json
    hotpath_counts.py update EXECUTABLE THRESHOLDS.json

The executable, run on its own, prints each benchmark's histogram of ordo-one/benchmark's
`mallocCountTotal` ("Debug results for NAME:" … "#[Mean = X"). A count is deterministic for the pure
paths; the SQLite append moves by a few, so each entry has a tolerance in percent. `check` fails when
a count is above its threshold plus the tolerance, or when a benchmark is missing; it says so when a
count is well below (then run `update` and commit the new thresholds).
"""
import json
import re
import subprocess
import sys

DEFAULT_TOLERANCE = {"Append a batch of 100 events to SQLite": 3.0}


def measure(executable):
    run = subprocess.run([executable, "--quiet", "true"], capture_output=True, text=True, timeout=900)
    if run.returncode != 0:
        sys.exit(f"{executable} exited {run.returncode}:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
    counts, name = {}, None
    for line in run.stdout.splitlines():
        started = re.match(r"Debug results for (.+):$", line)
        if started:
            name = started.group(1)
            continue
        mean = re.match(r"#\[Mean\s*=\s*([0-9.]+)", line)
        if mean and name:
            counts[name] = float(mean.group(1))
            name = None
    if not counts:
        sys.exit(f"no results in the output of {executable}:\n{run.stdout[-2000:]}")
    return counts


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("check", "update"):
        sys.exit(__doc__)
    mode, executable, path = sys.argv[1:]
    counts = measure(executable)
    if mode == "update":
        thresholds = {
            name: {"mallocs": round(count), "tolerancePercent": DEFAULT_TOLERANCE.get(name, 0.0)}
            for name, count in sorted(counts.items())
        }
        with open(path, "w") as file:
            json.dump(thresholds, file, indent=2)
            file.write("\n")
        for name, entry in thresholds.items():
            print(f"{entry['mallocs']:>8}  {name}")
        print(f"written to {path}")
        return
    with open(path) as file:
        thresholds = json.load(file)
    failed = False
    for name, entry in thresholds.items():
        limit = entry["mallocs"] * (1 + entry["tolerancePercent"] / 100)
        count = counts.get(name)
        if count is None:
            print(f"MISSING   {name}: no longer measured")
            failed = True
        elif count > limit:
            print(f"REGRESSED {name}: {count:.0f} allocations, threshold {entry['mallocs']} (+{entry['tolerancePercent']}%)")
            failed = True
        elif count < entry["mallocs"] * (1 - entry["tolerancePercent"] / 100) - 0.5:
            print(f"IMPROVED  {name}: {count:.0f} allocations, threshold {entry['mallocs']}: run 'scripts/hotpath-counts.sh update'")
        else:
            print(f"ok        {name}: {count:.0f} allocations (threshold {entry['mallocs']})")
    for name in sorted(set(counts) - set(thresholds)):
        print(f"NEW       {name}: {counts[name]:.0f} allocations, no threshold: run 'scripts/hotpath-counts.sh update'")
        failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
