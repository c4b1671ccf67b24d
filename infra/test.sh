#!/usr/bin/env bash
# Runs every check and test of p30 on a fresh machine: installs what the tests need (nats-server, wrk and
# chromium from Debian, playwright-core from npm for the browser test), then formatting, lints, the purity
# invariant, and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then
    $SUDO apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=600 "$@" >/dev/null
}

# nats-server for the NATS tests and benchmarks, wrk for the HTTP benchmark (`p30 bench http` and its test).
missing=()
if ! command -v nats-server >/dev/null 2>&1 && [ ! -x /usr/sbin/nats-server ]; then missing+=(nats-server); fi
if ! command -v wrk >/dev/null 2>&1 && [ ! -x /usr/bin/wrk ]; then missing+=(wrk); fi
# The browser test (services/p30/tests/browser.rs) drives Debian's chromium with playwright-core.
if [ ! -x /usr/bin/chromium ]; then missing+=(chromium); fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} (Debian packages) for the tests and benchmarks"
  apt_install "${missing[@]}"
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "the browser test needs Node.js 20 or later with npm (node and npm are not on PATH)" >&2
  exit 1
fi
if [ ! -f tests/browser/node_modules/.package-lock.json ] \
  || [ tests/browser/package-lock.json -nt tests/browser/node_modules/.package-lock.json ]; then
  echo "installing playwright-core (npm ci in tests/browser) for the browser test"
  npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

# Invariant: the core (events, projections) does no I/O.
for crate in events projections; do
  if cargo tree --locked -e normal -p "$crate" --prefix none | grep -E '^(tokio|fjall|axum|async-nats|hyper|mio) '; then
    echo "the $crate crate must not depend on an I/O crate (above)" >&2
    exit 1
  fi
done

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi
