#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS each (default 60), starting from the committed seeds in
# fuzz/seeds/<target> and a working corpus in the ignored fuzz/corpus/<target>. Crashes land in
# fuzz/artifacts/<target>; the script fails if any target finds one.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}; shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(token jwks policy verify mutate decision dpop)
fuzz=${CARGO_FUZZ:-.tools/cargo-fuzz}
# cargo-fuzz needs nightly-only flags (sanitizers); the machine has one stable toolchain.
export RUSTC_BOOTSTRAP=1
status=0
for target in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$target" "fuzz/seeds/$target"
  echo "== fuzz $target for ${seconds}s"
  if ! "$fuzz" run --fuzz-dir fuzz "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
      -max_total_time="$seconds" -max_len=20000 -timeout=10 -rss_limit_mb=2048 2>"fuzz/$target.log"; then
    status=1
    echo "!! $target found a problem: see fuzz/$target.log and fuzz/artifacts/$target" >&2
  fi
  grep -E '^(#[0-9]+\s+DONE|Done [0-9]+ runs)' "fuzz/$target.log" | tail -1 || true
  grep -oE 'cov: [0-9]+ ft: [0-9]+' "fuzz/$target.log" | tail -1 || true
done
exit $status
