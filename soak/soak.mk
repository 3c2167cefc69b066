# The soak (included by the root Makefile): Envoy with the filter and Node with `middleware`, under
# bounded wrk load with mixed traffic, against an IdP that rotates keys and misbehaves. See soak/README.md.
#   make soak          SOAK_SECONDS (default 600)
#   make soak-short    60 s, for `make test`

SOAK_SECONDS ?= 600

.PHONY: soak soak-short

soak: build-envoy build-js
	@$(SETUP) envoy wrk
	node --test soak/independent.test.mjs
	node soak/soak.mjs --seconds $(SOAK_SECONDS)

soak-short: build-envoy build-js
	@$(SETUP) envoy wrk
	node --test soak/independent.test.mjs
	node soak/soak.mjs --seconds 60
