#!/usr/bin/env bash
# Builds "edgeward before issue 5" for `make bench-node`: the same package (Node glue only) with the
# cargo feature `crate-verify` (the core verifies ES256 with p256's own verify and RS256/PS256 with
# the rsa crate's, as before the fast paths) into js/bench/pkg-crate-verify/, under
# target/pkg-crate-verify, leaving js/pkg alone. Skipped when nothing changed (see js/build.sh).
set -euo pipefail
bench=$(cd "$(dirname "$0")" && pwd)
EDGEWARD_JS_VARIANT=$bench/pkg-crate-verify EDGEWARD_JS_FEATURES=crate-verify exec bash "$bench/../build.sh"
