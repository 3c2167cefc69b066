//! `Policy::lint` on a rule's requirements (`unreachable-alternative`,
//! `allow-missing-forwards-claims`) and `Policy::lint_example` (`claim-never-carried`). Each
//! `unreachable-alternative` case is also checked against `Verifier::decide`: without the flagged
//! alternative (or its `allow_missing`) every request of a matrix gets the same decision, and
//! without any alternative the lint leaves alone, some request does not.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use edgeward::issuer::{PrivateJwk, jwks, sign_token};
use edgeward::{Algorithm, Finding, Request, Verifier};
use serde_json::{Value, json};
use std::sync::OnceLock;

const NOW: i64 = 2_000_000_000;

/// One ES256 key per provider: `a` (authorization, sets `x-bot-id` from `sub`), `b` (authorization,
/// no claim headers), `c` (its token in `x-c-token`).
fn keys() -> &'static [PrivateJwk; 3] {
    static KEYS: OnceLock<[PrivateJwk; 3]> = OnceLock::new();
    KEYS.get_or_init(|| ["a", "b", "c"].map(|kid| PrivateJwk::generate(Algorithm::ES256, Some(kid)).unwrap()))
}

fn policy_json(rules: Value) -> Value {
    let [a, b, c] = keys();
    json!({
        "providers": {
            "a": { "issuer": "https://a", "audiences": ["api"], "local_jwks": jwks(&[a]),
                   "claim_to_headers": [{ "claim_name": "sub", "header_name": "x-bot-id" }] },
            "b": { "issuer": "https://b", "audiences": ["api"], "local_jwks": jwks(&[b]) },
            "c": { "issuer": "https://c", "audiences": ["api"], "local_jwks": jwks(&[c]),
                   "from_headers": [{ "name": "x-c-token" }] }
        },
        "rules": rules
    })
}

fn verifier(policy: &Value) -> Verifier {
    Verifier::from_json(&policy.to_string()).unwrap()
}

/// A rule matching every request, with these alternatives.
fn any_of(alternatives: Value) -> Value {
    json!([{ "match": { "prefix": "/" }, "requires_any": alternatives }])
}

fn token(provider: usize, scope: &str, extra: Value) -> String {
    let issuer = ["https://a", "https://b", "https://c"][provider];
    let mut claims = json!({ "iss": issuer, "aud": "api", "sub": "bot", "iat": NOW, "exp": NOW + 60, "scope": scope });
    claims.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    sign_token(&keys()[provider], json!({ "alg": "ES256" }).as_object().unwrap(), claims.as_object().unwrap())
}

/// Requests that tell alternatives apart: no token, garbage, tokens of `a` and `b` with every
/// combination of the scopes `read`, `write` and a `client_id` of `bot-1`, `bot-2` or none, each
/// beside nothing, garbage or a token of `c` in `x-c-token`.
fn matrix() -> &'static Vec<Vec<(String, String)>> {
    static MATRIX: OnceLock<Vec<Vec<(String, String)>>> = OnceLock::new();
    MATRIX.get_or_init(|| {
        let mut main = vec![None, Some("garbage".to_owned())];
        for provider in [0, 1] {
            for scope in ["", "read", "write", "read write"] {
                for client in [json!({}), json!({ "client_id": "bot-1" }), json!({ "client_id": "bot-2" })] {
                    main.push(Some(token(provider, scope, client)));
                }
            }
        }
        let side = [None, Some("garbage".to_owned()), Some(token(2, "", json!({}))), Some(token(2, "read", json!({})))];
        let mut requests = Vec::new();
        for m in &main {
            for s in &side {
                let mut headers = Vec::new();
                if let Some(t) = m {
                    headers.push(("authorization".to_owned(), format!("Bearer {t}")));
                }
                if let Some(t) = s {
                    headers.push(("x-c-token".to_owned(), t.clone()));
                }
                requests.push(headers);
            }
        }
        requests
    })
}

