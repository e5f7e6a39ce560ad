#!/usr/bin/env bash
# Load: N targets (default 1,000) that accept a connection and never answer,
# checked with --concurrency 256 --timeout 2 by the release binary. Prints
# the wall time against the ideal ceil(N/256) x 2 s, and the peak memory.
#
#   bash scripts/bench-load.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
cargo build --quiet --release
python3 - "$n" <<'PY'
import math, resource, socket, subprocess, sys, tempfile, threading, time
n = int(sys.argv[1])
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(4096)
port = ls.getsockname()[1]
held = []
def accept():
    while True:
        try:
            c, _ = ls.accept()
        except OSError:
            return
        held.append(c)
threading.Thread(target=accept, daemon=True).start()
with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
    for i in range(n):
        f.write(f'[[target]]\nhost = "s{i}.load.test:{port}"\nresolve = "127.0.0.1"\n\n')
    hosts = f.name
t = time.time()
p = subprocess.run(
    ["target/release/certscope", "check", "--format", "jsonl", "--concurrency", "256",
     "--timeout", "2", "--no-revocation", "--no-aia", "--hosts-file", hosts],
    capture_output=True, env={"PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": "/nonexistent"})
wall = time.time() - t
lines = p.stdout.decode().splitlines()
ideal = math.ceil(n / 256) * 2
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"{n} silent targets: {len(lines)} results in {wall:.1f} s "
      f"(ideal {ideal} s, ratio {wall / ideal:.2f}); peak RSS {rss:.1f} MB")
PY
