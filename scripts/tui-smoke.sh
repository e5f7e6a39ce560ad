#!/usr/bin/env bash
# Drives `certscope demo` in a real terminal (a 160x45 tmux pane) the way a
# person would: wait for every lab host to finish, filter to the expired
# host, tab into the chain, open the leaf, go back, copy its fix command,
# check the OSC 52 payload tmux received equals the command shown, quit with
# q, and check the shell prompt is back with the terminal restored.
# Fails loudly on any mismatch. Needs tmux and python3.
#
# Usage: scripts/tui-smoke.sh [path/to/certscope]   (default target/debug/certscope)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:-target/debug/certscope}")
[ -x "$BIN" ] || { echo "tui-smoke: no binary at $BIN (cargo build first)" >&2; exit 1; }
command -v tmux >/dev/null || { echo "tui-smoke: tmux is not installed" >&2; exit 1; }
command -v python3 >/dev/null || { echo "tui-smoke: python3 is not installed" >&2; exit 1; }

SOCK="certscope-smoke-$$"
T=(tmux -L "$SOCK" -f /dev/null)
work=$(mktemp -d)
cleanup() { "${T[@]}" kill-server 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

fail() {
  echo "tui-smoke: FAIL: $*" >&2
  echo "----- screen -----" >&2
  "${T[@]}" capture-pane -p -t s 2>/dev/null >&2 || true
  exit 1
}
screen() { "${T[@]}" capture-pane -p -t s; }
# wait_for SECONDS DESCRIPTION PYTHON-PREDICATE-ON-`s`
wait_for() {
  local secs=$1 what=$2 pred=$3 i
  for ((i = 0; i < secs * 10; i++)); do
    if screen | python3 -c "import sys; s = sys.stdin.read(); sys.exit(0 if ($pred) else 1)"; then return 0; fi
    sleep 0.1
  done
  fail "timed out after ${secs}s waiting for: $what"
}
keys() { "${T[@]}" send-keys -t s "$@"; sleep 0.3; }

"${T[@]}" new-session -d -s s -x 160 -y 45 "env -i HOME=$work HISTFILE=/dev/null PATH=/usr/bin:/bin TERM=xterm-256color PS1='smoke-prompt\$ ' bash --norc --noprofile"
"${T[@]}" set -g set-clipboard on
wait_for 5 "the shell prompt" "'smoke-prompt\$' in s"

keys "$BIN demo" Enter
wait_for 10 "the host list" "'Hosts (42)' in s"
wait_for 30 "every host to finish (no queued/connecting left)" \
  "'queued' not in s and 'connecting' not in s and s.count('lab.test') >= 20"

# Move to the expired host with the filter.
keys /
"${T[@]}" send-keys -t s -l "expired.lab.test"
keys Enter
wait_for 5 "the filter to leave one host" "'Hosts (1/42)' in s and 'expired.lab.test' in s"

# Tab into the chain tree and open the leaf.
keys Tab
keys Enter
wait_for 5 "the leaf's detail view" "'Certificate #0' in s and 'SHA-256' in s and 'BEGIN CERTIFICATE' in s"
keys Escape
wait_for 5 "the panes after Esc" "'BEGIN CERTIFICATE' not in s and 'Diagnosis' in s"

# Tab to the diagnosis pane and open the copy menu on the fix command.
keys Tab
keys c
wait_for 5 "the copy menu" "'Fix step 1 for expired' in s and 'Enter copy' in s"
screen > "$work/menu.txt"
shown=$(python3 - "$work/menu.txt" <<'PY'
import sys
rows = open(sys.argv[1], encoding="utf-8").read().split("\n")
top = next(i for i, r in enumerate(rows) if "┏ Copy" in r)
x0 = rows[top].index("┏ Copy")
x1 = rows[top].index("┓", x0)
# Inside the border, less the blank margin column before the right one.
body = [r[x0 + 1:x1 - 1] for r in rows[top + 1:] if len(r) > x0 and r[x0] == "┃"]
sep = next(i for i, r in enumerate(body) if r.startswith("─"))
text = "".join(body[sep + 1:]).rstrip(" ")
print(text)
PY
)
[ -n "$shown" ] || fail "could not read the command shown in the copy menu"
case "$shown" in openssl*) ;; *) fail "the selected fix command is unexpected: $shown" ;; esac
keys Enter
wait_for 5 "the copy confirmation" "'OSC 52' in s or 'copied' in s"
copied=$("${T[@]}" show-buffer 2>/dev/null) || fail "tmux received no OSC 52 copy"
[ "$copied" = "$shown" ] || fail "copied text differs from the command shown:
  shown:  $shown
  copied: $copied"

# Quit and check the terminal is restored.
keys q
wait_for 5 "the shell prompt after quitting" "s.rstrip().endswith('smoke-prompt\$')"
[ "$("${T[@]}" display -p -t s '#{alternate_on}')" = 0 ] || fail "the alternate screen is still active"
"${T[@]}" send-keys -t s "stty -a | grep -qw -- -icanon && echo TTY-RAW || echo TTY-COOKED" Enter
wait_for 5 "the terminal mode check" "'\\nTTY-RAW' in s or '\\nTTY-COOKED' in s"
screen | grep -qx "TTY-COOKED" || fail "the terminal was left in raw mode"
# The TUI logged to its file (never the screen): one line per finished check.
log="$work/.local/state/certscope/certscope.log"
grep -q "checked status=" "$log" 2>/dev/null || fail "no check was logged to $log"
echo "tui-smoke: OK (copied: $copied)"
