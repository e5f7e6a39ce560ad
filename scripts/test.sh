#!/usr/bin/env bash
# Install what the tests need (when missing), then run them: the second of
# README's two set-up commands, and what CI runs after rustfmt and clippy.
#
# The tests use openssl (interop servers), tmux and python3 (the TUI driven
# in a real terminal) and python3's aiosmtpd (a real mail server for
# STARTTLS), and Prometheus with promtool (the exporter scraped by a real
# Prometheus; its rules checked and unit-tested). On Debian/Ubuntu as root they are installed with apt-get;
# otherwise the script names what is missing and how to install it.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
command -v python3 >/dev/null 2>&1 || need+=(python3)
{ command -v prometheus && command -v promtool; } >/dev/null 2>&1 || need+=(prometheus)
# Debian's python3 must see aiosmtpd (the test tries python3 on PATH, then
# /usr/bin/python3).
python3 -c 'import aiosmtpd' 2>/dev/null || /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null \
  || need+=(python3-aiosmtpd)
# And jsonschema 4+ (Draft 2020-12: the JSON output against assets/schema/).
python3 -c 'from jsonschema import Draft202012Validator' 2>/dev/null \
  || /usr/bin/python3 -c 'from jsonschema import Draft202012Validator' 2>/dev/null \
  || need+=(python3-jsonschema)

if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
  else
    echo "scripts/test.sh: the tests need these Debian packages: ${need[*]}" >&2
    if command -v sudo >/dev/null 2>&1; then
      echo "  install them with: sudo apt-get update && sudo apt-get install -y ${need[*]}" >&2
    else
      echo "  install them as root with: apt-get update && apt-get install -y ${need[*]}" >&2
    fi
    exit 1
  fi
fi

echo "== tests (cargo test --locked)"
cargo test --locked
