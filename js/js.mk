# The npm package `edgeward` (js/): included by the root Makefile.
#   make build-js    wasm glue -> js/pkg (Node) and js/pkg-web (browsers)
#   make test-js     node --test against the built package, the packed tarball, and the harness in Chromium;
#                    also the CLI's --fetch-keys against a real IdP over TLS (target/release/edgeward)
#   make bench-node  edgeward (and its pre-issue-5 crate-verify build) vs jose, fast-jwt, jsonwebtoken,
#                    node:crypto -> js/BENCHMARKS-node.md
#   make profile-node  where the cold path's time goes (V8 CPU profile, wasm names kept) -> perf/PROFILE-node.md
#   make harness     the browser harness on http://127.0.0.1:8080/harness/ (/ redirects there; HARNESS_PORT)

.PHONY: build-js test-js bench-node profile-node harness

build: build-js
test: test-js

build-js:
	@$(SETUP) rust wasm-bindgen node
	CARGO=$(CARGO) js/build.sh

test-js: build-js build-core
	@$(SETUP) chromium openssl
	cd js && node --test --test-concurrency=1 test/

bench-node: build-js
	cd js && CARGO=$(CARGO) bash bench/build-crate-verify.sh && node bench/bench.mjs

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
	@[ -d $(BEFORE_WORKTREE) ] || git worktree add --detach $(BEFORE_WORKTREE) $(BEFORE_REV)
	@[ "$$(git -C $(BEFORE_WORKTREE) rev-parse HEAD)" = "$$(git rev-parse $(BEFORE_REV)^{commit})" ] || \
	  { echo "bench-attack-node: $(BEFORE_WORKTREE) is not at $(BEFORE_REV)" >&2; exit 1; }
	ln -sfn $(CURDIR)/.tools $(BEFORE_WORKTREE)/.tools
	cd $(BEFORE_WORKTREE)/js && EDGEWARD_JS_VARIANT=$(CURDIR)/target/js-attack/pkg-before CARGO=$(CARGO) bash build.sh
	EDGEWARD_BEFORE_REV=$(BEFORE_REV) node js/bench/attack.mjs