/// Each request's decision (outcome and header changes), as `Debug` text.
fn decisions(policy: &Value) -> Vec<String> {
    let mut v = verifier(policy);
    matrix()
        .iter()
        .map(|headers| {
            let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            format!("{:?}", v.decide(&Request::new("GET", "/x", &pairs), NOW).outcome)
        })
        .collect()
}

fn of_kind<'a>(findings: &'a [Finding], kind: &str) -> Vec<&'a str> {
    findings.iter().filter(|f| f.kind == kind).map(|f| f.path.as_str()).collect()
}

/// The policy without what `path` (`rules[0].requires_any[k]` or `….allow_missing`) names.
fn without(policy: &Value, path: &str) -> Value {
    let mut edited = policy.clone();
    let rest = path.strip_prefix("rules[0].requires_any[").unwrap();
    let (k, rest) = rest.split_once(']').unwrap();
    let k: usize = k.parse().unwrap();
    let alternatives = edited["rules"][0]["requires_any"].as_array_mut().unwrap();
    match rest {
        "" => {
            alternatives.remove(k);
        }
        ".allow_missing" => alternatives[k]["allow_missing"] = json!(false),
        other => panic!("{other}"),
    }
    edited
}

#[test]
fn an_alternative_is_unreachable_exactly_when_an_earlier_one_always_decides_first() {
    let a = |extra: Value| {
        let mut r = json!({ "provider_name": "a" });
        r.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        r
    };
    let cases: Vec<(Value, Vec<&str>)> = vec![
        // Fewer scopes first: every token the later one admits, the earlier one does.
        (
            json!([a(json!({"scopes": ["read"]})), a(json!({"scopes": ["read", "write"]}))]),
            vec!["rules[0].requires_any[1]"],
        ),
        // A repeat.
        (json!([a(json!({"scopes": ["read"]})), a(json!({"scopes": ["read"]}))]), vec!["rules[0].requires_any[1]"]),
        // A weaker claim condition first (more values), the later one adding a scope.
        (
            json!([
                a(json!({"claims": {"client_id": ["bot-1", "bot-2"]}})),
                a(json!({"claims": {"client_id": ["bot-1"]}, "scopes": ["read"]}))
            ]),
            vec!["rules[0].requires_any[1]"],
        ),
        // No requirement at all first, with allow_missing: it decides every request of a.
        (json!([a(json!({"allow_missing": true})), a(json!({"scopes": ["read"]}))]), vec!["rules[0].requires_any[1]"]),
        (
            json!([a(json!({"allow_missing": true})), a(json!({"scopes": ["read"], "allow_missing": true}))]),
            vec!["rules[0].requires_any[1]"],
        ),
        (
            json!([a(json!({"scopes": ["read"], "allow_missing": true})), a(json!({"scopes": ["read", "write"]}))]),
            vec!["rules[0].requires_any[1]"],
        ),
        // Covered across another provider's alternative, and with the missing case taken by another one.
        (
            json!([a(json!({"scopes": ["read"]})), {"provider_name": "b"}, a(json!({"scopes": ["read", "write"]}))]),
            vec!["rules[0].requires_any[2]"],
        ),
        (
            json!([
                a(json!({"scopes": ["read"]})),
                a(json!({"scopes": ["write"], "allow_missing": true})),
                a(json!({"scopes": ["read", "write"], "allow_missing": true}))
            ]),
            vec!["rules[0].requires_any[2]"],
        ),
        // Only the later allow_missing is moot: b reads the same header as a, so a request without
        // b's token has no a token either and is let through by requires_any[0].
        (
            json!([a(json!({"allow_missing": true})), {"provider_name": "b", "scopes": ["read"], "allow_missing": true}]),
            vec!["rules[0].requires_any[1].allow_missing"],
        ),
        // Not unreachable: the later one admits a request without a token that the earlier refuses.
        (
            json!([a(json!({"scopes": ["read"]})), a(json!({"scopes": ["read", "write"], "allow_missing": true}))]),
            vec![],
        ),
        // Not unreachable: the earlier one asks for more.
        (json!([a(json!({"scopes": ["read", "write"]})), a(json!({"scopes": ["read"]}))]), vec![]),
        (json!([a(json!({"scopes": ["read"]})), a(json!({"scopes": ["write"]}))]), vec![]),
        // Not unreachable: the earlier one has a claim condition the later one lacks, or admits fewer values.
        (json!([a(json!({"claims": {"client_id": ["bot-1"]}})), a(json!({}))]), vec![]),
        (
            json!([
                a(json!({"claims": {"client_id": ["bot-1"]}})),
                a(json!({"claims": {"client_id": ["bot-1", "bot-2"]}}))
            ]),
            vec![],
        ),
        // Other providers are never compared; an earlier allow_missing only stops the missing case
        // when its provider finds no token wherever the later one finds none.
        (json!([a(json!({})), {"provider_name": "b"}]), vec![]),
        (json!([a(json!({"allow_missing": true})), {"provider_name": "b"}]), vec![]),
        (json!([{"provider_name": "c", "allow_missing": true}, a(json!({"allow_missing": true}))]), vec![]),
        (json!([a(json!({"allow_missing": true})), {"provider_name": "c", "allow_missing": true}]), vec![]),
    ];
    for (alternatives, expected) in cases {
        let policy = policy_json(any_of(alternatives.clone()));
        let findings = verifier(&policy).policy().lint();
        let found = of_kind(&findings, "unreachable-alternative");
        assert_eq!(found, expected, "{alternatives}: {findings:#?}");
        let before = decisions(&policy);
        for path in &found {
            assert!(decisions(&without(&policy, path)) == before, "{alternatives}: {path} decided a request");
        }
        // Every other alternative is the first to pass for some request: one the alternatives
        // before it refuse and it lets through (and, with allow_missing, only thanks to it).
        let list = alternatives.as_array().unwrap();
        let allowed = |alternatives: &[Value]| -> Vec<bool> {
            if alternatives.is_empty() {
                return vec![false; matrix().len()];
            }
            decisions(&policy_json(any_of(json!(alternatives)))).iter().map(|d| d.starts_with("Ok(")).collect()
        };
        for k in 0..list.len() {
            let at = format!("rules[0].requires_any[{k}]");
            if found.contains(&at.as_str()) {
                continue;
            }
            let (before, with) = (allowed(&list[..k]), allowed(&list[..=k]));
            let decided: Vec<usize> = (0..before.len()).filter(|&r| !before[r] && with[r]).collect();
            assert!(!decided.is_empty(), "{alternatives}: {at} decides no request");
            let flag = format!("{at}.allow_missing");
            if list[k]["allow_missing"] == json!(true) && !found.contains(&flag.as_str()) {
                let mut strict = list[..=k].to_vec();
                strict[k]["allow_missing"] = json!(false);
                let strict = allowed(&strict);
                assert!(decided.iter().any(|&r| !strict[r]), "{alternatives}: {flag} lets no request through");
            }
        }
    }
}

