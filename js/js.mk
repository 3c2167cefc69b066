# The npm package `edgeward` (js/): included by the root Makefile.
#   make build-js    wasm glue -> js/pkg (Node) and js/pkg-web (browsers)
#   make test-js     node --test against the built package, the packed tarball, and the harness in Chromium
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

test-js: build-js
	@$(SETUP) chromium
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
