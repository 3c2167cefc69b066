# The npm package `edgeward` (js/): included by the root Makefile.
#   make build-js    wasm glue -> js/pkg (Node) and js/pkg-web (browsers)
#   make test-js     node --test against the built package, the packed tarball, and the harness in Chromium
#   make bench-node  edgeward (and its pre-issue-5 crate-verify build) vs jose, fast-jwt, jsonwebtoken,
#                    node:crypto -> js/BENCHMARKS-node.md
#   make harness     the browser harness on http://127.0.0.1:8080/

.PHONY: build-js test-js bench-node harness

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

HARNESS_PORT ?= 8080
harness: build-js
	node js/harness/serve.mjs --port $(HARNESS_PORT)
