#!/usr/bin/env bash
# `make bench`: criterion benchmarks of the core against the jsonwebtoken crate (rust_crypto and
# aws_lc_rs backends) on the same tokens, in one run, then BENCHMARKS.md from the results.
# Absolute times on this noisy 2-core machine mean little; the table's ratios are the point.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target/bench}
(cd benches && cargo bench --locked --bench edgeward --bench jsonwebtoken_rust_crypto --bench jsonwebtoken_aws_lc \
  --bench p256_fast --bench rsa_fast --bench dpop)
# The cold path again with the core's `crate-verify` (the crates' own ES256/RS256/PS256 verify, as
# before issue 5), in a target dir of its own: old and new figures from one run.
before=$PWD/target/bench-crate-verify
(cd benches && CARGO_TARGET_DIR=$before cargo bench --locked --bench edgeward --features edgeward/crate-verify -- edgeward_cold)
python3 scripts/bench_report.py "$CARGO_TARGET_DIR/criterion" "$before/criterion" > BENCHMARKS.md.new
mv BENCHMARKS.md.new BENCHMARKS.md
echo "wrote BENCHMARKS.md"
