#!/usr/bin/env bash
# Runs the ```sh blocks of README.md's "## The CLI" section, verbatim, as a reader would from the
# root of a clone, and checks the exit statuses they state. `make test` runs it (Makefile, `tour`).
#
#   scripts/readme-cli.sh [PATH_TO_EDGEWARD]     (default: target/release/edgeward)
#
# The blocks run in a scratch directory (removed at the end), so the files they write (key.jwk,
# jwks.json, token) never land in the clone. Their relative paths resolve there as in the clone:
# `target/release/edgeward` is a link to PATH_TO_EDGEWARD, `examples` a link to the repository's,
# and `make` runs in the repository (`make -C REPO`). The blocks run as one bash script with
# `set -euo pipefail`, so any command that fails stops it. Conventions the README follows:
#   - a command ending in `# exit 0` must succeed (set -e checks it);
#   - a command expected to fail is written `CMD || echo "exit $?"  # exit N`: its output must
#     contain the line `exit N`, in the order the README states them;
#   - `# exit N: "TEXT"` also requires TEXT in the output.
# Exits 1 (and shows the output) on any difference.
set -euo pipefail

self=${BASH_SOURCE[0]}; [[ $self == */* ]] || self=./$self
REPO=$(cd "${self%/*}/.." && pwd)
BIN=${1:-target/release/edgeward}
[[ $BIN == /* ]] || BIN=$(pwd)/$BIN

WORK=$(mktemp -d "${TMPDIR:-/tmp}/edgeward-readme-cli.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# The section's ```sh blocks, as written.
awk '
  /^## / { in_section = ($0 == "## The CLI") ; next }
  in_section && /^```sh[[:space:]]*$/ { in_block = 1; next }
  in_section && in_block && /^```[[:space:]]*$/ { in_block = 0; print ""; next }
  in_section && in_block { print }
' "$REPO/README.md" >"$WORK/blocks.sh"
if ! grep -q '[^[:space:]]' "$WORK/blocks.sh"; then
  echo "readme-cli: no \`\`\`sh block in the \"## The CLI\" section of README.md" >&2
  exit 1
fi

# What the README states: the `exit N` lines the `|| echo "exit $?"` commands must print, and the
# quoted texts of `# exit N: "TEXT"`. A command without `||` may only state `exit 0`.
expected_exits=()
expected_texts=()
while IFS= read -r line; do
  [[ $line =~ \#\ exit\ ([0-9]+)(:\ \"([^\"]*)\")?[[:space:]]*$ ]] || continue
  status=${BASH_REMATCH[1]}
  [[ -n ${BASH_REMATCH[3]} ]] && expected_texts+=("${BASH_REMATCH[3]}")
  if [[ $line == *'|| echo "exit $?"'* ]]; then
    expected_exits+=("exit $status")
  elif [[ $status != 0 ]]; then
    echo "readme-cli: README.md states exit $status for a command that set -e would stop on:" >&2
    echo "  $line" >&2
    echo "  (write it as: CMD || echo \"exit \$?\"  # exit $status)" >&2
    exit 1
  fi
done <"$WORK/blocks.sh"

mkdir -p "$WORK/run/target/release"
ln -s "$BIN" "$WORK/run/target/release/edgeward"
ln -s "$REPO/examples" "$WORK/run/examples"
{
  echo 'set -euo pipefail'
  printf 'make() { command make -C %q "$@"; }\n' "$REPO"
  cat "$WORK/blocks.sh"
} >"$WORK/run.sh"

echo "readme-cli: running the \"## The CLI\" blocks of README.md in $WORK/run"
sed 's/^/  | /' "$WORK/blocks.sh"
status=0
(cd "$WORK/run" && bash "$WORK/run.sh") >"$WORK/out.txt" 2>"$WORK/err.txt" || status=$?

show_output() {
  echo "--- stdout" >&2
  cat "$WORK/out.txt" >&2
  echo "--- stderr" >&2
  cat "$WORK/err.txt" >&2
}
if [[ $status -ne 0 ]]; then
  echo "readme-cli: the README's CLI commands failed (exit $status)" >&2
  show_output
  exit 1
fi

mapfile -t got_exits < <(grep -E '^exit [0-9]+$' "$WORK/out.txt" || true)
if [[ "${got_exits[*]-}" != "${expected_exits[*]-}" ]]; then
  echo "readme-cli: README.md states the failing commands print: ${expected_exits[*]:-(none)}" >&2
  echo "            they printed:                              ${got_exits[*]:-(none)}" >&2
  show_output
  exit 1
fi
for text in ${expected_texts[@]+"${expected_texts[@]}"}; do
  if ! grep -qF -- "$text" "$WORK/out.txt"; then
    echo "readme-cli: README.md says the output holds \"$text\"; it does not" >&2
    show_output
    exit 1
  fi
done

echo "readme-cli: ok — every command ran as README.md states (${#expected_exits[@]} expected failure(s): ${expected_exits[*]:-none}; ${#expected_texts[@]} stated output(s) found)"
