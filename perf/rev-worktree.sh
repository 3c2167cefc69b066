#!/usr/bin/env bash
# perf/rev-worktree.sh REV DIR: the git worktree the before/after benchmarks build their "before"
# from (make bench-attack, bench-attack-node, bench-envoy, bench-node): a detached worktree of REV
# at DIR, made once; afterwards only checked to be at REV (never moved: another bench, or another
# checkout of this repository, may be using it). Links .tools into it unless it has a working one,
# so that its js/build.sh finds wasm-bindgen and wasm-opt.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 REV DIR" >&2; exit 2; }
rev=$1 dir=$2
want=$(git rev-parse --verify --quiet "$rev^{commit}") || { echo "rev-worktree: unknown revision $rev" >&2; exit 1; }
[ -d "$dir" ] || git worktree add --detach "$dir" "$want"
have=$(git -C "$dir" rev-parse HEAD)
[ "$have" = "$want" ] || { echo "rev-worktree: $dir is at $have, not $rev ($want): remove it or choose another directory" >&2; exit 1; }
root=$(git rev-parse --show-toplevel)
[ -e "$dir/.tools" ] || [ ! -e "$root/.tools" ] || ln -sfn "$root/.tools" "$dir/.tools"
