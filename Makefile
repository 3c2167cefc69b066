# edgeward — the two commands a newcomer runs on a fresh machine:
#   make run    the demo (the Envoy gateway once the filter is built; a CLI tour until then)
#   make test   every test: formatting, lints, core, CLI, Envoy, Node and browser
# Both install what they need (scripts/setup.sh) into ~/.cache/edgeward, linked from .tools/.

SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo
TOOLS := $(CURDIR)/.tools
SETUP := scripts/setup.sh
export PATH := $(TOOLS):$(PATH)

# What `make run` shows; envoy/envoy.mk turns it into the gateway.
RUN_TARGET := tour

# The core's parts come first (prerequisites run in the order they are listed); the surfaces'
# fragments add theirs after.
build: build-core
test: lint test-core tour

# Each surface brings its own targets (build-X, test-X, bench-X) and hooks itself into
# build/test with `build: build-X` and `test: test-X`; it may set RUN_TARGET.
-include envoy/envoy.mk
-include js/js.mk
-include soak/soak.mk

# Last: a 60-second soak of the Envoy filter and the Node middleware under mixed load.
test: soak-short

.PHONY: help setup build build-core test lint test-core run tour bench bench-report bench-scan fuzz fuzz-differential clean

help:
	@echo "make run     the demo ($(RUN_TARGET))"
	@echo "make test    all tests (installs what they need first)"
	@echo "make build   CLI at target/release/edgeward, dist/edgeward_filter.wasm, the npm package in js/"
	@echo "make bench   criterion benchmarks -> BENCHMARKS.md    make fuzz   each fuzz target for FUZZ_SECONDS (default 60)"
	@echo "make bench-report   edgeward report over 2M generated decision records -> cli/BENCHMARKS-report.md"
	@echo "make bench-scan   edgeward scan against ripgrep -> cli/BENCHMARKS-scan.md"

setup:
	@$(SETUP) all

build-core:
	@$(SETUP) rust
	$(CARGO) build --release --locked -p edgeward-cli

lint:
	@$(SETUP) rust
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	$(CARGO) clippy -p edgeward --lib --features crate-verify --locked -- -D warnings
	$(CARGO) clippy -p edgeward --all-targets --features rsa-kernel --locked -- -D warnings
	node scripts/check-links.mjs

test-core:
	@$(SETUP) rust sarif
	$(CARGO) test --workspace --locked
	# The RSA differential and Wycheproof again on the wasm builds' RSA kernel (natively: feature rsa-kernel).
	$(CARGO) test --locked -p edgeward --features rsa-kernel --test rsa_differential --test wycheproof

run: $(RUN_TARGET)

tour: build-core
	scripts/tour.sh target/release/edgeward
	scripts/readme-cli.sh target/release/edgeward

FUZZ_SECONDS ?= 60
DIFF_CASES ?= 1000000
fuzz: fuzz-differential
	@$(SETUP) rust fuzz
	scripts/fuzz.sh $(FUZZ_SECONDS)

# The fast paths against the maintained crates' own verify on DIFF_CASES random cases each (make test runs
# a few thousand): ES256 against p256, RS*/PS* against rsa (natively, and on the wasm builds' RSA kernel:
# feature rsa-kernel); and the kernel's s^e mod n against crypto-bigint's on DIFF_CASES / 10 random moduli.
fuzz-differential:
	@$(SETUP) rust
	EDGEWARD_DIFF_CASES=$(DIFF_CASES) $(CARGO) test --release --locked -p edgeward --test p256_differential -- --nocapture
	EDGEWARD_RSA_DIFF_CASES=$(DIFF_CASES) $(CARGO) test --release --locked -p edgeward --test rsa_differential -- --nocapture
	EDGEWARD_RSA_DIFF_CASES=$(DIFF_CASES) $(CARGO) test --release --locked -p edgeward --features rsa-kernel --test rsa_differential -- --nocapture
	EDGEWARD_RSA_KERNEL_CASES=$$(( $(DIFF_CASES) / 10 )) $(CARGO) test --release --locked -p edgeward --lib rsa_fast::monty -- --nocapture

bench:
	@$(SETUP) rust
	scripts/bench.sh

# `edgeward report` over 2M generated decision records (REPORT_RECORDS, REPORT_PRINCIPALS,
# REPORT_ROUNDS): records per second and peak memory -> cli/BENCHMARKS-report.md and its section of
# BENCHMARKS.md (make bench includes that file as well). About a minute.
bench-report: build-core
	scripts/bench-report.sh

# `edgeward scan` against ripgrep on the same trees and pattern -> cli/BENCHMARKS-scan.md and its
# section of BENCHMARKS.md (make bench folds the file in too). About 3 minutes with the defaults
# (BENCH_SCAN_GIB=2, BENCH_SCAN_ROUNDS=3); needs ~3 GiB of free space under TMPDIR, removed after.
bench-scan:
	@$(SETUP) rust ripgrep
	scripts/bench-scan.sh

clean:
	$(CARGO) clean
	rm -rf dist js/pkg js/node_modules
