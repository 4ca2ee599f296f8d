#!/usr/bin/env bash
# Side-by-side M4 hourly benchmark: hxb's forecasters (Rust, release) against statsmodels
# ExponentialSmoothing(trend="add", damped_trend=True, seasonal="add", seasonal_periods=24),
# both on one core, scored with the same sMAPE / MASE / OWA definitions.
#
# Usage (from the repository root):
#   benchmarks/m4_statsmodels.sh [M4_DIR]        # default ../shared/data/m4
# Extra arguments after M4_DIR go to the Python side (e.g. --limit 20 for a quick check).
#
# statsmodels, numpy and pandas are installed from PyPI into a throwaway virtual environment in a
# temporary directory, removed on exit.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
m4_dir="${1:-$root/../shared/data/m4}"
shift || true
m4_dir="$(cd "$m4_dir" && pwd)"

# One core, no hidden thread pools.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMEXPR_NUM_THREADS=1
export VECLIB_MAXIMUM_THREADS=1 RAYON_NUM_THREADS=1
pin=()
if command -v taskset >/dev/null; then pin=(taskset -c 0); fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "== building and running the Rust evaluator (release)"
(cd "$root" && cargo build --release -q -p hxb-scaling --example m4_eval)
target_dir="${CARGO_TARGET_DIR:-$root/target}"
"${pin[@]}" "$target_dir/release/examples/m4_eval" "$m4_dir" --tsv | tee "$tmp/rust.tsv"

echo "== creating a throwaway venv with statsmodels"
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install -q --disable-pip-version-check statsmodels numpy pandas
"$tmp/venv/bin/python" -c 'import statsmodels, numpy, pandas; print("statsmodels", statsmodels.__version__, "numpy", numpy.__version__, "pandas", pandas.__version__)'

echo "== statsmodels ExponentialSmoothing on every series (one core)"
"${pin[@]}" "$tmp/venv/bin/python" "$root/benchmarks/m4_statsmodels.py" "$m4_dir" "$tmp/rust.tsv" "$@"
