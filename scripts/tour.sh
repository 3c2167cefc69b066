#!/usr/bin/env bash
# A five-minute tour of the edgeward CLI (what `make run` shows until the Envoy gateway exists):
# make a key, write a policy, mint a token, verify it, then watch a wrong-scope, an expired and
# a tampered token be refused with their codes.
#
#   scripts/tour.sh PATH_TO_EDGEWARD
#
# Everything happens in a temporary directory that is removed at the end. Tokens are never
# printed in full (only their first 12 characters). Exits non-zero if any step gives a result
# other than the one the tour expects.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 PATH_TO_EDGEWARD" >&2
  exit 2
fi
if [[ ! -f "$1" || ! -x "$1" ]]; then
  echo "tour: $1 is not an executable (build it with: cargo build --release -p edgeward-cli)" >&2
  exit 2
fi
EDGEWARD="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"

if [[ -t 1 ]]; then
  BOLD=$'\e[1m' DIM=$'\e[2m' GREEN=$'\e[32m' RED=$'\e[31m' RESET=$'\e[0m'
else
  BOLD='' DIM='' GREEN='' RED='' RESET=''
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/edgeward-tour.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

FAILURES=0
STEP=0

heading() {
  STEP=$((STEP + 1))
  printf '\n%s%d. %s%s\n' "$BOLD" "$STEP" "$1" "$RESET"
}

# Shows a command line as the reader would type it (tokens travel in files, never on the line).
show() {
  printf '%s$ edgeward %s%s\n' "$DIM" "$*" "$RESET"
}

# The first 12 characters of a token file, and an ellipsis.
abbreviate() {
  local token
  token="$(<"$1")"
  printf '%s…' "${token:0:12}"
}

ok() { printf '%s✔ %s%s\n' "$GREEN" "$1" "$RESET"; }
fail() {
  printf '%s✘ %s%s\n' "$RED" "$1" "$RESET"
  FAILURES=$((FAILURES + 1))
}

# Runs `edgeward verify ARGS < TOKEN_FILE` and checks the exit status and (for refusals) the code.
#   expect_verify EXIT CODE TOKEN_FILE ARGS...
expect_verify() {
  local want_exit="$1" want_code="$2" token_file="$3"
  shift 3
  show "verify $* < $token_file"
  local status=0
  "$EDGEWARD" verify "$@" <"$token_file" >out.json 2>err.txt || status=$?
  sed 's/^/    /' out.json
  if [[ -s err.txt ]]; then
    printf '    %sstderr:%s %s\n' "$DIM" "$RESET" "$(<err.txt)"
  fi
  local got_code
  got_code="$(grep -o '"code": *"[A-Z_]*"' out.json | head -n 1 | sed 's/.*"\([A-Z_]*\)"$/\1/' || true)"
  if [[ "$status" -ne "$want_exit" ]]; then
    fail "expected exit $want_exit, got $status"
  elif [[ -n "$want_code" && "$got_code" != "$want_code" ]]; then
    fail "expected $want_code, got ${got_code:-no code}"
  elif [[ -n "$want_code" ]]; then
    ok "refused with $want_code (exit $status)"
  else
    ok "accepted (exit $status)"
  fi
}

# Runs edgeward with ARGS (shown), stdout into FILE; a failure here stops the tour.
run_to() {
  local file="$1"
  shift
  show "$* > $file"
  if ! "$EDGEWARD" "$@" >"$file"; then
    fail "edgeward $1 failed"
    exit 1
  fi
}

# Re-encodes a token's payload with `read:orders` widened to `read:orders admin:orders`,
# keeping the original signature: what a caller granting itself a scope would try.
tamper_payload() {
  local header payload signature decoded padded
  IFS=. read -r header payload signature <"$1"
  padded="$(printf '%s' "$payload" | tr '_-' '/+')"
  while ((${#padded} % 4)); do padded+="="; done
  decoded="$(printf '%s' "$padded" | base64 -d)"
  decoded="${decoded/read:orders/read:orders admin:orders}"
  payload="$(printf '%s' "$decoded" | base64 | tr -d '\n=' | tr '/+' '_-')"
  printf '%s.%s.%s\n' "$header" "$payload" "$signature"
}

printf '%sedgeward tour%s — working in %s\n' "$BOLD" "$RESET" "$WORK"
printf '%s(%s)%s\n' "$DIM" "$("$EDGEWARD" --version)" "$RESET"

heading "Make a signing key (ES256): a private JWK for the issuer, a public JWKS for the verifier"
show "keygen --alg ES256 --kid tour-key --private-out key.json --public-out jwks.json"
"$EDGEWARD" keygen --alg ES256 --kid tour-key --private-out key.json --public-out jwks.json
echo "    key.json  (private: kept by the issuer, mode $(stat -c %a key.json 2>/dev/null || stat -f %Lp key.json))"
echo "    jwks.json (public):"
sed 's/^/    /' jwks.json

heading "Write a policy: tokens from https://idp.example.com for orders-api; GET /orders needs read:orders"
cat >policy.json <<EOF
{
  "providers": {
    "corp-idp": {
      "issuer": "https://idp.example.com",
      "audiences": ["orders-api"],
      "algorithms": ["ES256"],
      "max_lifetime_seconds": 3600,
      "local_jwks": $(sed '2,$s/^/      /' jwks.json)
    }
  },
  "rules": [
    { "match": { "prefix": "/healthz" } },
    { "match": { "prefix": "/orders", "methods": ["GET"] },
      "requires": { "provider_name": "corp-idp", "scopes": ["read:orders"] } },
    { "match": { "prefix": "/orders" },
      "requires": { "provider_name": "corp-idp", "scopes": ["write:order_status"] } }
  ]
}
EOF
sed 's/^/    /' policy.json

heading "Mint a token for bot-7 with the scope read:orders, valid for 15 minutes"
run_to good.jwt mint --key key.json --iss https://idp.example.com --aud orders-api --sub bot-7 \
  --scope read:orders --ttl 900 --typ at+jwt
echo "    good.jwt: $(abbreviate good.jwt)"

heading "Verify it as GET /orders would (needs read:orders): accepted"
expect_verify 0 "" good.jwt --policy policy.json --scope read:orders

heading "Wrong scope: the same token for a write route (needs write:order_status)"
expect_verify 1 ERR_SCOPE_INSUFFICIENT good.jwt --policy policy.json --scope write:order_status

heading "Expired: a token minted two hours ago with a 15-minute lifetime"
NOW="$(date +%s)"
run_to expired.jwt mint --key key.json --iss https://idp.example.com --aud orders-api --sub bot-7 \
  --scope read:orders --ttl 900 --now "$((NOW - 7200))"
echo "    expired.jwt: $(abbreviate expired.jwt)"
expect_verify 1 ERR_JWT_EXPIRED expired.jwt --policy policy.json --scope read:orders

heading "Tampered: good.jwt with admin:orders added to its payload, original signature kept"
tamper_payload good.jwt >tampered.jwt
echo "    tampered.jwt: $(abbreviate tampered.jwt)"
expect_verify 1 ERR_JWS_SIGNATURE_VERIFICATION_FAILED tampered.jwt --policy policy.json --scope admin:orders

echo
if [[ "$FAILURES" -eq 0 ]]; then
  printf '%s%sTour complete: every result was the expected one.%s\n' "$BOLD" "$GREEN" "$RESET"
  echo "Next: edgeward --help, edgeward check --help; every policy field and error code is in docs/policy.md."
else
  printf '%s%sTour finished with %d unexpected result(s).%s\n' "$BOLD" "$RED" "$FAILURES" "$RESET"
  exit 1
fi
