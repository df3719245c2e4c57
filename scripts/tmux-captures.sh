#!/usr/bin/env bash
# Regenerate tests/data/tmux/: logmon's output as a person sees it in a
# terminal of 80 and 120 columns, captured with `tmux capture-pane -p`.
#
#   scripts/tmux-captures.sh          # the replays (a minute)
#   scripts/tmux-captures.sh --demo   # and the live demo (four minutes more)
#
# Needs tmux. Builds the release binaries first. Run it after a change to
# the text output, and read the diff: it is what a user sees.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/tests/data/tmux
demo=false
[[ ${1:-} == --demo ]] && demo=true

command -v tmux >/dev/null || { echo "tmux-captures: needs tmux" >&2; exit 1; }
cargo build --release --locked --quiet --manifest-path "$root/Cargo.toml"
bin=$root/target/release

work=$(mktemp -d)
trap 'tmux -L logmon-captures kill-server 2>/dev/null || true; rm -rf "$work"' EXIT
export PATH=$bin:$PATH

# The log of the README's table: an alert, then a recovery.
loggen --lines 4500 --rate 15 "$work/replay.log" >/dev/null
loggen --lines 600 --rate 2 --seed 2 --start 2026-03-01T12:05:00Z \
    "$work/replay.log" >/dev/null
# A log big enough for the progress bar to be seen.
loggen --lines 800000 --rate 2000 "$work/big.log" >/dev/null

tm() { tmux -u -f /dev/null -L logmon-captures "$@"; }

# pane COLUMNS ROWS: a fresh window with a plain shell and a '$' prompt.
# The last pane is closed only once the new one is up: a server left with
# no session exits, and one starting as it goes fails.
panes=0
pane() {
    local shell="env -i PATH=$PATH HOME=$work LANG=C.UTF-8 TERM=xterm-256color HISTFILE="
    shell+=" TMPDIR=. PS1='\$ ' bash --norc --noprofile"
    panes=$((panes + 1))
    tm start-server \; set-option -g history-limit 10000 \; \
        new-session -d -s "p$panes" -x "$1" -y "$2" -c "$work" "$shell"
    tm set-option -t "p$panes" status off >/dev/null
    tm kill-session -t "p$((panes - 1))" 2>/dev/null || true
    sleep 0.5
}

# capture NAME COLUMNS ROWS COMMAND [WAIT-FOR-TEXT]: run COMMAND in a fresh
# pane and save the screen once the prompt is back (or the text is shown).
capture() {
    local name=$1 cols=$2 rows=$3 cmd=$4 until=${5:-}
    pane "$cols" "$rows"
    tm send-keys -t "p$panes" -l "$cmd"
    tm send-keys -t "p$panes" Enter
    local screen
    for _ in $(seq 1 3000); do
        sleep 0.1
        screen=$(tm capture-pane -t "p$panes" -p)
        if [[ -n $until ]]; then
            grep -q -- "$until" <<<"$screen" && break
        elif [[ $(grep -v '^$' <<<"$screen" | tail -n 1) == '$' ]]; then
            break
        fi
    done
    tm capture-pane -t "p$panes" -p > "$out/$name"
    echo "tmux-captures: $name"
}

for cols in 80 120; do
    capture "replay-normal-$cols.txt" "$cols" 24 \
        'logmon --replay --utc replay.log | head -n 20'
    capture "replay-alert-$cols.txt" "$cols" 24 \
        "logmon --replay --utc replay.log | sed '/triggered at/{n;q}'"
    capture "replay-recovery-$cols.txt" "$cols" 24 \
        "logmon --replay --utc replay.log | sed '/recovered at/{n;q}'"
done
# The bar is drawn while the replay runs: catch it mid-way.
capture replay-progress-80.txt 80 12 \
    'logmon --replay --utc big.log > out.txt' 'lines/s'
tm send-keys -t "p$panes" C-c
capture replay-progress-shared-120.txt 120 30 \
    'logmon --replay --utc big.log' 'lines/s'
tm send-keys -t "p$panes" C-c

if $demo; then
    for cols in 80 120; do
        pane "$cols" 50
        tm send-keys -t "p$panes" -l 'logmon --demo --utc'
        tm send-keys -t "p$panes" Enter
        # The recovery comes some three minutes in; one report more, then stop.
        until tm capture-pane -t "p$panes" -p -S - | grep -q 'recovered at'; do sleep 2; done
        sleep 12
        tm send-keys -t "p$panes" C-c
        sleep 2
        tm capture-pane -t "p$panes" -p -S - | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' \
            > "$out/demo-$cols.txt"
        echo "tmux-captures: demo-$cols.txt"
    done
fi
