#!/usr/bin/env bash
# Runs every check and test of p30 on a fresh machine: installs what the tests need (nats-server and wrk
# from Debian), then formatting, lints, the purity invariant, and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

# nats-server for the NATS tests and benchmarks, wrk for the HTTP benchmark (`p30 bench http` and its test).
missing=()
if ! command -v nats-server >/dev/null 2>&1 && [ ! -x /usr/sbin/nats-server ]; then missing+=(nats-server); fi
if ! command -v wrk >/dev/null 2>&1 && [ ! -x /usr/bin/wrk ]; then missing+=(wrk); fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} (Debian packages) for the tests and benchmarks"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
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