#[test]
fn unreachable_alternatives_are_named_and_explained() {
    let policy = policy_json(json!([
        { "match": { "prefix": "/x" }, "requires_any": [
            { "provider_name": "a", "scopes": ["read"] },
            { "provider_name": "a", "scopes": ["read"] },
            { "provider_name": "a", "scopes": ["write", "read"] }
        ]},
        { "match": { "prefix": "/y" }, "requires_any": [
            { "provider_name": "a", "allow_missing": true },
            { "provider_name": "b", "allow_missing": true }
        ]},
        // Never matches (rules[0] takes every request): its alternatives are not looked at.
        { "match": { "prefix": "/x/z" }, "requires_any": [
            { "provider_name": "a", "scopes": ["read"] },
            { "provider_name": "a", "scopes": ["read"] }
        ]},
        // One requirement has no alternative to be shadowed by.
        { "match": { "prefix": "/w" }, "requires": { "provider_name": "b", "scopes": ["read"] } }
    ]));
    let findings = verifier(&policy).policy().lint();
    let messages: Vec<(&str, &str)> = findings
        .iter()
        .filter(|f| f.kind == "unreachable-alternative")
        .map(|f| (f.path.as_str(), f.message.as_str()))
        .collect();
    assert_eq!(
        messages,
        [
            ("rules[0].requires_any[1]", "never decides a request: it repeats requires_any[0], which is tried first"),
            (
                "rules[0].requires_any[2]",
                "never decides a request: requires_any[0] is tried first and admits every token it would (same \
                 provider; its scopes and claim conditions are all among this one's)"
            ),
            (
                "rules[1].requires_any[1].allow_missing",
                "never takes effect: requires_any[0] is tried first and already lets every request without this \
                 provider's token through, so only requests with a token reach this alternative"
            ),
        ]
    );
    assert!(findings.iter().any(|f| f.kind == "shadowed-rule" && f.path == "rules[2]"), "{findings:#?}");
}

