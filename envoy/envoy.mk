# The Envoy surface (included by the root Makefile): build-envoy, test-envoy, gateway (make run),
# demo, bench-envoy. See envoy/README.md.

FILTER_WASM := dist/edgeward_filter.wasm
ENVOY_NODE_TESTS := envoy/tests/filter.test.mjs envoy/tests/jwks.test.mjs envoy/tests/config.test.mjs envoy/tests/gateway.test.mjs envoy/tests/bench.test.mjs \
  envoy/tests/failclosed.test.mjs envoy/tests/spoofing.test.mjs envoy/tests/refused-key.test.mjs envoy/tests/wsgi.test.mjs envoy/tests/attack.test.mjs envoy/tests/matrix.test.mjs envoy/tests/discovery.test.mjs envoy/tests/idp.test.mjs \
  envoy/tests/host-crypto.test.mjs envoy/tests/principal.test.mjs envoy/tests/filter-state.test.mjs envoy/tests/equivalence.test.mjs \
  envoy/tests/tls-listener.test.mjs envoy/tests/pop.test.mjs envoy/tests/pop-idp.test.mjs envoy/tests/decision-log.test.mjs

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
# these run the filter in a real Envoy 1.40 (decision-log.test.mjs also runs the npm middleware
# and `edgeward report` on the same requests: hence build-js and build-core).
test-envoy: build-envoy build-envoy-trap lint-envoy build-js build-core
	@$(SETUP) envoy node wrk openssl
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

# wrk against Envoy --concurrency 1 for ES256, RS256 and PS256, each with a reused token and 20k
# distinct tokens: no filter, native jwt_authn + RBAC (same key and algorithm), edgeward old (the
# filter built from a git worktree of BASELINE_REV, perf/rev-worktree.sh, under target/baseline),
# edgeward now, and edgeward pure wasm (VM configuration {"host_crypto": false}); the issue 11
# targets judged from the run -> envoy/BENCHMARKS-envoy.md (BENCH_OUT=file for elsewhere).
# About 18 minutes with the defaults (BENCH_SECONDS=10, BENCH_ROUNDS=3); BENCH_QUICK=1: 2 s runs,
# one round, 5k distinct tokens, about 3 minutes (a shape check).
BASELINE_REV ?= 6293655
BASELINE_WORKTREE ?= /tmp/edgeward-baseline-$(BASELINE_REV)
BASELINE_TARGET_DIR := $(CURDIR)/target/baseline
BASELINE_WASM := $(BASELINE_TARGET_DIR)/wasm32-wasip1/wasm/edgeward_envoy.wasm
bench-envoy: build-envoy
	@$(SETUP) envoy wrk
	@perf/rev-worktree.sh $(BASELINE_REV) $(BASELINE_WORKTREE)
	cd $(BASELINE_WORKTREE) && CARGO_TARGET_DIR=$(BASELINE_TARGET_DIR) $(CARGO) build --locked -p edgeward-envoy --target wasm32-wasip1 --profile wasm
	EDGEWARD_OLD_WASM=$(BASELINE_WASM) EDGEWARD_OLD_REV=$(BASELINE_REV) node envoy/bench/bench.mjs $(if $(BENCH_QUICK),--quick) \
	  $(if $(BENCH_SECONDS),--seconds $(BENCH_SECONDS)) $(if $(BENCH_ROUNDS),--rounds $(BENCH_ROUNDS)) $(if $(BENCH_OUT),--out $(abspath $(BENCH_OUT)))

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
	@perf/rev-worktree.sh $(BEFORE_REV) $(BEFORE_WORKTREE)
	cd $(BEFORE_WORKTREE) && CARGO_TARGET_DIR=$(BEFORE_TARGET_DIR) $(CARGO) build --locked -p edgeward-envoy --target wasm32-wasip1 --profile wasm
	EDGEWARD_BEFORE_WASM=$(BEFORE_WASM) EDGEWARD_BEFORE_REV=$(BEFORE_REV) node envoy/bench/attack.mjs --seconds $(ATTACK_SECONDS) --rounds $(ATTACK_ROUNDS)
