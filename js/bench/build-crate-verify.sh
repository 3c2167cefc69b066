#!/usr/bin/env bash
# Builds "edgeward before issue 5" for `make bench-node`: the same npm package (nodejs glue only)
# with the cargo feature `crate-verify`, i.e. the core verifying ES256 with p256's own verify and
# RS256/PS256 with the rsa crate's, as before the fast paths. Output: js/bench/pkg-crate-verify/
# (edgeward_js.js, edgeward_js_bg.wasm, api.cjs), built under target/crate-verify so js/pkg and
# the normal target directory are untouched. Steps whose inputs did not change are skipped, as in
# js/build.sh. Needs .tools/wasm-bindgen and .tools/wasm-opt (scripts/setup.sh wasm-bindgen).
set -euo pipefail
bench=$(cd "$(dirname "$0")" && pwd)
js=$(cd "$bench/.." && pwd)
root=$(cd "$js/.." && pwd)
tools=$root/.tools
cargo=${CARGO:-cargo}
out=$bench/pkg-crate-verify
target=$root/target/crate-verify
say() { printf 'build-crate-verify: %s\n' "$*"; }

want=$(sed -n 's/^wasm-bindgen = "=\(.*\)"$/\1/p' "$js/Cargo.toml")
have=$("$tools/wasm-bindgen" --version | awk '{print $2}')
[ "$want" = "$have" ] || { echo "build-crate-verify: wasm-bindgen CLI $have, crate pins $want" >&2; exit 1; }

# strip=debuginfo keeps the target_features section wasm-bindgen and wasm-opt read (see build.sh).
CARGO_TARGET_DIR=$target "$cargo" build --locked -q -p edgeward-js --target wasm32-unknown-unknown \
  --profile wasm --features crate-verify --config 'profile.wasm.strip="debuginfo"'
raw=$target/wasm32-unknown-unknown/wasm/edgeward_js.wasm

stamp() { cat "$raw" "$js/lib/api.js" "$bench/build-crate-verify.sh" | sha256sum | cut -c1-32; }
key=$(stamp)
if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$key" ]; then
  say "up to date"
  exit 0
fi

rm -rf "$out"
"$tools/wasm-bindgen" --target nodejs --out-dir "$out" --out-name edgeward_js "$raw"
wasm=$out/edgeward_js_bg.wasm
"$tools/wasm-opt" -O3 --strip-debug --strip-producers --strip-target-features "$wasm" -o "$wasm.opt"
mv "$wasm.opt" "$wasm"
# The JS API wrapped as CommonJS exactly as js/build.sh writes js/pkg/api.cjs.
{ printf "'use strict';\n"; cat "$js/lib/api.js"; printf '\nmodule.exports = makeApi;\n'; } >"$out/api.cjs"
echo "$key" >"$out/.stamp"
say "bench/pkg-crate-verify/ $(wc -c <"$wasm") bytes wasm"
