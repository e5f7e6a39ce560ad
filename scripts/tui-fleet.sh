#!/usr/bin/env bash
# The TUI at fleet scale, measured as a user feels it: the real binary in a
# real terminal (a 160x45 tmux pane) against a loopback TLS server that
# answers every name (examples/tls_floor.rs), with N targets (default
# 10,000) from a hosts file. Prints:
#   - time to the first frame, from launching the command in the pane to
#     the host list appearing in capture-pane (tmux polling included);
#   - key-to-screen latency of 20 `j` presses while every host probes, and
#     of 20 more right after `R` (re-probe all): median and worst;
#   - the process's RSS once every host has its new result, and its peak.
#
# Usage: scripts/tui-fleet.sh [N]    (BIN=..., FLOOR=... to use other builds)
# Needs tmux and python3. Builds what is missing (release).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
BIN=${BIN:-target/release/certscope}
FLOOR=${FLOOR:-target/release/examples/tls_floor}
[ -x "$BIN" ] || cargo build --release --quiet
[ -x "$FLOOR" ] || cargo build --release --quiet --example tls_floor
command -v tmux >/dev/null || { echo "tui-fleet: tmux is not installed" >&2; exit 1; }

work=$(mktemp -d)
SOCK="certscope-fleet-$$"
T=(tmux -L "$SOCK" -f /dev/null)
server_pid=""
cleanup() {
  "${T[@]}" kill-server 2>/dev/null || true
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$FLOOR" serve --dir "$work" > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
[ -s "$work/port" ] || { cat "$work/server.log"; echo "tui-fleet: the server did not start" >&2; exit 1; }
port=$(cat "$work/port")
python3 - "$N" "$port" "$work/hosts.toml" <<'PY'
import sys
n, port, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(path, "w") as f:
    for i in range(1, n + 1):
        f.write(f'[[target]]\nhost = "h{i}.bench.test:{port}"\nresolve = "127.0.0.1"\n')
PY

now_ms() { date +%s%3N; }
screen() { "${T[@]}" capture-pane -p -t s; }

"${T[@]}" new-session -d -s s -x 160 -y 45 "env -i HOME=$work HISTFILE=/dev/null PATH=/usr/bin:/bin TERM=xterm-256color bash --norc --noprofile"
sleep 0.3
cmd="XDG_STATE_HOME=$work/state $(realpath "$BIN") --ca-file $work/root.pem --no-revocation --concurrency 64 --hosts-file $work/hosts.toml"
t0=$(now_ms)
"${T[@]}" send-keys -t s "$cmd" Enter
first=""
for _ in $(seq 3000); do
  if screen | grep -q "Hosts ("; then first=$(( $(now_ms) - t0 )); break; fi
done
[ -n "$first" ] || { screen; echo "tui-fleet: no first frame" >&2; exit 1; }
pid=$(pgrep -f -n "hosts-file $work/hosts.toml")

# One key, timed until the screen changes.
press() {
  local before after t
  before=$(screen | md5sum)
  t=$(now_ms)
  "${T[@]}" send-keys -t s "$1"
  for _ in $(seq 2000); do
    after=$(screen | md5sum)
    [ "$after" != "$before" ] && break
  done
  echo $(( $(now_ms) - t ))
}
stats() { python3 -c "import sys,statistics; v=[int(x) for x in sys.argv[1:]]; print(f'median {statistics.median(v):.0f} ms, worst {max(v)} ms')" "$@"; }

sleep 0.2
probing=()
for _ in $(seq 20); do probing+=("$(press j)"); sleep 0.05; done
"${T[@]}" send-keys -t s R
after_r=()
for _ in $(seq 20); do after_r+=("$(press j)"); sleep 0.05; done
# Let the re-probe finish (the fleet header counts no host pending), then
# read memory.
for _ in $(seq 600); do
  screen | grep -Eq '… 0 pending|…0( |$)' && break
  sleep 0.1
done
sleep 0.5
rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
"${T[@]}" send-keys -t s q

echo "certscope TUI, $N targets, 160x45 tmux pane ($(nproc) cores)"
echo "first frame (launch to host list, tmux polling included): $first ms"
echo "j while probing (20 presses):     $(stats "${probing[@]}")"
echo "j right after R (20 presses):     $(stats "${after_r[@]}")"
echo "RSS with every host probed: $((rss / 1024)) MB, peak $((hwm / 1024)) MB"
