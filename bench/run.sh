#!/usr/bin/env bash
# Benchmark logmon against `wc -l` and GoAccess (issue 5 targets).
#
#   bench/run.sh              replay (1M and 5M lines) and follow checks
#   bench/run.sh --big        also the startup check on a 5 GiB log
#   RUNS=7 bench/run.sh       runs per measurement (default 5)
#
# Everything generated goes to bench/out/ (ignored by git). Timings are
# medians of RUNS runs; on a shared machine expect noise between runs.
# Needs: cargo, python3, GNU time (/usr/bin/time). Optional: goaccess.
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
BIG=0
for arg in "$@"; do
    case $arg in
    --big) BIG=1 ;;
    -h | --help)
        sed -n '2,12p' "$0"
        exit 0
        ;;
    *)
        echo "run.sh: unknown argument $arg" >&2
        exit 2
        ;;
    esac
done

OUT=bench/out
mkdir -p "$OUT"
cargo build --release --quiet --bins
LOGMON=target/release/logmon
LOGGEN=target/release/loggen

if [[ ! -x /usr/bin/time ]]; then
    echo "run.sh: GNU time (/usr/bin/time) is missing: apt-get install time" >&2
    exit 1
fi
HAVE_GOACCESS=0
if command -v goaccess >/dev/null; then
    HAVE_GOACCESS=1
else
    echo "note: goaccess not installed (apt-get install goaccess): its column is skipped" >&2
fi

# The logs: deterministic, so they are generated once and reused.
gen() { # gen LINES FILE
    if [[ ! -s $2 ]]; then
        echo "generating $2" >&2
        "$LOGGEN" --lines "$1" --seed 42 --log-format combined "$2.tmp"
        mv "$2.tmp" "$2"
    fi
}
gen 1000000 "$OUT/combined-1m.log"
gen 5000000 "$OUT/combined-5m.log"

# measure NAME CMD...: RUNS runs of CMD (stdout to /dev/null), one line per
# run "seconds max_rss_kb" in $OUT/NAME.runs.
measure() {
    local name=$1
    shift
    : >"$OUT/$name.runs"
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -f "%e %M" -o "$OUT/$name.time" "$@" >/dev/null 2>"$OUT/$name.err" ||
            {
                echo "run.sh: $name failed:" >&2
                cat "$OUT/$name.err" >&2
                exit 1
            }
        cat "$OUT/$name.time" >>"$OUT/$name.runs"
    done
}

for size in 1m 5m; do
    log=$OUT/combined-$size.log
    measure "wc-$size" wc -l "$log"
    measure "logmon-$size" "$LOGMON" --replay --format json "$log"
    if ((HAVE_GOACCESS)); then
        # GoAccess is ~100x slower: time it once per size (it is only a
        # reference point, and five runs of a 5M-line log take minutes).
        RUNS=1 measure "goaccess-$size" goaccess "$log" --log-format=COMBINED \
            -o "$OUT/goaccess-$size.json"
    fi
done

# Follow mode: a writer appends 500k lines/s for 10 s while logmon follows
# with one-second reports. Every written line must be counted by the first
# report that ends at least 1 s after the writer stops.
follow_check() {
    local log=$OUT/follow.log report=$OUT/follow.json
    rm -f "$log" "$report"
    : >"$log"
    "$LOGMON" --period 1 --format json "$log" >"$report" &
    local mon=$!
    sleep 1
    timeout -s INT 10 "$LOGGEN" --rate 500000 --seed 7 "$log" || true
    local stopped
    stopped=$(date +%s.%N)
    sleep 3
    kill -INT "$mon"
    wait "$mon" || true
    python3 bench/summarize.py follow "$log" "$report" "$stopped"
}
follow_check >"$OUT/follow.result"

# Startup on a 5 GiB log: logmon must be reporting within 0.5 s, backfill
# included. Opt-in (--big): it needs 5 GiB of disk for a minute.
if ((BIG)); then
    big=$OUT/big-5g.log
    avail_kb=$(df -Pk "$OUT" | awk 'NR == 2 { print $4 }')
    if ((avail_kb < 7 * 1024 * 1024)); then
        echo "run.sh: --big needs 7 GiB free in $OUT, have $((avail_kb / 1024)) MiB" >&2
        exit 1
    fi
    # Cheaply: an old chunk concatenated past 5 GiB, then two minutes of
    # fresh traffic (stamped just before logmon starts) for the backfill.
    chunk=$OUT/big-chunk.log
    "$LOGGEN" --lines 2500000 --start $(($(date +%s) - 86400)) --rate 100 --seed 9 "$chunk"
    : >"$big"
    while (($(stat -c %s "$big") < 5 * 1024 * 1024 * 1024)); do
        cat "$chunk" >>"$big"
    done
    rm -f "$chunk"
    base=$(stat -c %s "$big")
    : >"$OUT/startup.runs"
    for _ in $(seq "$RUNS"); do
        truncate -s "$base" "$big"
        "$LOGGEN" --lines 240000 --start $(($(date +%s) - 120)) --rate 2000 --seed 11 "$big"
        python3 bench/summarize.py startup "$LOGMON" "$big" >>"$OUT/startup.runs"
    done
    rm -f "$big"
fi

python3 bench/summarize.py table "$OUT" "$RUNS" "$HAVE_GOACCESS"