#[test]
fn allow_missing_on_a_route_that_forwards_claims_is_reported() {
    let lint = |rules: Value| {
        let findings = verifier(&policy_json(rules)).policy().lint();
        of_kind(&findings, "allow-missing-forwards-claims").into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let rule = |requires: Value| json!([{ "match": { "prefix": "/" }, "requires": requires }]);
    // a sets x-bot-id: the upstream sees requests with it and without it.
    assert_eq!(lint(rule(json!({ "provider_name": "a", "allow_missing": true }))), ["rules[0].requires.allow_missing"]);
    assert!(lint(rule(json!({ "provider_name": "a" }))).is_empty());
    // b sets no header: nothing to tell apart.
    assert!(lint(rule(json!({ "provider_name": "b", "allow_missing": true }))).is_empty());
    // Another alternative's provider sets it; a requires_any of one is named as written.
    assert_eq!(
        lint(any_of(json!([{ "provider_name": "b", "allow_missing": true }, { "provider_name": "a" }]))),
        ["rules[0].requires_any[0].allow_missing"]
    );
    assert_eq!(
        lint(any_of(json!([{ "provider_name": "a", "allow_missing": true }]))),
        ["rules[0].requires_any[0].allow_missing"]
    );
    // Not when the only forwarding alternative is unreachable, nor for a moot allow_missing.
    assert!(
        lint(any_of(
            json!([{ "provider_name": "b", "allow_missing": true }, { "provider_name": "b", "scopes": ["read"] }])
        ))
        .is_empty()
    );
    assert_eq!(
        lint(any_of(
            json!([{ "provider_name": "a", "allow_missing": true }, { "provider_name": "b", "scopes": ["read"], "allow_missing": true }])
        )),
        ["rules[0].requires_any[0].allow_missing"]
    );
    // What the finding says is so: the same route, with and without the header.
    let policy = policy_json(rule(json!({ "provider_name": "a", "allow_missing": true })));
    let mut v = verifier(&policy);
    let finding = v.policy().lint().into_iter().find(|f| f.kind == "allow-missing-forwards-claims").unwrap();
    assert_eq!(
        finding.message,
        "lets requests without a token through, so the upstream gets this route's requests with and without the claim \
         headers (x-bot-id): it must read a missing one as an anonymous caller (edgeward removes client copies on \
         every route, so one that is there comes from a verified token)"
    );
    let anonymous = v.decide_token("GET", "/x", None, NOW).outcome.unwrap();
    let bot = v.decide_token("GET", "/x", Some(&token(0, "", json!({}))), NOW).outcome.unwrap();
    assert!(anonymous.set.is_empty());
    assert_eq!(bot.set, [("x-bot-id".to_owned(), "bot".to_owned())]);
}

/// Providers `a` (sets `x-bot-id` from `sub`, `x-tenant` from `org.tenant`) and `b` (sets
/// `x-client` from `client_id`), with claim conditions on each.
fn example_policy() -> Verifier {
    let [a, b, _] = keys();
    verifier(&json!({
        "providers": {
            "a": { "issuer": "https://a", "audiences": ["api"], "local_jwks": jwks(&[a]),
                   "claim_to_headers": [{ "claim_name": "sub", "header_name": "x-bot-id" },
                                        { "claim_name": "org.tenant", "header_name": "x-tenant" }] },
            "b": { "issuer": "https://b", "audiences": ["api"], "local_jwks": jwks(&[b]),
                   "claim_to_headers": [{ "claim_name": "client_id", "header_name": "x-client" }] }
        },
        "rules": [
            { "match": { "prefix": "/orders" },
              "requires": { "provider_name": "a", "claims": { "client_id": ["bot-1"], "org.tenant": ["acme"] } } },
            { "match": { "prefix": "/reports" }, "requires_any": [
                { "provider_name": "b", "claims": { "azp": ["x"] } },
                { "provider_name": "a", "claims": { "roles": ["admin"] } }
            ]},
            // Shadowed by rules[0], and an unreachable alternative: neither is looked at.
            { "match": { "prefix": "/orders/old" }, "requires": { "provider_name": "a", "claims": { "legacy": [1] } } },
            { "match": { "prefix": "/admin" }, "requires_any": [
                { "provider_name": "a", "scopes": ["read"] },
                { "provider_name": "a", "scopes": ["read", "write"], "claims": { "unreached": [true] } }
            ]}
        ]
    }))
}

/// An example token of `issuer` with `claims`, signed by a key no provider has and expired long
/// ago: an example is decoded, never verified.
fn example(claims: Value) -> String {
    let stranger = PrivateJwk::generate(Algorithm::ES256, Some("stranger")).unwrap();
    let mut all = json!({ "aud": "elsewhere", "iat": 1, "exp": 2 });
    all.as_object_mut().unwrap().extend(claims.as_object().unwrap().clone());
    sign_token(&stranger, json!({ "alg": "ES256" }).as_object().unwrap(), all.as_object().unwrap())
}

#[test]
fn an_example_token_shows_the_claims_the_policy_relies_on_that_it_lacks() {
    let v = example_policy();
    let policy = v.policy();
    // Carries what rules[0] and a's headers need, not roles.
    let full =
        example(json!({ "iss": "https://a", "sub": "bot-9", "client_id": "bot-1", "org": { "tenant": "acme" } }));
    let findings = policy.lint_example(&full).unwrap();
    assert_eq!(of_kind(&findings, "claim-never-carried"), ["rules[1].requires_any[1].claims.roles"]);
    assert_eq!(
        findings[0].message,
        "the example token of providers.a has no `roles` claim: tokens like it are refused here (ERR_PRINCIPAL_DENIED)"
    );
    // A value that fails a condition is carried (checked per request, not here); only absence counts.
    let other_values = example(
        json!({ "iss": "https://a", "sub": "s", "client_id": "nobody", "org": { "tenant": "x" }, "roles": ["reader"] }),
    );
    assert!(policy.lint_example(&other_values).unwrap().is_empty());
    // Lacks nearly everything: `org` that is not an object has no `org.tenant`.
    let bare = example(json!({ "iss": "https://a", "org": "secret-org-value" }));
    let findings = policy.lint_example(&bare).unwrap();
    assert_eq!(
        of_kind(&findings, "claim-never-carried"),
        [
            "rules[0].requires.claims.client_id",
            "rules[0].requires.claims.org.tenant",
            "rules[1].requires_any[1].claims.roles",
            "providers.a.claim_to_headers[0].claim_name",
            "providers.a.claim_to_headers[1].claim_name",
        ]
    );
    assert_eq!(
        findings[4].message,
        "the example token has no `org.tenant` claim: requests with tokens like it reach the upstream without the \
         x-tenant header"
    );
    for f in &findings {
        assert!(!f.message.contains("secret-org-value") && !f.message.contains(&bare), "{f:?}");
    }
    // b's token: b's condition and header only.
    let theirs = example(json!({ "iss": "https://b" }));
    let findings = policy.lint_example(&theirs).unwrap();
    assert_eq!(
        of_kind(&findings, "claim-never-carried"),
        ["rules[1].requires_any[0].claims.azp", "providers.b.claim_to_headers[0].claim_name"]
    );
    // lint() alone never has this kind.
    assert!(of_kind(&policy.lint(), "claim-never-carried").is_empty());
}

#[test]
fn every_provider_of_the_examples_issuer_is_checked() {
    let [a, _, _] = keys();
    let v = verifier(&json!({
        "providers": {
            "one": { "issuer": "https://a", "audiences": ["api"], "local_jwks": jwks(&[a]) },
            "two": { "issuer": "https://a", "audiences": ["other"], "local_jwks": jwks(&[a]),
                     "claim_to_headers": [{ "claim_name": "tenant", "header_name": "x-tenant" }] }
        },
        "rules": [{ "match": { "prefix": "/" }, "requires_any": [
            { "provider_name": "one", "claims": { "client_id": ["x"] } },
            { "provider_name": "two" }
        ]}]
    }));
    let findings = v.policy().lint_example(&example(json!({ "iss": "https://a" }))).unwrap();
    assert_eq!(
        of_kind(&findings, "claim-never-carried"),
        ["rules[0].requires_any[0].claims.client_id", "providers.two.claim_to_headers[0].claim_name"]
    );
}

#[test]
fn an_example_token_must_decode_and_name_a_provider() {
    let v = example_policy();
    let policy = v.policy();
    let refused = |token: &str| {
        let error = policy.lint_example(token).unwrap_err();
        (error.code(), error.claim().map(str::to_owned), error.to_string())
    };
    let (code, claim, message) = refused(&example(json!({ "iss": "https://unknown-secret-issuer" })));
    assert_eq!((code, claim.as_deref()), ("ERR_JWT_CLAIM_VALIDATION_FAILED", Some("iss")));
    assert_eq!(message, "\"iss\" claim has an unexpected value (expected one of \"https://a\", \"https://b\")");
    let (code, claim, _) = refused(&example(json!({ "sub": "x" })));
    assert_eq!((code, claim.as_deref()), ("ERR_JWT_CLAIM_VALIDATION_FAILED", Some("iss")));
    assert_eq!(refused(&example(json!({ "iss": 7 }))).0, "ERR_JWT_INVALID");
    assert_eq!(refused("not-a-token").0, "ERR_JWT_INVALID");
    // As strict as verification: a duplicate member is refused.
    let header = edgeward::base64url::encode(br#"{"alg":"ES256"}"#);
    let payload = edgeward::base64url::encode(br#"{"iss":"https://a","iss":"https://b"}"#);
    assert_eq!(refused(&format!("{header}.{payload}.AAAA")).0, "ERR_JWT_INVALID");
}

#[test]
fn peers_count_in_what_an_alternative_admits() {
    const X: &str = "spiffe://example.org/x";
    const Y: &str = "spiffe://example.org/y";
    let found = |alternatives: Value| {
        let findings = verifier(&policy_json(any_of(alternatives))).policy().lint();
        of_kind(&findings, "unreachable-alternative").into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let a = |peers: Value| json!({ "provider_name": "a", "peers": peers });
    // Any peer first, or more peers first: it admits every request the later one would.
    assert_eq!(found(json!([{ "provider_name": "a" }, a(json!([X]))])), ["rules[0].requires_any[1]"]);
    assert_eq!(found(json!([a(json!([X, Y])), a(json!([X]))])), ["rules[0].requires_any[1]"]);
    // Fewer peers first: the later one admits a peer the earlier refuses.
    assert!(found(json!([a(json!([X])), a(json!([X, Y]))])).is_empty());
    assert!(found(json!([a(json!([X])), { "provider_name": "a" }])).is_empty());
}
