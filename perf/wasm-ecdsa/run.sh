#!/usr/bin/env bash
# Builds the harness for wasm32-unknown-unknown (release: LTO, opt-level 3), runs wasm-bindgen
# (--target nodejs) and wasm-opt -O3, then times it in Node: ./run.sh [rounds]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tools=${EDGEWARD_TOOLS:-$HOME/.cache/edgeward}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$here/../../target/perf-wasm}
cd "$here"
cargo build --offline --release --target wasm32-unknown-unknown -q
raw=$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/wasm_ecdsa.wasm
rm -rf pkg
"$tools/wasm-bindgen" --target nodejs --out-dir pkg "$raw"
"$tools/wasm-opt" -O3 --strip-debug --strip-producers --strip-target-features pkg/wasm_ecdsa_bg.wasm -o pkg/opt.wasm
mv pkg/opt.wasm pkg/wasm_ecdsa_bg.wasm
node bench.mjs "${1:-7}"
