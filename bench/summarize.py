#!/usr/bin/env python3
"""Helpers for bench/run.sh: check follow mode, time startup, make the
Caddy log, print the table.

    summarize.py follow LOG REPORTS STOPPED      (STOPPED: unix seconds)
    summarize.py startup LOGMON BIG_LOG          (prints seconds)
    summarize.py caddy COMBINED_LOG OUT          (Caddy's JSON access log)
    summarize.py table OUT RUNS NAME...          (NAME: a row's records)
"""

import json
import os
import platform
import re
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


COMBINED = re.compile(
    rb'^(\S+) \S+ (\S+) \[([^\]]+)\] "(\S+) (\S+) (\S+)" (\d{3}) (\d+|-) "([^"]*)" "([^"]*)"$')


def caddy(combined, out):
    """The lines of a Combined log as Caddy's JSON access log writes them
    (the fields logmon reads, and the ones Caddy adds around them)."""
    with open(combined, "rb") as src, open(out, "w") as dst:
        for n, line in enumerate(src):
            m = COMBINED.match(line.rstrip(b"\n"))
            if not m:
                sys.exit(f"summarize.py: line {n + 1} of {combined} is not Combined")
            host, user, stamp, method, uri, proto, status, size, referer, agent = (
                g.decode("utf-8", "replace") for g in m.groups())
            ts = datetime.strptime(stamp, "%d/%b/%Y:%H:%M:%S %z").timestamp()
            headers = {"Accept": ["*/*"], "User-Agent": [agent]}
            if referer != "-":
                headers["Referer"] = [referer]
            event = {
                "level": "info", "ts": ts + (n % 1000) / 1000,
                "logger": "http.log.access.log0", "msg": "handled request",
                "request": {
                    "remote_ip": host, "remote_port": str(40000 + n % 20000),
                    "client_ip": host, "proto": proto, "method": method,
                    "host": "www.example.com", "uri": uri, "headers": headers,
                },
                "bytes_read": 0, "user_id": "" if user == "-" else user,
                "duration": (n % 97) / 1000 + 0.0005,
                "size": 0 if size == "-" else int(size), "status": int(status),
                "resp_headers": {"Server": ["Caddy"]},
            }
            dst.write(json.dumps(event, separators=(",", ":")) + "\n")


def records(out, name):
    """A row's measurements: (lines, bytes), {label: [(wall, cpu, rss_kb)]}."""
    size, by_label = None, {}
    for line in open(os.path.join(out, name + ".runs")):
        f = line.split()
        if f[0] == "lines":
            size = (int(f[1]), int(f[2]))
            continue
        label, start, end, user, sys_, rss = f
        by_label.setdefault(label, []).append(
            (float(end) - float(start), float(user) + float(sys_), int(rss)))
    return size, by_label


def instructions(out, name):
    """Instructions callgrind counted (every thread), if it ran."""
    path = os.path.join(out, name + ".callgrind")
    if not os.path.exists(path):
        return None
    for line in open(path):
        m = re.search(r"Collected : ([\d,]+)", line)
        if m:
            return int(m.group(1).replace(",", ""))
    return None


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


def paired(by_label, tool, ref):
    """The median of tool / ref over the runs, each run's pair together."""
    return statistics.median(t[0] / r[0] for t, r in zip(by_label[tool], by_label[ref]))


def table(out, n_runs, *names):
    loads = dict(line.split(" ", 1) for line in open(os.path.join(out, "load")))
    print(f"Machine: {machine()}")
    print(f"Load average (1, 5, 15 min): {loads['load_before'].strip()} before, "
          f"{loads.get('load_after', '?').strip()} after")
    print(f"Median of {n_runs} paired runs; x wc -l: logmon's wall time over wc -l's "
          f"in the same run, both with\ntwo cores, then both pinned to one "
          f"(taskset -c 0). GoAccess: one run, pinned, next to a pinned logmon run.\n")
    print("| log | lines | B/line | 2 cores (s) | x wc -l | 1 core (s) | x wc -l "
          "| CPU ns/line | GoAccess / logmon | instr/line | peak RSS (MiB) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    missed, combined_one_core = [], None
    for name in names:
        (lines, size), r = records(out, name)
        two, one = paired(r, "logmon2", "wc2"), paired(r, "logmon1", "wc1")
        secs2 = statistics.median(x[0] for x in r["logmon2"])
        secs1 = statistics.median(x[0] for x in r["logmon1"])
        cpu_ns = statistics.median(x[1] for x in r["logmon2"]) / lines * 1e9
        rss = max(x[2] for x in r["logmon2"] + r["logmon1"]) / 1024
        ga = ""
        if "goaccess1" in r:
            ga_ratio = r["goaccess1"][0][0] / r["logmon1-ga"][0][0]
            ga = f"{ga_ratio:.0f}x"
        ir = instructions(out, name)
        per_line = f"{ir / lines:,.0f}" if ir else ""
        print(f"| {name} | {lines:,} | {size / lines:.0f} | {secs2:.3f} | {two:.1f} "
              f"| {secs1:.3f} | {one:.1f} | {cpu_ns:.0f} | {ga} | {per_line} | {rss:.1f} |")
        if name.startswith("combined-"):
            combined_one_core = combined_one_core or one
            if two > 2.5:
                missed.append(f"{name}: two cores {two:.1f}x wc -l (target <= 2.5x)")
            if one > 4:
                missed.append(f"{name}: one core {one:.1f}x wc -l (target <= 4x)")
            if ga and ga_ratio < 100:
                missed.append(f"{name}: GoAccess {ga_ratio:.0f}x slower (target >= 100x)")
        elif combined_one_core and one > 2 * combined_one_core:
            missed.append(f"{name}: one core {one:.1f}x wc -l, over twice Combined's")
        if ir and ir / lines > 1000:
            missed.append(f"{name}: {ir / lines:,.0f} instructions a line (target <= 1,000)")
        if rss > 16:
            missed.append(f"{name}: peak RSS {rss:.1f} MiB (target <= 16 MiB)")
    follow_cpu = os.path.join(out, "follow-cpu.result")
    if os.path.exists(follow_cpu):
        start, written, end, before, after, tick, lines = open(follow_cpu).read().split()
        writing = float(written) - float(start)
        share = (float(after) - float(before)) / float(tick) / (float(end) - float(start))
        print(f"\nFollowing while loggen appends 50,000 lines/s ({int(lines) / writing:,.0f} "
              f"a second for {writing:.1f} s): logmon used {share:.1%} of one core.")
        if share > 0.03:
            missed.append(f"following: {share:.1%} of a core (target <= 3%)")
    result = os.path.join(out, "follow.result")
    if os.path.exists(result):
        print(f"\nFollow, 500k lines/s for 10 s: {open(result).read().strip()}")
    startup_runs = os.path.join(out, "startup.runs")
    if os.path.exists(startup_runs):
        secs = [float(x) for x in open(startup_runs).read().split()]
        print(f"Startup on a 5 GiB log (to the first event, backfill included): "
              f"median {statistics.median(secs):.3f} s of {len(secs)} runs")
    print("\nTargets (issue 17): Combined <= 2.5x wc -l on two cores, <= 4x on one, "
          "GoAccess >= 100x slower,\n<= 1,000 instructions a line, peak RSS <= 16 MiB; "
          "no format over twice Combined; following <= 3%.")
    print("Missed: " + "; ".join(missed) if missed else "Every target measured here held.")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"follow": follow, "startup": startup, "caddy": caddy, "table": table}[cmd](*args)
