#!/usr/bin/env bash
# Rotation under load: real nginx and real logrotate, and logmon's count
# against the lines nginx wrote, in each logrotate mode.
#
# Usage: bench/rotation.sh [SECONDS]   (load per mode, default 20)
#        RATE=0 bench/rotation.sh     (nginx as fast as it goes; default
#                                      RATE=5000 requests a second)
#
# For each mode: a fresh nginx on 127.0.0.1 writes its access log in a temp
# dir, logmon follows it (--format json), wrk loads nginx for SECONDS while
# logrotate runs, then logmon gets SIGINT and its summary's hits are
# compared with nginx's request counter (stub_status, not logged itself)
# and with the lines left on disk (compressed files included).
#
#   create         logrotate -f every 2 s: create, then `nginx -s reopen`
#   copytruncate   logrotate -f every 2 s: copytruncate
#   delaycompress  logrotate -f every 2 s: create, compress, delaycompress, reopen
#   back-to-back   logrotate -f in a loop, as fast as it runs (create, reopen,
#                  rotate 5: older files are deleted)
#
# MODES="copytruncate back-to-back" runs only those; KEEP=1 keeps the temp
# dir (logs, logmon's output and stderr) and says where it is.
#
# Installs nginx, logrotate and wrk with apt-get when missing (as root).
# Traffic goes to 127.0.0.1 only, and every run is bounded by SECONDS.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-20}
target=${CARGO_TARGET_DIR:-target}
logmon=${LOGMON_BIN:-$PWD/$target/release/logmon}
port=${ROTATION_PORT:-18080}
rate=${RATE:-5000}
every=2

need=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v logrotate >/dev/null || [ -x /usr/sbin/logrotate ] || need+=(logrotate)
command -v wrk >/dev/null || need+=(wrk)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
export PATH=$PATH:/usr/sbin

[ -n "${LOGMON_BIN:-}" ] || cargo build --release --quiet --bin logmon

tmp=$(mktemp -d)
nginx_pid=
logmon_pid=
cleanup() {
    [ -n "$logmon_pid" ] && kill "$logmon_pid" 2>/dev/null || true
    [ -f "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null || true
    if [ -n "${KEEP:-}" ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

# nginx writes the Combined format, one line per request; stub_status
# counts requests and is not logged. limit_req (keyed on the client: all
# come from 127.0.0.1) delays requests beyond RATE a second (wrk's 4
# connections stay within the burst: none is refused).
write_nginx_conf() {
    local zone="" limit=""
    if [ "$rate" -gt 0 ]; then
        zone="limit_req_zone \$binary_remote_addr zone=load:1m rate=${rate}r/s;"
        limit="limit_req zone=load burst=64;"
    fi
    cat >"$tmp/nginx.conf" <<EOF
user root;
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/error.log;
events { worker_connections 1024; }
http {
    access_log $tmp/logs/access.log combined;
    $zone
    client_body_temp_path $tmp/body;
    proxy_temp_path $tmp/proxy;
    fastcgi_temp_path $tmp/fastcgi;
    uwsgi_temp_path $tmp/uwsgi;
    scgi_temp_path $tmp/scgi;
    server {
        listen 127.0.0.1:$port;
        # A file, not \`return\`: that would answer before limit_req.
        location / { root $tmp/www; $limit }
        location = /nginx_status { stub_status; access_log off; }
    }
}
EOF
}

# The logrotate configuration of one mode.
write_logrotate_conf() {
    local mode=$1 reopen="postrotate
        kill -USR1 \$(cat $tmp/nginx.pid)
    endscript"
    local body
    case $mode in
        create) body="rotate 1000
    create
    sharedscripts
    $reopen" ;;
        copytruncate) body="rotate 1000
    copytruncate" ;;
        delaycompress) body="rotate 1000
    create
    compress
    delaycompress
    sharedscripts
    $reopen" ;;
        back-to-back) body="rotate 5
    create
    sharedscripts
    $reopen" ;;
    esac
    cat >"$tmp/logrotate.conf" <<EOF
$tmp/logs/access.log {
    missingok
    $body
}
EOF
}

# Lines in the log and every rotated file, decompressing as needed.
lines_on_disk() {
    local n=0 f
    for f in "$tmp"/logs/access.log*; do
        [ -e "$f" ] || continue
        case $f in
            *.gz) n=$((n + $(zcat "$f" | wc -l))) ;;
            *) n=$((n + $(wc -l <"$f"))) ;;
        esac
    done
    echo "$n"
}

run_mode() {
    local mode=$1
    rm -rf "$tmp/logs" "$tmp/state" "$tmp/out.json" "$tmp/err.txt"
    mkdir -p "$tmp/logs"
    : >"$tmp/logs/access.log"
    write_logrotate_conf "$mode"
    nginx -p "$tmp" -c "$tmp/nginx.conf"
    "$logmon" --format json --period 1 "$tmp/logs/access.log" \
        >"$tmp/out.json" 2>"$tmp/err.txt" &
    logmon_pid=$!
    sleep 1

    wrk -t1 -c4 -d"${secs}s" "http://127.0.0.1:$port/" >"$tmp/wrk.txt" 2>&1 &
    local wrk_pid=$! rotations=0 end=$((SECONDS + secs))
    while [ $SECONDS -lt $end ]; do
        logrotate -f -s "$tmp/state" "$tmp/logrotate.conf" 2>>"$tmp/logrotate.err" || true
        rotations=$((rotations + 1))
        [ "$mode" = back-to-back ] || sleep "$every"
    done
    wait "$wrk_pid"
    sleep 2

    local served
    served=$(curl -s "http://127.0.0.1:$port/nginx_status" | awk 'NR == 3 { print $3 }')
    # Less the stub_status request just made, which is not logged.
    local written=$((served - 1))
    kill -INT "$logmon_pid"
    wait "$logmon_pid" || true
    logmon_pid=
    kill -QUIT "$(cat "$tmp/nginx.pid")"
    while [ -f "$tmp/nginx.pid" ]; do sleep 0.1; done

    local counted on_disk missing
    counted=$(grep '"type":"summary"' "$tmp/out.json" | sed 's/.*"hits":\([0-9]*\).*/\1/')
    on_disk=$(lines_on_disk)
    [ "$mode" = back-to-back ] && on_disk="(rotate 5)"
    missing=$(grep -c 'may be missing' "$tmp/err.txt" || true)
    printf '| %s | %d | %d | %d | %d | %s | %d | %d | %s |\n' \
        "$mode" "$secs" $((written / secs)) "$rotations" "$written" "$on_disk" \
        "$counted" $((written - counted)) "$missing"
}

write_nginx_conf
mkdir -p "$tmp/www"
echo ok >"$tmp/www/index.html"
echo "| logrotate mode | load (s) | lines/s | rotations | lines nginx wrote | lines on disk | logmon counted | written - counted | \"may be missing\" notices |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for mode in ${MODES:-create copytruncate delaycompress back-to-back}; do
    run_mode "$mode"
done
