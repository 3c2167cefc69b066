#!/usr/bin/env bash
# `make bench-scan`: `edgeward scan` against ripgrep searching the same pattern (the core's
# edgeward::audit::TOKEN_PATTERN) over the same trees, in one run -> cli/BENCHMARKS-scan.md, and
# that section of BENCHMARKS.md (scripts/bench_report.py folds the file in on `make bench` too).
#
# Trees: the cargo registry sources on this machine (~/.cargo/registry/src, if there), and a
# generated one of BENCH_SCAN_GIB GiB (default 2, at most 16) of source text with a token planted
# every MiB or so, plus one file of 1 GiB on a single line (memory must stay bounded), both made
# in a temporary directory that is removed at the end. BENCH_SCAN_ROUNDS (default 3) timed runs
# of each tool per tree after one warm-up run, medians reported. ripgrep: Debian's `ripgrep`
# (scripts/setup.sh ripgrep).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
cargo build --release --locked -p edgeward-cli
command -v rg >/dev/null || { echo "bench-scan: rg not found (scripts/setup.sh ripgrep)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/edgeward-bench-scan.XXXXXX")
trap 'rm -rf "$work"' EXIT
python3 scripts/bench_scan.py "$CARGO_TARGET_DIR/release/edgeward" "$work" > cli/BENCHMARKS-scan.md.new
mv cli/BENCHMARKS-scan.md.new cli/BENCHMARKS-scan.md
# Replace (or add) the section bench_report.py makes of it in BENCHMARKS.md.
python3 - <<'PY'
import re
head = "## From `cli/BENCHMARKS-scan.md`"
with open("cli/BENCHMARKS-scan.md") as f:
    body = "\n".join(("#" + l if l.startswith("#") else l) for l in f.read().splitlines())
section = f"{head}\n\n{body}\n\n"
with open("BENCHMARKS.md") as f:
    text = f.read()
start = text.find(head)
if start < 0:
    text = text.rstrip("\n") + "\n\n" + section
else:
    nxt = text.find("\n## From `", start + len(head))
    text = text[:start] + section + (text[nxt + 1:] if nxt >= 0 else "")
with open("BENCHMARKS.md", "w") as f:
    f.write(text.rstrip("\n") + "\n")
PY
echo "wrote cli/BENCHMARKS-scan.md and its section of BENCHMARKS.md"
