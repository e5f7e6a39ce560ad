#!/usr/bin/env bash
# How far is `certscope check` above a bare rustls handshake loop (the floor)?
#
# Starts `tls_floor serve` (examples/tls_floor.rs): a loopback TLS server with
# an rcgen-made ECDSA P-256 root -> intermediate -> `*.bench.test` leaf, full
# handshakes only (no tickets, no session cache). Then, alternately for ROUNDS
# rounds over the same N targets h1..hN.bench.test:
#   floor:     tls_floor client --count N --concurrency CONC
#              (verified handshake, copy the chain, close; nothing else)
#   certscope: certscope check --format jsonl --no-revocation --concurrency CONC
#              --ca-file root.pem --hosts-file hosts.toml
# and prints the median wall-clock and CPU (user+sys) seconds of each and the
# ratios certscope/floor. Ratios come from one run on one machine, so they
# survive a noisy machine better than absolute times. A warm-up round (not
# counted) also checks that certscope judged every target "ok" (the bench chain
# is valid, so the comparison is fair) and lists any findings it reported.
# Last, the peak RSS of the same certscope command at 2,000 and 20,000 targets
# (it should hardly grow: results are streamed).
#
# Usage: scripts/bench-check.sh [--n N] [--rounds R] [--conc C] [--bin PATH] [--skip-rss]
#    or: N=1000 ROUNDS=3 CONC=64 BIN=target/release/certscope SKIP_RSS=1 scripts/bench-check.sh
# Builds target/release/certscope and target/release/examples/tls_floor if missing
# (cargo build --release [--example tls_floor]). Needs python3 (for wait4 rusage).
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-1000}
ROUNDS=${ROUNDS:-3}
CONC=${CONC:-64}
BIN=${BIN:-target/release/certscope}
SKIP_RSS=${SKIP_RSS:-0}
FLOOR=${FLOOR:-target/release/examples/tls_floor}
RSS_SIZES=(2000 20000)

while [ $# -gt 0 ]; do
  case "$1" in
    --n) N=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --conc) CONC=$2; shift 2 ;;
    --bin) BIN=$2; shift 2 ;;
    --skip-rss) SKIP_RSS=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-check: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
for v in N ROUNDS CONC; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "bench-check: $v must be a positive integer" >&2; exit 2; }
done

