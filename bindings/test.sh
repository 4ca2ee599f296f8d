#!/usr/bin/env bash
# Build and test the Python, Node.js and Swift (uniffi) bindings of hxb.
#
# Needs only Rust, Python >= 3.11, Node >= 18 (20 in CI) and a C compiler; works
# from any directory, asks nothing. Steps: one `cargo build` of the three binding libraries
# (dev profile, shared target dir), a throwaway venv with maturin + pytest from PyPI, the
# Python wheel built by maturin and its pytest suite, the Node suite (node --test) and its
# generated TypeScript declarations, the uniffi layer run through uniffi's Python bindings,
# the committed Swift package regenerated and compared, and the C header compiled.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
# Panics in native code are contained and surface as InternalError; keep their log short.
export RUST_BACKTRACE=0
python="${PYTHON:-python3}"
start=$(date +%s)
section() { printf '\n=== bindings: %s  (+%ss)\n' "$*" "$(($(date +%s) - start))"; }
work="$(mktemp -d "${TMPDIR:-/tmp}/hxb-bindings.XXXXXX")"
trap 'rm -rf "$work"' EXIT
case "$(uname -s)" in Darwin) so=dylib ;; *) so=so ;; esac
lib="$CARGO_TARGET_DIR/debug"

# pyo3 is built with the environment maturin gives it (no libpython link, the base
# interpreter, maturin's interpreter config once it exists), so that the cargo build below and
# maturin's `cargo rustc` share one compiled pyo3 instead of rebuilding it in turn.
base_python="$("$python" -c 'import sys; print(getattr(sys, "_base_executable", sys.executable))')"
pyver="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
export PYO3_PYTHON="$base_python" PYTHON_SYS_EXECUTABLE="$base_python" PYO3_BUILD_EXTENSION_MODULE=1
export PYO3_ENVIRONMENT_SIGNATURE="cpython-$pyver-64bit"
pyo3_config="$CARGO_TARGET_DIR/maturin/pyo3-config-$(rustc -vV | sed -n 's/^host: //p')-$pyver-abi3.txt"
# (Only a config for this checkout's abi3 floor: a target dir shared with a checkout on another
# floor may hold that one's.)
abi3_floor="$(sed -n 's/.*"abi3-py3\([0-9]*\)".*/3.\1/p' Cargo.toml | head -1)"
if [ -f "$pyo3_config" ] && grep -qx "target_abi=CPython-abi3-$abi3_floor" "$pyo3_config"; then
  export PYO3_CONFIG_FILE="$pyo3_config"
fi
# HXB_UPDATE_GENERATED=1 rewrites the committed generated files (native.d.ts, the Swift
# package) instead of failing when they are stale: the step after adding an operation.
update="${HXB_UPDATE_GENERATED:-0}"

section "build the binding libraries (one cargo build, dev profile)"
mkdir -p "$work/napi-types"
# napi-derive writes the TypeScript type definitions while expanding its macros: make sure
# they are expanded in this build.
touch bindings/node/src/lib.rs
NAPI_TYPE_DEF_TMP_FOLDER="$work/napi-types" \
  cargo build --locked -p hxb-python -p hxb-node -p hxb-uniffi

section "build uniffi-bindgen (the generator tool; its own feature set)"
cargo build --locked -p hxb-uniffi-bindgen

section "Python: throwaway venv with maturin and pytest (PyPI)"
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q "maturin>=1.16,<2" "pytest>=7"

section "Python: build the abi3 wheel with maturin (dev profile) and install it"
(cd bindings/python &&
  "$work/venv/bin/maturin" build --profile dev --locked -i "$base_python" -o "$work/wheels")
"$work/venv/bin/python" -m pip install -q --no-deps "$work"/wheels/hxb-*.whl

section "Python: pytest (bindings/python/tests)"
(cd "$work" && "$work/venv/bin/python" -m pytest -q -p no:cacheprovider "$root/bindings/python/tests")

section "Node: generated TypeScript declarations (native.d.ts) are up to date"
node bindings/node/scripts/gen-dts.js "$work/napi-types/hxb-node" >"$work/native.d.ts"
if [ "$update" = 1 ]; then
  cp "$work/native.d.ts" bindings/node/native.d.ts && echo "updated bindings/node/native.d.ts"
elif ! diff -u bindings/node/native.d.ts "$work/native.d.ts"; then
  echo "bindings/node/native.d.ts is stale: run HXB_UPDATE_GENERATED=1 bindings/test.sh" >&2
  exit 1
fi

section "Node: node --test (bindings/node/test)"
export HXB_NODE_ADDON="$lib/libhxb_node.$so"
(cd bindings/node && node --test test/)

section "uniffi: Python bindings generated from the library, uniffi-layer pytest suite"
mkdir -p "$work/uniffi-py"
"$lib/uniffi-bindgen" generate --no-format --library "$lib/libhxb_uniffi.$so" -l python \
  -o "$work/uniffi-py" >/dev/null
ln -s "$lib/libhxb_uniffi.$so" "$work/uniffi-py/"
(cd "$work" && HXB_UNIFFI_DIR="$work/uniffi-py" "$work/venv/bin/python" -m pytest -q \
  -p no:cacheprovider "$root/bindings/swift/tests-uniffi-python")

section "Swift: the committed package matches the library (regenerated and compared)"
if [ "$update" = 1 ]; then
  bindings/swift/generate.sh --lib "$lib/libhxb_uniffi.$so"
fi
bindings/swift/generate.sh --lib "$lib/libhxb_uniffi.$so" --out "$work/swift" >/dev/null
stale=0
for f in Package.swift Sources/Hxb/Hxb.swift Sources/HxbFFI/HxbFFI.h Sources/HxbFFI/module.modulemap; do
  diff -u "bindings/swift/$f" "$work/swift/$f" || stale=1
done
if [ "$stale" = 1 ]; then
  echo "the Swift package is stale: run HXB_UPDATE_GENERATED=1 bindings/test.sh" >&2
  exit 1
fi
echo "Swift package up to date"

section "Swift: the C header compiles"
printf '#include "HxbFFI.h"\nint main(void) { return 0; }\n' >"$work/header_check.c"
"${CC:-cc}" -std=c11 -Wall -Wextra -Werror -D_Nonnull= -D_Nullable= \
  -I bindings/swift/Sources/HxbFFI -c "$work/header_check.c" -o "$work/header_check.o"
echo "HxbFFI.h compiles"
if command -v swift >/dev/null 2>&1 && swift --version 2>&1 | grep -qi 'swift version'; then
  section "Swift: XCTest suite"
  HXB_LIB_DIR="$lib" swift test --package-path bindings/swift
fi

section "examples (Python and Node)"
if "$work/venv/bin/python" -c 'import hxb; hxb.Engine.embedded()' 2>/dev/null; then
  "$work/venv/bin/python" examples/python/quickstart.py
  node examples/node/quickstart.js
else
  echo "skipped: the embedded cluster is not implemented in this build"
fi

section "all binding tests passed in $(($(date +%s) - start))s"
