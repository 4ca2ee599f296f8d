#!/usr/bin/env bash
# Binding benchmarks (release builds), all in one run: the overhead of cheap calls (µs/call)
# and the throughput of two batch calls (parse and add 100,000 quantities; anomaly scores of a
# 100,000-point series) in Python, Node.js
# and the uniffi layer, against the same work in Rust. Prints a Markdown table.
#
#   bash bindings/bench.sh            (about 10 minutes on 2 cores when the build is cold)
#   HXB_BENCH_ROUNDS=5 bash bindings/bench.sh   (rounds of turns; medians over the rounds)
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

# The languages take turns, round after round (HXB_BENCH_ROUNDS, default 3), and every figure
# is the median over the rounds: on a shared machine the load changes during a run, and
# taking turns spreads it over every language instead of charging it to one.
rounds="${HXB_BENCH_ROUNDS:-3}"
# The Python package with the release extension module in place of maturin's wheel.
mkdir -p "$work/py/hxb"
cp bindings/python/hxb/*.py bindings/python/hxb/*.pyi bindings/python/hxb/py.typed "$work/py/hxb/"
cp "$rel/libhxb_python.$so" "$work/py/hxb/_native.abi3.so"
mkdir -p "$work/uniffi"
"$CARGO_TARGET_DIR/debug/uniffi-bindgen" generate --no-format --library "$rel/libhxb_uniffi.$so" \
  -l python -o "$work/uniffi" >/dev/null
ln -s "$rel/libhxb_uniffi.$so" "$work/uniffi/"
for round in $(seq "$rounds"); do
  echo "=== run, round $round of $rounds" >&2
  "$rel/examples/bench_native" >"$work/rust.$round.json"
  PYTHONPATH="$work/py" "$python" bindings/python/bench/bench.py >"$work/python.$round.json"
  HXB_NODE_ADDON="$rel/libhxb_node.$so" node bindings/node/bench/bench.js >"$work/node.$round.json"
  HXB_UNIFFI_DIR="$work/uniffi" "$python" bindings/swift/tests-uniffi-python/bench_uniffi.py \
    >"$work/uniffi.$round.json"
done

"$python" - "$work" <<'PY'
import json, pathlib, statistics, sys
work = pathlib.Path(sys.argv[1])
def merged(name):
    """One language's figures: the median of each timing over the rounds."""
    runs = [json.loads(p.read_text()) for p in sorted(work.glob(f"{name}.*.json"))]
    out = dict(runs[0])
    for key in runs[0]:
        if key.endswith(("_us", "_ms")):
            out[key] = statistics.median(r[key] for r in runs)
    out["detect_points_per_s"] = out["detect_points"] / (out["detect_ms"] / 1e3)
    out["batch_items_per_s"] = out["batch_items"] / (out["batch_ms"] / 1e3)
    return out


rows = [merged(n) for n in ("rust", "python", "node", "uniffi")]
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
print("\n| language | detect_anomalies input | 100k points, ms | points/s | series throughput vs Rust "
      "| with plain lists/arrays: ms | vs Rust |")
print("|---|---|---:|---:|---:|---:|---:|")
for r in rows:
    assert abs(r["detect_score_sum"] - rust["detect_score_sum"]) < 1e-6 * max(1, rust["detect_score_sum"]), r
    ratio = r["detect_points_per_s"] / rust["detect_points_per_s"]
    lists = r.get("detect_list_ms")
    tail = f"{lists:.2f} | {rust['detect_ms'] / lists:.0%}" if lists else "– | –"
    print(f"| {r['language']} | {r.get('detect_input', 'Vec<i64> + Vec<f64>' if r is rust else 'lists')} "
          f"| {r['detect_ms']:.2f} | {r['detect_points_per_s']:.3g} | {ratio:.0%} | {tail} |")
print(f"\nsum of the 100k anomaly scores (all languages): {rust['detect_score_sum']:.9f}")
print(f"\nmedians over {len(list(work.glob('rust.*.json')))} rounds")
PY
