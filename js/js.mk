# The npm package `edgeward` (js/): included by the root Makefile.
#   make build-js    wasm glue -> js/pkg (Node) and js/pkg-web (browsers)
#   make test-js     node --test against the built package, the packed tarball, the harness in Chromium,
#                    bench-node in miniature (bench/bench.test.mjs), and the CLI's --fetch-keys against
#                    a real IdP over TLS (target/release/edgeward)
#   make bench-node  edgeward (now, pure wasm, and built from BASELINE_REV) vs jose, fast-jwt,
#                    node:crypto, every algorithm; then requests/s through Express, Fastify and
#                    node:http with each guard, against express-oauth2-jwt-bearer -> js/BENCHMARKS-node.md
#   make bench-node-frameworks  only the second part (its section of js/BENCHMARKS-node.md)
#   make profile-node  where the cold path's time goes (V8 CPU profile, wasm names kept) -> perf/PROFILE-node.md
#   make harness     the browser harness on http://127.0.0.1:8080/harness/ (/ redirects there; HARNESS_PORT)

.PHONY: build-js test-js bench-node bench-node-frameworks profile-node harness

build: build-js
test: test-js

build-js:
	@$(SETUP) rust wasm-bindgen node
	CARGO=$(CARGO) js/build.sh

test-js: build-js build-core
	@$(SETUP) chromium openssl redis
	cd js && node --test --test-concurrency=1 test/ bench/bench.test.mjs

# Cold (every algorithm, CPU per verification) and warm (ES256, RS256): edgeward now, pure wasm
# ({ hostCrypto: false }) and old (the package built from a git worktree of BASELINE_REV,
# perf/rev-worktree.sh, into target/bench-node/pkg-old; build.sh builds the workspace it is run in,
# hence the cd) against jose, fast-jwt and node:crypto; the issue 11 targets judged from the run.
# About 7 minutes with the defaults (BENCH_ROUNDS=3); BENCH_QUICK=1: one short round (a shape
# check); BENCH_OUT=file writes elsewhere than js/BENCHMARKS-node.md.
BASELINE_REV ?= 6293655
BASELINE_WORKTREE ?= /tmp/edgeward-baseline-$(BASELINE_REV)
BASELINE_PKG := $(CURDIR)/target/bench-node/pkg-old
bench-node: build-js
	@perf/rev-worktree.sh $(BASELINE_REV) $(BASELINE_WORKTREE)
	cd $(BASELINE_WORKTREE)/js && EDGEWARD_JS_VARIANT=$(BASELINE_PKG) CARGO=$(CARGO) bash build.sh
	cd js && EDGEWARD_OLD_PKG=$(BASELINE_PKG) EDGEWARD_OLD_REV=$(BASELINE_REV) node bench/bench.mjs $(if $(BENCH_QUICK),--quick) \
	  $(if $(BENCH_ROUNDS),--rounds $(BENCH_ROUNDS)) $(if $(BENCH_OUT),--out $(abspath $(BENCH_OUT)))
	$(BENCH_FRAMEWORKS)

# Requests/s through a real server (issue 15): Express 5 + edgeward's middleware, Express 5 +
# express-oauth2-jwt-bearer (the same key set and scope), Express with no guard (its own cost),
# Fastify 5 + edgeward, node:http + edgeward; reused and cold RS256 tokens; autocannon in the
# bench's process on CPU 1, each server a child process on CPU 0. About 4 minutes with the
# defaults (3 rounds of 5 s cells, a 100k token pool); BENCH_QUICK=1, BENCH_ROUNDS and BENCH_OUT as above. Rewrites only its own section of the
# report (bench.mjs keeps it when it rewrites the rest).
BENCH_FRAMEWORKS = cd js && node bench/frameworks.mjs $(if $(BENCH_QUICK),--quick) \
  $(if $(BENCH_ROUNDS),--rounds $(BENCH_ROUNDS)) $(if $(BENCH_OUT),--out $(abspath $(BENCH_OUT)))
bench-node-frameworks: build-js
	$(BENCH_FRAMEWORKS)

profile-node:
	@$(SETUP) rust wasm-bindgen node
	EDGEWARD_JS_VARIANT=$(CURDIR)/js/bench/pkg-profile EDGEWARD_JS_KEEP_NAMES=1 CARGO=$(CARGO) js/build.sh
	cd js && node bench/profile.mjs > ../perf/PROFILE-node.md.new && mv ../perf/PROFILE-node.md.new ../perf/PROFILE-node.md
	@echo "wrote perf/PROFILE-node.md"

HARNESS_PORT ?= 8080
harness: build-js
	node js/harness/serve.mjs --port $(HARNESS_PORT)

# What one call may cost (hardening, round two): the loads of make bench-attack through
# Verifier.authorize, the package before 26a598b (its Node glue and its own lib/api.js, built from
# a git worktree of BEFORE_REV into target/js-attack/pkg-before; build.sh builds the workspace it is
# run in, hence the cd) against js/pkg -> js/BENCHMARKS-attack.md.
BEFORE_REV ?= eef8892
BEFORE_WORKTREE ?= /tmp/edgeward-before
.PHONY: bench-attack-node
bench-attack-node: build-js
	@perf/rev-worktree.sh $(BEFORE_REV) $(BEFORE_WORKTREE)
	cd $(BEFORE_WORKTREE)/js && EDGEWARD_JS_VARIANT=$(CURDIR)/target/js-attack/pkg-before CARGO=$(CARGO) bash build.sh
	EDGEWARD_BEFORE_REV=$(BEFORE_REV) node js/bench/attack.mjs
