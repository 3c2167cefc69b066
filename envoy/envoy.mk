# The Envoy surface (included by the root Makefile): build-envoy, test-envoy, gateway (make run),
# demo, bench-envoy. See envoy/README.md.

FILTER_WASM := dist/edgeward_filter.wasm
ENVOY_NODE_TESTS := envoy/tests/filter.test.mjs envoy/tests/jwks.test.mjs envoy/tests/config.test.mjs envoy/tests/gateway.test.mjs envoy/tests/bench.test.mjs \
  envoy/tests/failclosed.test.mjs envoy/tests/spoofing.test.mjs envoy/tests/refused-key.test.mjs envoy/tests/wsgi.test.mjs envoy/tests/attack.test.mjs envoy/tests/matrix.test.mjs envoy/tests/discovery.test.mjs envoy/tests/idp.test.mjs \
  envoy/tests/host-crypto.test.mjs

RUN_TARGET := gateway

.PHONY: build-envoy build-envoy-trap test-envoy lint-envoy gateway demo bench-envoy

build: build-envoy
test: test-envoy

# wasm32-wasip1, profile `wasm` (release, LTO, stripped).
build-envoy:
	@$(SETUP) rust
	$(CARGO) build --locked -p edgeward-envoy --target wasm32-wasip1 --profile wasm
	@mkdir -p dist
	cp target/wasm32-wasip1/wasm/edgeward_envoy.wasm $(FILTER_WASM)
	@echo "$(FILTER_WASM): $$(stat -c %s $(FILTER_WASM)) bytes"

# DANGER, tests only: the filter with feature `danger-test-trap` (a request with the header
# x-edgeward-danger-trap makes it panic), in its own target dir so that it never lands in dist/.
TRAP_TARGET_DIR := target/danger-test-trap
TRAP_WASM := $(TRAP_TARGET_DIR)/wasm32-wasip1/wasm/edgeward_envoy.wasm
build-envoy-trap:
	@$(SETUP) rust
	CARGO_TARGET_DIR=$(TRAP_TARGET_DIR) $(CARGO) clippy --locked -p edgeward-envoy --target wasm32-wasip1 --profile wasm --features danger-test-trap,test-signature-hook -- -D warnings
	CARGO_TARGET_DIR=$(TRAP_TARGET_DIR) $(CARGO) build --locked -p edgeward-envoy --target wasm32-wasip1 --profile wasm --features danger-test-trap,test-signature-hook

# The host glue only compiles for wasm32: lint it there too (the workspace lint runs natively).
lint-envoy:
	@$(SETUP) rust
	$(CARGO) clippy --locked -p edgeward-envoy --target wasm32-wasip1 --profile wasm -- -D warnings

# Native unit tests of the plain modules run with the workspace (`cargo test --workspace`);
# these run the filter in a real Envoy 1.40.
test-envoy: build-envoy build-envoy-trap lint-envoy
	@$(SETUP) envoy node wrk
	EDGEWARD_TRAP_WASM=$(TRAP_WASM) node --test --test-concurrency=1 $(ENVOY_NODE_TESTS)

# Envoy on 127.0.0.1:10000 (admin :9901) with the filter, an upstream bot and fresh keys;
# prints curl commands with fresh tokens. Ctrl-C stops everything. PORT=... and ADMIN_PORT=...
# (environment or make variables; the recipe sees both) choose other ports.
gateway: build-envoy
	@$(SETUP) envoy
	node envoy/demo/gateway.mjs

# The same tour, unattended: exits non-zero on any unexpected answer. On free ports unless
# PORT/ADMIN_PORT say otherwise.
demo: build-envoy
	@$(SETUP) envoy
	node envoy/demo/gateway.mjs --demo

# wrk against Envoy --concurrency 1: no filter, native jwt_authn + RBAC, edgeward, and edgeward built
# with the core's `crate-verify` (the crates' own verify, as before issue 5) -> envoy/BENCHMARKS-envoy.md
BENCH_SECONDS ?= 10
CRATE_VERIFY_TARGET_DIR := target/crate-verify
CRATE_VERIFY_WASM := $(CRATE_VERIFY_TARGET_DIR)/wasm32-wasip1/wasm/edgeward_envoy.wasm
bench-envoy: build-envoy
	@$(SETUP) envoy wrk
	CARGO_TARGET_DIR=$(CRATE_VERIFY_TARGET_DIR) $(CARGO) build --locked -p edgeward-envoy --target wasm32-wasip1 --profile wasm --features crate-verify
	EDGEWARD_CRATE_VERIFY_WASM=$(CRATE_VERIFY_WASM) node envoy/bench/bench.mjs --seconds $(BENCH_SECONDS)

# What one request may cost (hardening, round two): bogus, oversized and replayed tokens, a
# 64-key JWKS reload, each against the filter before 26a598b (built from a git worktree of
# BEFORE_REV, sharing dependencies under target/before-cost) and the current one, in one run ->
# envoy/BENCHMARKS-attack.md. About 8 minutes with the defaults.
ATTACK_SECONDS ?= 3
ATTACK_ROUNDS ?= 3
BEFORE_REV ?= eef8892
BEFORE_WORKTREE ?= /tmp/edgeward-before
BEFORE_TARGET_DIR := $(CURDIR)/target/before-cost
BEFORE_WASM := $(BEFORE_TARGET_DIR)/wasm32-wasip1/wasm/edgeward_envoy.wasm
.PHONY: bench-attack
bench-attack: build-envoy
	@$(SETUP) envoy wrk
	@[ -d $(BEFORE_WORKTREE) ] || git worktree add --detach $(BEFORE_WORKTREE) $(BEFORE_REV)
	@[ "$$(git -C $(BEFORE_WORKTREE) rev-parse HEAD)" = "$$(git rev-parse $(BEFORE_REV)^{commit})" ] || \
	  { echo "bench-attack: $(BEFORE_WORKTREE) is not at $(BEFORE_REV)" >&2; exit 1; }
	cd $(BEFORE_WORKTREE) && CARGO_TARGET_DIR=$(BEFORE_TARGET_DIR) $(CARGO) build --locked -p edgeward-envoy --target wasm32-wasip1 --profile wasm
	EDGEWARD_BEFORE_WASM=$(BEFORE_WASM) EDGEWARD_BEFORE_REV=$(BEFORE_REV) node envoy/bench/attack.mjs --seconds $(ATTACK_SECONDS) --rounds $(ATTACK_ROUNDS)
