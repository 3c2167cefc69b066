#!/usr/bin/env python3
"""Writes BENCHMARKS.md from criterion's estimates (median of the samples, per verification)."""
import json, os, platform, subprocess, sys, datetime
from machine import cpu_model

root = sys.argv[1]
# Criterion results of the same cold benchmark built with `crate-verify` (before issue 5), if given.
before_root = sys.argv[2] if len(sys.argv) > 2 else None
algs = ["ES256", "ES384", "RS256", "PS256", "EdDSA"]
peers = ["jsonwebtoken_rust_crypto", "jsonwebtoken_aws_lc"]

def median_us(group, name, base=None):
    path = os.path.join(base or root, group, name, "new", "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)["median"]["point_estimate"] / 1000.0
    except OSError:
        return None

def fmt(v):
    return "—" if v is None else (f"{v:.2f}" if v < 10 else f"{v:.1f}")

def ratio(a, b):
    return "—" if a is None or b is None else f"{b / a:.2f}×"

cpu = cpu_model()
rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()

print("# Benchmarks\n")
print("Written by `make bench` (criterion, median of 20 samples). One run, one machine:")
print(f"{cpu}, {os.cpu_count()} cores, {rustc}, {datetime.date.today()}. These machines are noisy,")
print("so compare the ratios within a table, not absolute times across runs.\n")
print("## Native core: verification of one token (µs, lower is better)\n")
print("*cold*: a different token every call, cache off (full parse + signature + claims).")
print("*cache hit*: the same token again (the verified-token cache; time claims and scopes are still checked).")
print("Peers: the `jsonwebtoken` crate 12 with each crypto backend, same tokens and checks (alg, iss, aud, exp).")
print("A ratio above 1× means edgeward is faster.\n")
print("*before issue 5*: the same cold benchmark built with the core's `crate-verify` feature, i.e. the crates'")
print("own ES256 (`p256`) and RS256/PS256 (`rsa`) verify, in the same run (ES384 and EdDSA are the same code in both:")
print("their speed-up column shows the run's noise).\n")
print("| alg | edgeward cold | before issue 5 | speed-up | edgeward cache hit | jsonwebtoken rust_crypto | ratio | jsonwebtoken aws_lc_rs | ratio |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for alg in algs:
    cold = median_us(alg, "edgeward_cold")
    before = median_us(alg, "edgeward_cold", before_root) if before_root else None
    hit = median_us(alg, "edgeward_cache_hit")
    rc = median_us(alg, peers[0])
    aws = median_us(alg, peers[1])
    print(f"| {alg} | {fmt(cold)} | {fmt(before)} | {ratio(cold, before)} | {fmt(hit)} | {fmt(rc)} | {ratio(cold, rc)} | {fmt(aws)} | {ratio(cold, aws)} |")
print()

fast = [(name.split("/", 1)[1] if "/" in name else name, median_us("es256_signature", name))
        for name in ["p256_verify"] + [f"fast/w{w}" for w in range(4, 9)]]
if any(v is not None for _, v in fast):
    base = fast[0][1]
    print("## ES256 signature check alone: the table-based fast path against `p256`'s verify\n")
    print("The same signatures, one public key, in one run (`benches/benches/p256_fast.rs`). `wN` is the per-key")
    print("window width: wider windows need fewer additions and more table bytes per key (w=7 is the default).\n")
    print("| verifier | µs | speed-up over p256 | key load (µs) |")
    print("| --- | ---: | ---: | ---: |")
    for name, v in fast:
        load = median_us("es256_key_load", "p256_from_sec1" if name == "p256_verify" else "p256key/" + name)
        load_ms = fmt(load)
        print(f"| {name} | {fmt(v)} | {ratio(v, base)} | {load_ms} |")
    print()
rsa_rows = [(alg, median_us(f"{alg.lower()}_signature", "rsa_crate_verify"), median_us(f"{alg.lower()}_signature", "edgeward"))
            for alg in ["RS256", "PS256"]]
if any(v is not None for _, v, _ in rsa_rows):
    print("## RS256 / PS256 signature check alone: edgeward against the `rsa` crate's verify\n")
    print("The same 64 signatures of one 2048-bit key (`benches/benches/rsa_fast.rs`). The `rsa` crate runs its")
    print("constant-time 4-bit-window exponentiation (~35 Montgomery products for e = 65537); edgeward runs")
    print("square-and-multiply (17) on the same cached Montgomery parameters — public data only.\n")
    print("| alg | rsa crate verify µs | edgeward µs | speed-up |")
    print("| --- | ---: | ---: | ---: |")
    for alg, crate, ours in rsa_rows:
        print(f"| {alg} | {fmt(crate)} | {fmt(ours)} | {ratio(ours, crate)} |")
    print()
dpop = {name: median_us("DPoP", name) for name in ["bearer_cold", "dpop_known_key", "dpop_new_key"]}
if dpop["bearer_cold"] is not None:
    print("## DPoP against bearer: one request through `Verifier::decide` (µs, lower is better)\n")
    print("*bearer cold*: a fresh ES256 access token each request, cache off. *DPoP, known key*: the bound token")
    print("from the cache and a fresh ES256 proof under the bot's key, which the verifier keeps ready (its table")
    print("built once). *DPoP, new key*: a bot never seen, each request (the proof key's table built first).")
    print("The cost column is against the cold bearer request (the target: at most 1.3×). `benches/benches/dpop.rs`.\n")
    print("| request | µs | cost against bearer cold |")
    print("| --- | ---: | ---: |")
    base = dpop["bearer_cold"]
    for name, label in [("bearer_cold", "bearer cold"), ("dpop_known_key", "DPoP, known key"), ("dpop_new_key", "DPoP, new key")]:
        v = dpop[name]
        cost = f"{v / base:.2f}×" if v is not None and base else "—"
        print(f"| {label} | {fmt(v)} | {cost} |")
    print()
for extra in ["envoy/BENCHMARKS-envoy.md", "js/BENCHMARKS-node.md", "cli/BENCHMARKS-report.md", "cli/BENCHMARKS-scan.md"]:
    if os.path.exists(extra):
        print(f"## From `{extra}`\n")
        with open(extra) as f:
            body = f.read()
        # Demote the included file's headings one level.
        print("\n".join(("#" + l if l.startswith("#") else l) for l in body.splitlines()))
        print()
