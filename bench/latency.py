#!/usr/bin/env python3
"""How soon logmon sees an appended line, and what it costs while idle.

Usage: bench/latency.py [--no-inotify]   (after cargo build --release)

Latency: logmon follows a temp log with --serve on 127.0.0.1. 100 times,
at a random moment (0.2 to 0.7 s apart), one line is appended (open,
write, close, as a writer would) and the clock starts; then

- "read": /proc/PID/io's rchar is polled until the process has read more
  bytes (the reader thread read the line);
- "counted": /metrics is polled, a new connection each time (a kept-alive
  one stalls on Nagle and delayed ACKs, adding 40 ms now and then), until
  logmon_requests_total has grown by one (the main loop counted it).

The two are measured on separate appends, so that one poll does not slow
the other. Idle CPU: logmon follows a quiet file without --serve for 30 s;
the CPU time is the sum of its threads' /proc/PID/task/*/schedstat, and
the wakeups the number of times they were scheduled.
"""
import http.client
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

LOGMON = os.path.join(
    os.environ.get("CARGO_TARGET_DIR", "target"), "release", "logmon"
)
APPENDS = 100
LINE = '127.0.0.1 - - [{}] "GET /api/user HTTP/1.1" 200 12\n'


def line():
    return LINE.format(time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()))


def append(path):
    with open(path, "a") as f:
        f.write(line())


def rchar(pid):
    with open(f"/proc/{pid}/io") as f:
        for row in f:
            if row.startswith("rchar:"):
                return int(row.split()[1])
    raise RuntimeError("no rchar")


def counted(addr):
    host, port = addr.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port))
    conn.request("GET", "/metrics", headers={"Connection": "close"})
    body = conn.getresponse().read().decode()
    conn.close()
    return sum(
        float(row.rsplit(" ", 1)[1])
        for row in body.splitlines()
        if row.startswith("logmon_requests_total")
    )


def start(log, extra):
    proc = subprocess.Popen(
        [LOGMON, "--serve", "127.0.0.1:0", *extra, log],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    for row in proc.stderr:
        if "http://" in row:
            addr = row.split("http://")[1].strip().rstrip("/")
            return proc, addr
    raise RuntimeError("no address")


def wait_until(cond, limit=5.0):
    t0 = time.perf_counter()
    while not cond():
        if time.perf_counter() - t0 > limit:
            raise RuntimeError("timed out")
    return time.perf_counter()


def latency(extra):
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "access.log")
        open(log, "w").close()
        proc, addr = start(log, extra)
        time.sleep(1)
        read, count = [], []
        n = counted(addr)
        for i in range(2 * APPENDS):
            time.sleep(random.uniform(0.2, 0.7))
            if i % 2 == 0:
                before = rchar(proc.pid)
                t0 = time.perf_counter()
                append(log)
                t1 = wait_until(lambda: rchar(proc.pid) > before)
                read.append(t1 - t0)
            else:
                t0 = time.perf_counter()
                append(log)
                t1 = wait_until(lambda: counted(addr) > n)
                count.append(t1 - t0)
            n = counted(addr)
        proc.kill()
        proc.wait()
    return read, count


def cpu(pid):
    ns = runs = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/schedstat") as f:
            on_cpu, _, slices = f.read().split()
            ns += int(on_cpu)
            runs += int(slices)
    return ns, runs


def idle(extra, secs=30):
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "access.log")
        open(log, "w").close()
        proc = subprocess.Popen(
            [LOGMON, *extra, log], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(2)
        ns0, runs0 = cpu(proc.pid)
        time.sleep(secs)
        ns1, runs1 = cpu(proc.pid)
        proc.kill()
        proc.wait()
    return (ns1 - ns0) / 1e9, runs1 - runs0


def ms(xs, q):
    return statistics.quantiles(xs, n=100)[q - 1] * 1000


def main():
    extra = sys.argv[1:]
    read, count = latency(extra)
    for name, xs in (("read", read), ("counted", count)):
        print(
            f"{name}: median {statistics.median(xs) * 1000:.2f} ms, "
            f"p95 {ms(xs, 95):.2f} ms, max {max(xs) * 1000:.2f} ms ({len(xs)} appends)"
        )
    secs, runs = idle(extra)
    print(f"idle 30 s: {secs * 1000:.1f} ms of CPU ({secs / 30 * 100:.4f}% of a core), {runs} wakeups")


if __name__ == "__main__":
    main()
