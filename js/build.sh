#!/usr/bin/env bash
# Builds the npm package in js/: the glue crate for wasm32-unknown-unknown (profile `wasm`),
# wasm-bindgen (nodejs -> pkg/, web -> pkg-web/), wasm-opt -O3, and the JS API wrapped as
# CommonJS (pkg/api.cjs) and as an ES module (pkg-web/api.mjs). Steps whose inputs did not
# change are skipped. Needs .tools/wasm-bindgen and .tools/wasm-opt (scripts/setup.sh wasm-bindgen).
#
# Variants for benchmarks and profiles, never the published package: EDGEWARD_JS_VARIANT=<dir>
# builds only the Node glue into <dir> (under target/<dir's name>), with the cargo features in
# EDGEWARD_JS_FEATURES; EDGEWARD_JS_KEEP_NAMES=1 keeps the wasm function names (CPU profiles).
set -euo pipefail
js=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$js/.." && pwd)
tools=$root/.tools
cargo=${CARGO:-cargo}
variant=${EDGEWARD_JS_VARIANT:-}
features=${EDGEWARD_JS_FEATURES:-}
keep_names=${EDGEWARD_JS_KEEP_NAMES:-}
say() { printf 'build-js: %s\n' "$*"; }
if [ -z "$variant" ] && [ -n "$features$keep_names" ]; then
  echo "build-js: EDGEWARD_JS_FEATURES / EDGEWARD_JS_KEEP_NAMES need EDGEWARD_JS_VARIANT (never the published pkg/)" >&2
  exit 2
fi

# The package ships the repository's LICENSE and docs/ (js/README.md links into docs/): copied
# here on every build (git ignores both copies), never into a variant.
if [ -z "$variant" ]; then
  cp "$root/LICENSE" "$js/LICENSE"
  rm -rf "$js/docs"
  [ ! -d "$root/docs" ] || cp -R "$root/docs" "$js/docs"
fi

# The CLI must be exactly the crate's version (it refuses to mix them).
want=$(sed -n 's/^wasm-bindgen = "=\(.*\)"$/\1/p' "$js/Cargo.toml")
have=$("$tools/wasm-bindgen" --version | awk '{print $2}')
[ "$want" = "$have" ] || { echo "build-js: wasm-bindgen CLI $have, crate pins $want" >&2; exit 1; }

# strip=debuginfo instead of the profile's strip=true keeps the target_features section that
# wasm-bindgen and wasm-opt read; wasm-opt strips names and features afterwards.
target_dir=${CARGO_TARGET_DIR:-$root/target}
[ -z "$variant" ] || target_dir=$root/target/$(basename "$variant")
CARGO_TARGET_DIR=$target_dir "$cargo" build --locked -q -p edgeward-js --target wasm32-unknown-unknown --profile wasm \
  ${features:+--features "$features"} --config 'profile.wasm.strip="debuginfo"'
raw=$target_dir/wasm32-unknown-unknown/wasm/edgeward_js.wasm
strip=(--strip-debug --strip-producers --strip-target-features)
[ -z "$keep_names" ] || strip=(-g --strip-producers --strip-target-features)

stamp() { { cat "$raw" "$js/lib/api.js" "$js/build.sh"; echo "$features $keep_names"; } | sha256sum | cut -c1-32; }
key=$(stamp)
# Where the glue goes: pkg/ (Node) and pkg-web/ (browsers), or only the variant's Node glue.
node_out=$js/pkg web_out=$js/pkg-web
[ -z "$variant" ] || { node_out=$variant; web_out=; }
outs=("$node_out"); [ -z "$web_out" ] || outs+=("$web_out")
fresh=yes
for out in "${outs[@]}"; do
  [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$key" ] || fresh=no
done
[ "$fresh" = no ] || { say "up to date (${outs[*]#"$root/"})"; exit 0; }

for out in "${outs[@]}"; do
  target=nodejs; [ "$out" = "$web_out" ] && target=web
  rm -rf "$out"
  "$tools/wasm-bindgen" --target "$target" --out-dir "$out" --out-name edgeward_js "$raw"
done
# Both targets normally get the same module: optimise it once.
node_wasm=$node_out/edgeward_js_bg.wasm
same=no; [ -n "$web_out" ] && cmp -s "$node_wasm" "$web_out/edgeward_js_bg.wasm" && same=yes
for out in "${outs[@]}"; do
  wasm=$out/edgeward_js_bg.wasm
  if [ "$same" = yes ] && [ "$out" = "$web_out" ]; then cp "$node_wasm" "$wasm"; continue; fi
  "$tools/wasm-opt" -O3 "${strip[@]}" "$wasm" -o "$wasm.opt"
  mv "$wasm.opt" "$wasm"
done

{ printf "'use strict';\n"; cat "$js/lib/api.js"; printf '\nmodule.exports = makeApi;\n'; } >"$node_out/api.cjs"
if [ -n "$web_out" ]; then
  { cat "$js/lib/api.js"; printf '\nexport default makeApi;\n'; } >"$web_out/api.mjs"
  # The web glue is an ES module; say so for Node-based bundlers (the package itself is CommonJS).
  printf '{ "type": "module" }\n' >"$web_out/package.json"
fi
for out in "${outs[@]}"; do echo "$key" >"$out/.stamp"; done
say "${node_out#"$root/"}: $(wc -c <"$node_wasm") bytes wasm, $(gzip -9c "$node_wasm" | wc -c) gzipped (features: ${features:-default})"
