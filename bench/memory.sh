#!/usr/bin/env bash
# Peak memory of `logmon --replay` over a log where every line has a new
# section and a new client: the worst case for the per-period tables.
#
# Usage: bench/memory.sh [LINES [LOGMON_ARGS...]]
#   (default 5000000 lines; target: under 64 MiB). The log holds 10,000
#   lines a second, so `bench/memory.sh 1000000 --period 3600` puts a
#   million distinct clients and paths in one period, the worst case for
#   the drill-down tables; `bench/memory.sh 1000000 --window 86400` tries
#   the longest window.
#
# Needs GNU time (/usr/bin/time, Debian package `time`) for the peak RSS.
# The generated log (about 450 MB for 5M lines) is kept in bench/out/ and
# reused by later runs with the same LINES.
set -euo pipefail
cd "$(dirname "$0")/.."

lines=${1:-5000000}
shift $(($# > 0 ? 1 : 0))
limit_mib=64
out=bench/out
target=${CARGO_TARGET_DIR:-target}

if [ ! -x /usr/bin/time ]; then
    echo "memory.sh: GNU time is missing: install it with 'apt-get install -y time'" >&2
    exit 1
fi

cargo build --release --quiet --bin logmon --example unique
mkdir -p "$out"
log=$out/unique-$lines.log
if [ ! -s "$log" ]; then
    echo "generating $lines lines into $log"
    "$target/release/examples/unique" "$lines" >"$log.tmp"
    mv "$log.tmp" "$log"
fi

echo "logmon --replay --format json $* $log"
/usr/bin/time -v -o "$out/time.txt" \
    "$target/release/logmon" --replay --format json "$@" "$log" >"$out/events.jsonl"

rss_kib=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$out/time.txt")
elapsed=$(awk -F': ' '/Elapsed \(wall clock\)/ { print $2 }' "$out/time.txt")
echo "summary: $(tail -n 1 "$out/events.jsonl")"
echo "elapsed: $elapsed"
awk -v kib="$rss_kib" -v limit="$limit_mib" 'BEGIN {
    printf "peak RSS: %d KiB (%.1f MiB), target under %d MiB\n", kib, kib / 1024, limit
    exit (kib < limit * 1024 ? 0 : 1)
}'
