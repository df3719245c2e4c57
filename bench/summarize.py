#!/usr/bin/env python3
"""Helpers for bench/run.sh: check follow mode, time startup, print the table.

    summarize.py follow LOG REPORTS STOPPED      (STOPPED: unix seconds)
    summarize.py startup LOGMON BIG_LOG          (prints seconds)
    summarize.py table OUT RUNS HAVE_GOACCESS
"""

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime


def unix(rfc3339):
    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()


def follow(log, reports, stopped):
    """Every written line is counted by the first report ending >= 1 s
    after the writer stopped."""
    stopped = float(stopped)
    with open(log, "rb") as f:
        written = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    counted, deadline_end, total = 0, None, 0
    with open(reports) as f:
        for line in f:
            event = json.loads(line)
            if event["type"] != "report":
                continue
            total += event["hits"]
            if deadline_end is None:
                counted += event["hits"]
                if unix(event["end"]) >= stopped + 1:
                    deadline_end = event["end"]
    ok = counted == written and total == written
    # The writer runs for 10 s; on a busy machine it may fall short of
    # 500k lines/s, so say what it managed.
    print(f"writer {written / 10 / 1e3:.0f}k lines/s, written={written} "
          f"counted_by_deadline={counted} counted_total={total} "
          f"deadline_report_end={deadline_end} ok={ok}")


def startup(logmon, big):
    """Seconds from spawning logmon on BIG until its first event.

    The log's last two minutes carry far more than the default threshold,
    so the backfill fires an alert as soon as it is complete: that first
    line marks the end of startup."""
    start = time.monotonic()
    child = subprocess.Popen([logmon, "--format", "json", big],
                             stdout=subprocess.PIPE, text=True)
    first = child.stdout.readline()
    elapsed = time.monotonic() - start
    child.terminate()
    child.wait()
    if '"alert"' not in first:
        sys.exit(f"summarize.py: expected an alert first, got {first!r}")
    print(f"{elapsed:.3f}")


def runs(out, name):
    path = os.path.join(out, name + ".runs")
    if not os.path.exists(path):
        return None
    rows = [line.split() for line in open(path) if line.strip()]
    secs = statistics.median(float(r[0]) for r in rows)
    rss_kb = max(int(r[1]) for r in rows) if len(rows[0]) > 1 else None
    return secs, rss_kb


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return (f"{os.cpu_count()} CPUs ({model}), {mem_kb / 1024 / 1024:.0f} GiB RAM, "
            f"{platform.system()} {platform.release()}")


def table(out, n_runs, have_goaccess):
    have_goaccess = have_goaccess == "1"
    print(f"Machine: {machine()}")
    print(f"Median of {n_runs} runs (GoAccess: 1 run). Ratios are against the same file.\n")
    print("| log | tool | wall (s) | lines/s | x wc -l | logmon speed-up vs GoAccess | peak RSS (MiB) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for size, lines in (("1m", 1_000_000), ("5m", 5_000_000)):
        wc = runs(out, f"wc-{size}")
        lm = runs(out, f"logmon-{size}")
        ga = runs(out, f"goaccess-{size}") if have_goaccess else None
        for tool, r in (("wc -l", wc), ("logmon --replay", lm), ("goaccess", ga)):
            if r is None:
                if tool == "goaccess":
                    print(f"| {size.upper()} | goaccess | not installed | | | | |")
                continue
            secs, rss = r
            speedup = f"{ga[0] / lm[0]:.0f}x" if (ga and tool == "logmon --replay") else ""
            print(f"| {size.upper()} | {tool} | {secs:.3f} | {lines / secs / 1e6:.2f}M "
                  f"| {secs / wc[0]:.1f} | {speedup} | {rss / 1024:.1f} |")
    result = os.path.join(out, "follow.result")
    if os.path.exists(result):
        print(f"\nFollow, 500k lines/s for 10 s: {open(result).read().strip()}")
    startup_runs = os.path.join(out, "startup.runs")
    if os.path.exists(startup_runs):
        secs = [float(x) for x in open(startup_runs).read().split()]
        print(f"Startup on a 5 GiB log (to the first event, backfill included): "
              f"median {statistics.median(secs):.3f} s of {len(secs)} runs")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"follow": follow, "startup": startup, "table": table}[cmd](*args)
