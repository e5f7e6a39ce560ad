#!/usr/bin/env bash
# Measures how `certscope check` scales with --concurrency against the lab's
# `slow` scenario (a TLS server that waits 100 ms before each handshake, like
# a distant host). 500 targets at --concurrency 64 should take about
# (one handshake time x 500 / 64), not 500 handshakes in a row.
#
# Usage: scripts/bench-concurrency.sh [N_TARGETS] [CONCURRENCY]
# Uses target/release/certscope (built if missing); set BIN to use another.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-500}
C=${2:-64}
BIN=${BIN:-target/release/certscope}
[ -x "$BIN" ] || cargo build --release --quiet
work=$(mktemp -d)
lab_pid=""
cleanup() { [ -n "$lab_pid" ] && kill "$lab_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$BIN" lab --dir "$work" > "$work/lab.txt" 2>&1 &
lab_pid=$!
for _ in $(seq 100); do grep -q "runs until Ctrl-C" "$work/lab.txt" && break; sleep 0.1; done
grep -q "runs until Ctrl-C" "$work/lab.txt" || { cat "$work/lab.txt"; echo "lab did not start" >&2; exit 1; }
target=$(awk '$1 == "slow" {print $2}' "$work/lab.txt")
host=${target%:*}
port=${target##*:}
common=(--ca-file "$work/ca.pem" --resolve "$host:$port:127.0.0.1" --timeout 10)

now_ms() { date +%s%3N; }

# One handshake: the median elapsed_ms of 9 single-target runs.
one=()
for _ in $(seq 9); do
  one+=("$("$BIN" check "${common[@]}" --format json "$target" | sed -n 's/.*"elapsed_ms": \([0-9]*\).*/\1/p' | head -1)")
done
t1=$(printf '%s\n' "${one[@]}" | sort -n | sed -n 5p)

targets=()
for _ in $(seq "$N"); do targets+=("$target"); done
start=$(now_ms)
"$BIN" check "${common[@]}" --concurrency "$C" --format jsonl "${targets[@]}" > "$work/out.jsonl" 2>/dev/null || true
end=$(now_ms)
total=$((end - start))
ok=$(grep -c '"status":"ok"' "$work/out.jsonl" || true)
ideal=$(( t1 * N / C ))
serial=$(( t1 * N ))
echo "one handshake (median of 9):      ${t1} ms"
echo "$N targets at --concurrency $C:   ${total} ms wall clock ($ok ok)"
echo "ideal (one handshake x $N / $C):  ${ideal} ms"
echo "serial would take about:          ${serial} ms"
echo "cores: $(nproc)"
[ "$ok" -eq "$N" ] || { echo "not every target was ok" >&2; exit 1; }