[ -x "$BIN" ] || cargo build --release
[ -x "$FLOOR" ] || cargo build --release --example tls_floor

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# measure OUT ERR CMD...: runs CMD (stdout to OUT, stderr to ERR) and prints
# "wall_s cpu_s maxrss_kb exit_code" from wait4's rusage of that child.
cat > "$work/measure.py" <<'EOF'
import os, subprocess, sys, time
out, err, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(out, "wb") as o, open(err, "wb") as e:
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=o, stderr=e)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
print(f"{wall:.4f} {ru.ru_utime + ru.ru_stime:.4f} {ru.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
EOF
measure() { python3 "$work/measure.py" "$@"; }

# summarize JSONL: statuses and finding codes of certscope's output.
cat > "$work/summarize.py" <<'EOF'
import collections, json, sys
st, codes = collections.Counter(), collections.Counter()
for line in open(sys.argv[1]):
    r = json.loads(line)
    st[r["status"]] += 1
    for f in r.get("findings", []):
        codes[f'{f["code"]} ({f["severity"]})'] += 1
print("statuses: " + ", ".join(f"{k}={v}" for k, v in sorted(st.items())))
print("findings: " + (", ".join(f"{k} x{v}" for k, v in codes.most_common()) or "none"))
EOF

median() { python3 -c 'import statistics, sys; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
fmt() { printf '%.2f' "$1"; }
ratio() { python3 -c 'import sys; print(f"{float(sys.argv[1]) / float(sys.argv[2]):.2f}")' "$1" "$2"; }

# Server.
"$FLOOR" serve --dir "$work" > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
[ -s "$work/port" ] || { cat "$work/server.log" >&2; echo "bench-check: tls_floor serve did not start" >&2; exit 1; }
PORT=$(cat "$work/port")
ROOT="$work/root.pem"

# hosts FILE COUNT: one [[target]] per name, all resolved to 127.0.0.1.
hosts() {
  awk -v n="$2" -v port="$PORT" 'BEGIN {
    for (i = 1; i <= n; i++)
      printf "[[target]]\nhost = \"h%d.bench.test:%d\"\nresolve = \"127.0.0.1\"\n\n", i, port
  }' > "$1"
}
hosts "$work/hosts.toml" "$N"

floor_cmd=("$FLOOR" client --ca "$ROOT" --port "$PORT" --count "$N" --concurrency "$CONC")
check_cmd=("$BIN" check --format jsonl --no-revocation --concurrency "$CONC" --ca-file "$ROOT")

# run_floor / run_check FILE COUNT: measure once, fail on a bad run; prints the measure line.
run_floor() {
  local m rc
  m=$(measure "$work/floor.out" "$work/floor.err" "${floor_cmd[@]}")
  rc=${m##* }
  if [ "$rc" -ne 0 ] || ! grep -qx "ok=$N failed=0" "$work/floor.out"; then
    cat "$work/floor.out" "$work/floor.err" >&2
    echo "bench-check: the floor client failed (exit $rc)" >&2
    exit 1
  fi
  echo "$m"
}
run_check() {
  local m rc lines
  m=$(measure "$work/check.out" "$work/check.err" "${check_cmd[@]}" --hosts-file "$1")
  rc=${m##* }
  lines=$(wc -l < "$work/check.out")
  if [ "$rc" -gt 2 ] || [ "$lines" -ne "$2" ]; then
    tail -5 "$work/check.err" >&2
    echo "bench-check: certscope exited $rc with $lines of $2 result lines" >&2
    exit 1
  fi
  echo "$m"
}

# Warm-up (not counted), and the fairness check: every target ok.
run_floor > /dev/null
run_check "$work/hosts.toml" "$N" > /dev/null
summary=$(python3 "$work/summarize.py" "$work/check.out")
echo "certscope on the bench chain ($N targets): ${summary//$'\n'/; }"
oks=$(grep -c '"status":"ok"' "$work/check.out" || true)
if [ "$oks" -ne "$N" ]; then
  echo "WARNING: only $oks of $N certscope results are status ok: the comparison is not like for like" >&2
fi

fw=(); fc=(); cw=(); cc=()
for r in $(seq "$ROUNDS"); do
  # (Assignments, so that set -e sees a failed run.)
  m=$(run_floor); read -r w1 c1 _ _ <<< "$m"; fw+=("$w1"); fc+=("$c1")
  m=$(run_check "$work/hosts.toml" "$N"); read -r w2 c2 _ _ <<< "$m"; cw+=("$w2"); cc+=("$c2")
  echo "round $r: floor wall $(fmt "$w1") s cpu $(fmt "$c1") s | certscope wall $(fmt "$w2") s cpu $(fmt "$c2") s"
done
mfw=$(median "${fw[@]}"); mfc=$(median "${fc[@]}"); mcw=$(median "${cw[@]}"); mcc=$(median "${cc[@]}")
echo "floor: wall $(fmt "$mfw") s cpu $(fmt "$mfc") s | certscope: wall $(fmt "$mcw") s cpu $(fmt "$mcc") s |" \
  "ratio wall $(ratio "$mcw" "$mfw")x cpu $(ratio "$mcc" "$mfc")x (targets $N, concurrency $CONC, median of $ROUNDS)"

[ "$SKIP_RSS" = 1 ] && exit 0

rss=()
for t in "${RSS_SIZES[@]}"; do
  hosts "$work/hosts-$t.toml" "$t"
  m=$(run_check "$work/hosts-$t.toml" "$t"); read -r _ _ kb _ <<< "$m"
  ok_t=$(grep -c '"status":"ok"' "$work/check.out" || true)
  [ "$ok_t" -eq "$t" ] || echo "WARNING: only $ok_t of $t results are status ok at $t targets" >&2
  rss+=("$kb")
done
mb() { python3 -c 'import sys; print(f"{int(sys.argv[1]) / 1024:.1f}")' "$1"; }
echo "peak RSS: ${RSS_SIZES[0]} targets $(mb "${rss[0]}") MB, ${RSS_SIZES[1]} targets $(mb "${rss[1]}") MB ($(ratio "${rss[1]}" "${rss[0]}")x)"
