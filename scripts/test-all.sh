#!/usr/bin/env bash
# Every test of hxb, on a fresh machine with only Rust, Python 3.11 and Node 20:
# formatting and lints, Rust unit/integration/doc tests, then the Python, Node and
# uniffi/Swift binding suites (bindings/test.sh installs what it needs into a throwaway venv).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
start=$(date +%s)
step() { printf '\n==> %s  (+%ss)\n' "$*" "$(( $(date +%s) - start ))"; }

step "rustfmt"
cargo fmt --all -- --check

step "clippy (all targets, every feature, warnings are errors)"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

step "facade without optional features (what an embedder who enables none compiles)"
cargo check -p hxb --locked

step "Rust tests (unit, integration, doc; every feature)"
cargo test --workspace --all-features --locked

if [ -x bindings/test.sh ] || [ -f bindings/test.sh ]; then
  step "Bindings: Python, Node, uniffi/Swift"
  bash bindings/test.sh
fi

step "Platform tour: report.html rendered in headless Chromium"
bash scripts/report-check.sh

step "all tests passed in $(( $(date +%s) - start ))s"
