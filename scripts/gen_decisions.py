#!/usr/bin/env python3
"""Writes N decision lines (docs/policy.md, "Decision record") for `make bench-report`, in the
format of src/record.rs: PRINCIPALS bots of one issuer over a day, three rules, ~8% refusals
(missing scope, no token, unmatched), some long-lived tokens. Deterministic (seeded).

    gen_decisions.py N PRINCIPALS > records.log
"""
import json, random, sys

n, principals = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(14)
ISS = "https://idp.bench"
START = 1_767_225_600  # 2026-01-01T00:00:00Z
GRANTS = ["read:orders", "read:orders write:orders", "read:orders write:orders admin:*", "read:invoices read:orders"]
out = sys.stdout
bots = [(f"bot-{i}", f"client-{i % 997}", GRANTS[i % len(GRANTS)], 7200 if i % 50 == 0 else 300) for i in range(principals)]
lines = []
for k in range(n):
    t = START + k * 86_400 // n
    ms = k % 1000
    h, m, s = t % 86_400 // 3600, t % 3600 // 60, t % 60
    time = f"2026-01-01T{h:02}:{m:02}:{s:02}.{ms:03}Z"
    roll = rng.random()
    if roll < 0.02:
        line = {"time": time, "rule": "orders-read", "method": "GET", "path": "/orders/1", "required_scopes": "read:orders",
                "code": "ERR_JWT_MISSING", "status": 401}
    elif roll < 0.03:
        line = {"time": time, "method": "GET", "path": "/nowhere", "code": "ERR_ROUTE_DENIED", "status": 403}
    else:
        sub, client, scopes, life = bots[rng.randrange(principals)]
        write = rng.random() < 0.2
        rule, required, method = ("orders-write", "write:orders", "POST") if write else ("orders-read", "read:orders", "GET")
        iat = t - rng.randrange(60)
        line = {"time": time, "provider": "idp", "iss": ISS, "sub": sub, "client_id": client, "rule": rule, "method": method,
                "path": f"/orders/{k % 10_000}", "scopes": scopes, "required_scopes": required, "iat": str(iat), "exp": str(iat + life)}
        if required not in scopes.split():
            line.update(code="ERR_SCOPE_INSUFFICIENT", status=403)
        else:
            line["status"] = 200
    lines.append(json.dumps(line, separators=(",", ":")))
    if len(lines) == 10_000:
        out.write("\n".join(lines) + "\n")
        lines = []
if lines:
    out.write("\n".join(lines) + "\n")
