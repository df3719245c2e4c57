#!/usr/bin/env bash
# The fleet view with a real Prometheus: two logmon instances, each fed by
# loggen, scraped by Prometheus with examples/prometheus/logmon-rules.yml,
# until Prometheus's own API (/api/v1/alerts) says HighTraffic is firing
# for the busy one and not for the quiet one. Prints what it saw: both
# logmons' own alert lines, Prometheus's targets and alerts, and a few
# fleet queries (per-instance rate, exact codes, the fleet p95).
#
# Usage: bench/prometheus.sh      (at most TIMEOUT=120 seconds of waiting)
#
#   web1  loggen --rate 40 --latency   logmon --threshold 10 --window 20
#   web2  loggen --rate 3 --latency    logmon --threshold 10 --window 20
#
# Prometheus scrapes and evaluates every second here (15 s in the example
# config), so the run takes about half a minute. Everything listens on
# 127.0.0.1 only (ports BASE_PORT, +1 and +2; default 19188), and the
# processes it starts are stopped by their ids at the end. KEEP=1 keeps the
# temp dir (logs, logmon output, Prometheus's data) and says where it is.
#
# Installs Debian's prometheus package with apt-get when it is missing (as
# root); the rules file is the repository's, unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${CARGO_TARGET_DIR:-target}
bin=${LOGMON_BIN_DIR:-$PWD/$target/release}
base=${BASE_PORT:-19188}
timeout=${TIMEOUT:-120}
web1=127.0.0.1:$base
web2=127.0.0.1:$((base + 1))
prom=127.0.0.1:$((base + 2))

if ! command -v prometheus >/dev/null; then
    echo "installing prometheus" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
fi
[ -n "${LOGMON_BIN_DIR:-}" ] || cargo build --release --quiet --bin logmon --bin loggen

tmp=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ -n "${KEEP:-}" ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

# One web server: loggen writing a live log at RATE, logmon following it.
start() {
    local name=$1 rate=$2 addr=$3
    : >"$tmp/$name.log"
    "$bin/loggen" --rate "$rate" --latency --seed "$rate" "$tmp/$name.log" &
    pids+=($!)
    "$bin/logmon" --serve "$addr" --threshold 10 --window 20 --period 5 \
        "$tmp/$name.log" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    pids+=($!)
}
start web1 40 "$web1"
start web2 3 "$web2"

cp examples/prometheus/logmon-rules.yml "$tmp/"
cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - logmon-rules.yml
scrape_configs:
  - job_name: logmon
    static_configs:
      - targets: ['$web1', '$web2']
EOF
promtool check config "$tmp/prometheus.yml" >/dev/null
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
    --web.listen-address="$prom" >"$tmp/prometheus.err" 2>&1 &
pids+=($!)

api() { curl -sf --max-time 5 "http://$prom/api/v1/$1"; }
query() { api "query?query=$(jq -rn --arg q "$1" '$q | @uri')"; }

started=$(date +%s)
echo "== waiting for HighTraffic to fire in Prometheus (at most ${timeout}s)"
until api alerts 2>/dev/null |
    jq -e '.data.alerts[] | select(.labels.alertname == "HighTraffic" and .state == "firing")' \
        >/dev/null; do
    if (($(date +%s) - started > timeout)); then
        echo "HighTraffic did not fire within ${timeout}s" >&2
        tail -n 5 "$tmp"/*.err >&2
        exit 1
    fi
    sleep 1
done
echo "firing after $(($(date +%s) - started)) s"
# Let the rates below cover their whole 10 s range.
while (($(date +%s) - started < 15)); do sleep 1; done

echo
echo "== logmon's own alert lines (stdout of each)"
for name in web1 web2; do
    echo "$name: $(grep -h 'High traffic' "$tmp/$name.out" || echo '(none)')"
done

echo
echo "== Prometheus /api/v1/targets"
api targets | jq -r '.data.activeTargets[] | "\(.labels.instance)  \(.health)  last scrape \(.lastScrapeDuration * 10000 | floor / 10) ms"'

echo
echo "== Prometheus /api/v1/alerts"
api alerts | jq -r '.data.alerts[] |
    "\(.labels.alertname)  \(.state)  instance=\(.labels.instance // "-")  since \(.activeAt)\n    \(.annotations.summary // "")\(if .annotations.description then "\n    " + .annotations.description else "" end)"'

echo
echo "== queries"
show() {
    echo "$1"
    query "$1" | jq -r '.data.result[] | "    \(.metric | del(.__name__, .job) | to_entries | map("\(.key)=\(.value)") | join(" "))  \(.value[1])"'
}
show 'logmon_alert_active'
show 'logmon_window_average_requests_per_second'
show 'sum by (instance) (rate(logmon_requests_total[10s]))'
show 'topk(5, sum by (code) (logmon_responses_total))'
show 'histogram_quantile(0.95, sum by (le) (rate(logmon_request_duration_seconds_bucket[10s])))'
show 'histogram_quantile(0.95, sum by (instance, le) (rate(logmon_request_duration_seconds_bucket[10s])))'

# The quiet server must not be alerting, in logmon or in Prometheus.
quiet=$(api alerts | jq '[.data.alerts[] | select(.labels.alertname == "HighTraffic" and .labels.instance == "'"$web2"'")] | length')
if [ "$quiet" != 0 ]; then
    echo "HighTraffic is active for the quiet instance $web2" >&2
    exit 1
fi
echo
echo "ok: HighTraffic firing for $web1 only"
