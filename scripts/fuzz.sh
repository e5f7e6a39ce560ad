#!/usr/bin/env bash
# Run the fuzz targets (fuzz/fuzz_targets/) for SECONDS each, one after the
# other, on the machine's stable toolchain:
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]     # default: 60 s, every target
#   bash scripts/fuzz.sh 450                        # about an hour for all eight
#
# cargo-fuzz builds with `--sanitizer none` (no nightly needed): libFuzzer
# feeds inputs, LLVM sanitizer coverage guides it, and any panic is a crash.
# Each target starts from fuzz/seeds/TARGET (made from the lab by
# scripts/fuzz-seeds.sh) and keeps what it finds in fuzz/corpus/TARGET.
# A crash leaves its input in fuzz/artifacts/TARGET/ and fails the script.
# FUZZ_NO_BUILD=1 runs the binaries already built.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
all=(certificate ocsp crl bundle private_key text_inputs server_bytes http_response)
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=("${all[@]}")

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "scripts/fuzz.sh: cargo-fuzz is missing; install it with: cargo install cargo-fuzz --locked" >&2
  exit 1
fi

cd fuzz
if [ -z "${FUZZ_NO_BUILD:-}" ]; then
  echo "== building the fuzz targets (cargo fuzz build -s none)"
  cargo fuzz build -s none 2>&1 | tail -1
fi
# The libFuzzer binaries, run directly (cargo fuzz run would rebuild).
bin=target/$(rustc -vV | sed -n 's/^host: //p')/release

failed=()
printf '%-14s %12s %8s %8s %8s\n' target runs exec/s cov crashes
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  log=$(mktemp)
  set +e
  "$bin/$t" "corpus/$t" "seeds/$t" -artifact_prefix="artifacts/$t/" \
    -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  crashes=$(find "artifacts/$t" -type f | wc -l)
  printf '%-14s %12s %8s %8s %8s\n' "$t" "${runs:-?}" "${rate:-?}" "${cov:-?}" "$crashes"
  if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    failed+=("$t")
    echo "---- $t failed (exit $rc); the end of its log:" >&2
    tail -40 "$log" >&2
  fi
  rm -f "$log"
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "scripts/fuzz.sh: crashes in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
echo "no crashes"
