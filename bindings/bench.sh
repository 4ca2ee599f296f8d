#!/usr/bin/env bash
# Binding benchmarks (release builds), all in one run: the overhead of cheap calls (µs/call)
# and the throughput of two batch calls (parse and add 100,000 quantities; anomaly scores of a
# 100,000-point series) in Python, Node.js
# and the uniffi layer, against the same work in Rust. Prints a Markdown table.
#
#   bash bindings/bench.sh            (about 10 minutes on 2 cores when the build is cold)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}" PYTHONDONTWRITEBYTECODE=1 RUST_BACKTRACE=0
python="${PYTHON:-python3}"
work="$(mktemp -d "${TMPDIR:-/tmp}/hxb-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
case "$(uname -s)" in Darwin) so=dylib ;; *) so=so ;; esac
base_python="$("$python" -c 'import sys; print(getattr(sys, "_base_executable", sys.executable))')"
pyver="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
export PYO3_PYTHON="$base_python" PYTHON_SYS_EXECUTABLE="$base_python" PYO3_BUILD_EXTENSION_MODULE=1
export PYO3_ENVIRONMENT_SIGNATURE="cpython-$pyver-64bit"

echo "=== build (release): the three binding libraries, the Rust baseline, uniffi-bindgen" >&2
cargo build --release --locked -p hxb-python -p hxb-node -p hxb-uniffi >&2
cargo build --release --locked -p hxb-bindings-common --example bench_native >&2
cargo build --locked -p hxb-uniffi-bindgen >&2
rel="$CARGO_TARGET_DIR/release"

echo "=== run" >&2
"$rel/examples/bench_native" >"$work/rust.json"
# The Python package with the release extension module in place of maturin's wheel.
mkdir -p "$work/py/hxb"
cp bindings/python/hxb/*.py bindings/python/hxb/*.pyi bindings/python/hxb/py.typed "$work/py/hxb/"
cp "$rel/libhxb_python.$so" "$work/py/hxb/_native.abi3.so"
PYTHONPATH="$work/py" "$python" bindings/python/bench/bench.py >"$work/python.json"
HXB_NODE_ADDON="$rel/libhxb_node.$so" node bindings/node/bench/bench.js >"$work/node.json"
mkdir -p "$work/uniffi"
"$CARGO_TARGET_DIR/debug/uniffi-bindgen" generate --no-format --library "$rel/libhxb_uniffi.$so" \
  -l python -o "$work/uniffi" >/dev/null
ln -s "$rel/libhxb_uniffi.$so" "$work/uniffi/"
HXB_UNIFFI_DIR="$work/uniffi" "$python" bindings/swift/tests-uniffi-python/bench_uniffi.py \
  >"$work/uniffi.json"

"$python" - "$work" <<'PY'
import json, pathlib, sys
work = pathlib.Path(sys.argv[1])
rows = [json.loads((work / f"{n}.json").read_text()) for n in ("rust", "python", "node", "uniffi")]
rust = rows[0]
assert all(r["batch_total"] == rust["batch_total"] for r in rows), "batch results differ"
print("| language | validate_name µs/call | Quantity parse µs/call | engine.get µs/call (async) "
      "| batch: 100k quantities, ms | batch throughput vs Rust |")
print("|---|---:|---:|---:|---:|---:|")
for r in rows:
    ratio = r["batch_items_per_s"] / rust["batch_items_per_s"]
    print(f"| {r['language']} | {r['validate_name_us']:.3f} | {r['parse_quantity_us']:.3f} "
          f"| {r['engine_get_us']:.2f} | {r['batch_ms']:.2f} | {ratio:.0%} |")
print(f"\nbatch result (all languages): {rust['batch_total']}")
print("\n| language | detect_anomalies: 100k points, ms | points/s | series throughput vs Rust |")
print("|---|---:|---:|---:|")
for r in rows:
    assert abs(r["detect_score_sum"] - rust["detect_score_sum"]) < 1e-6 * max(1, rust["detect_score_sum"]), r
    ratio = r["detect_points_per_s"] / rust["detect_points_per_s"]
    print(f"| {r['language']} | {r['detect_ms']:.2f} | {r['detect_points_per_s']:.3g} | {ratio:.0%} |")
print(f"\nsum of the 100k anomaly scores (all languages): {rust['detect_score_sum']:.9f}")
PY
