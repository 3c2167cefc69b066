//! Policy loading (defaults, strictness, error paths), rule matching, token extraction, and
//! `Verifier::authorize` end to end with docs/policy.md's HTTP table ("Error codes").
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use edgeward::{
    Access, Algorithm, DEFAULT_CLOCK_SKEW_SECONDS, DEFAULT_MAX_LIFETIME_SECONDS, DEFAULT_MAX_TOKEN_BYTES,
    DEFAULT_METHOD_OVERRIDE_HEADERS, DEFAULT_TOKEN_CACHE_SIZE, Error, HeaderSource, PathMatch, Policy, REALM,
    RETRY_AFTER_SECONDS, Route, Verifier,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use support::*;

/// The smallest valid policy: one provider with inline keys, no rules.
fn minimal() -> Value {
    json!({
        "providers": {
            "corp-idp": {
                "issuer": ISSUER,
                "audiences": [AUDIENCE],
                "local_jwks": { "keys": [RFC7515_A3_KEY.clone()] }
            }
        }
    })
}

/// The P-256 public key of RFC 7515 A.3: a real point, so the minimal policy has a usable key.
static RFC7515_A3_KEY: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| {
    json!({
        "kty": "EC", "crv": "P-256",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
    })
});

fn load(doc: &Value) -> Result<Policy, Error> {
    Policy::from_json(&doc.to_string())
}

/// Asserts that `doc` is refused with `ERR_POLICY_INVALID` at `path`.
#[track_caller]
fn assert_policy_refused(doc: &Value, path: &str) -> Error {
    let err = load(doc).expect_err("the policy must be refused");
    assert_eq!(err.code(), "ERR_POLICY_INVALID", "{err}");
    assert_eq!(err.path(), Some(path), "{err}");
    // The Display names the path too (the CLI and the filter print it).
    assert!(err.to_string().contains(path), "{err}");
    // And building a verifier from it fails the same way.
    assert_eq!(Verifier::from_json(&doc.to_string()).unwrap_err(), err);
    err
}

fn with(mut doc: Value, pointer: &str, value: Value) -> Value {
    set(&mut doc, pointer, value);
    doc
}

fn without(mut doc: Value, pointer: &str) -> Value {
    let (parent, name) = pointer.rsplit_once('/').unwrap();
    doc.pointer_mut(parent).unwrap().as_object_mut().unwrap().remove(name);
    doc
}

// ---- loading ----

#[test]
fn defaults() {
    let policy = load(&minimal()).unwrap();
    assert_eq!(policy.providers.len(), 1);
    let p = &policy.providers[0];
    assert_eq!(p.name, "corp-idp");
    assert_eq!(p.algorithms, [Algorithm::ES256]);
    assert_eq!(p.clock_skew_seconds, DEFAULT_CLOCK_SKEW_SECONDS);
    assert_eq!(DEFAULT_CLOCK_SKEW_SECONDS, 30);
    assert_eq!(p.max_lifetime_seconds, Some(DEFAULT_MAX_LIFETIME_SECONDS));
    assert_eq!(DEFAULT_MAX_LIFETIME_SECONDS, 3600);
    assert!(p.max_lifetime_is_default);
    assert_eq!(p.token_types, None);
    assert!(p.required_claims.is_empty());
    assert_eq!(p.from_headers, [HeaderSource { name: "authorization".into(), value_prefix: Some("Bearer ".into()) }]);
    assert!(!p.forward);
    assert!(p.claim_to_headers.is_empty());
    assert!(p.remote_jwks.is_none());
    assert!(policy.deny_wildcard_scopes, "secure by default");
    assert_eq!(policy.method_override_headers, DEFAULT_METHOD_OVERRIDE_HEADERS);
    assert_eq!(policy.token_cache_size, DEFAULT_TOKEN_CACHE_SIZE);
    assert!(policy.token_cache_size > 0);
    assert_eq!(policy.max_token_bytes, DEFAULT_MAX_TOKEN_BYTES);
    assert!(policy.rules.is_empty());
    // remote_jwks defaults.
    let doc = with(
        without(minimal(), "/providers/corp-idp/local_jwks"),
        "/providers/corp-idp/remote_jwks",
        json!({ "uri": "https://idp.example.com/jwks.json" }),
    );
    let remote = load(&doc).unwrap().providers[0].remote_jwks.clone().unwrap();
    assert_eq!((remote.cluster, remote.cache_duration_seconds, remote.timeout_ms), (None, 300, 2000));
}

#[test]
fn design_md_example_loads() {
    let k = keys();
    let example = json!({
      "providers": {
        "corp-idp": {
          "issuer": "https://idp.example.com",
          "audiences": ["orders-api"],
          "algorithms": ["ES256"],
          "local_jwks": edgeward::issuer::jwks(&[&k.es256]),
          "remote_jwks": { "cluster": "idp", "uri": "https://idp.example.com/jwks.json", "cache_duration_seconds": 300, "timeout_ms": 2000 },
          "clock_skew_seconds": 30,
          "max_lifetime_seconds": 3600,
          "token_types": ["at+jwt", "JWT"],
          "required_claims": ["sub"],
          "from_headers": [ { "name": "authorization", "value_prefix": "Bearer " } ],
          "forward": false,
          "claim_to_headers": [ { "claim_name": "sub", "header_name": "x-bot-id" } ]
        }
      },
      "rules": [
        { "match": { "prefix": "/healthz" } },
        { "match": { "prefix": "/orders", "methods": ["GET"] }, "requires": { "provider_name": "corp-idp", "scopes": ["read:orders"] } },
        { "match": { "prefix": "/orders" }, "requires": { "provider_name": "corp-idp", "scopes": ["write:order_status"] } }
      ],
      "deny_wildcard_scopes": true,
      "token_cache_size": 4096
    });
    let policy = load(&example).unwrap();
    let p = &policy.providers[0];
    assert_eq!(p.max_lifetime_seconds, Some(3600));
    assert_eq!(p.token_types.as_deref(), Some(&["at+jwt".to_owned(), "JWT".to_owned()][..]));
    assert_eq!(p.claim_to_headers[0].header_name, "x-bot-id");
    assert_eq!(p.local_jwks.as_ref().unwrap().keys().len(), 1);
    assert_eq!(policy.rules.len(), 3);
    assert!(policy.deny_wildcard_scopes);
}

#[test]
fn unknown_fields_refused_with_their_path() {
    assert_policy_refused(&with(minimal(), "/extra", json!(1)), "extra");
    assert_policy_refused(&with(minimal(), "/providers/corp-idp/audience", json!("x")), "providers.corp-idp.audience");
    assert_policy_refused(&with(minimal(), "/providers/corp-idp/clockSkew", json!(1)), "providers.corp-idp.clockSkew");
    let remote = json!({ "uri": "https://idp.example.com/jwks", "refresh": 1 });
    assert_policy_refused(
        &with(minimal(), "/providers/corp-idp/remote_jwks", remote),
        "providers.corp-idp.remote_jwks.refresh",
    );
    let headers = json!([{ "name": "authorization", "value_prefix": "Bearer ", "prefix": "x" }]);
    assert_policy_refused(
        &with(minimal(), "/providers/corp-idp/from_headers", headers),
        "providers.corp-idp.from_headers[0].prefix",
    );
    let claim_headers = json!([{ "claim_name": "sub", "header_name": "x-bot", "x": 1 }]);
    assert_policy_refused(
        &with(minimal(), "/providers/corp-idp/claim_to_headers", claim_headers),
        "providers.corp-idp.claim_to_headers[0].x",
    );
    let rules = json!([{ "match": { "prefix": "/" } }, { "match": { "prefix": "/a", "regex": ".*" } }]);
    assert_policy_refused(&with(minimal(), "/rules", rules), "rules[1].match.regex");
    let rules = json!([{ "match": { "prefix": "/" }, "requires": { "provider_name": "corp-idp", "scope": ["a"] } }]);
    assert_policy_refused(&with(minimal(), "/rules", rules), "rules[0].requires.scope");
    let rules = json!([{ "match": { "prefix": "/" }, "allow": true }]);
    assert_policy_refused(&with(minimal(), "/rules", rules), "rules[0].allow");
}

#[test]
fn wrong_types_name_the_path() {
    let cases = [
        ("/providers/corp-idp/audiences", json!([1]), "providers.corp-idp.audiences[0]"),
        ("/providers/corp-idp/audiences", json!(["a", null]), "providers.corp-idp.audiences[1]"),
        ("/providers/corp-idp/audiences", json!("orders-api"), "providers.corp-idp.audiences"),
        ("/providers/corp-idp/issuer", json!(1), "providers.corp-idp.issuer"),
        ("/providers/corp-idp/algorithms", json!(["ES256", "none"]), "providers.corp-idp.algorithms[1]"),
        ("/providers/corp-idp/algorithms", json!(["es256"]), "providers.corp-idp.algorithms[0]"),
        ("/providers/corp-idp/algorithms", json!(["HS256"]), "providers.corp-idp.algorithms[0]"),
        ("/providers/corp-idp/clock_skew_seconds", json!("30"), "providers.corp-idp.clock_skew_seconds"),
        ("/providers/corp-idp/clock_skew_seconds", json!(-1), "providers.corp-idp.clock_skew_seconds"),
        ("/providers/corp-idp/clock_skew_seconds", json!(1.5), "providers.corp-idp.clock_skew_seconds"),
        ("/providers/corp-idp/max_lifetime_seconds", json!(true), "providers.corp-idp.max_lifetime_seconds"),
        ("/providers/corp-idp/forward", json!("yes"), "providers.corp-idp.forward"),
        ("/providers/corp-idp/token_types", json!("at+jwt"), "providers.corp-idp.token_types"),
        ("/providers/corp-idp/required_claims", json!([["sub"]]), "providers.corp-idp.required_claims[0]"),
        ("/deny_wildcard_scopes", json!(1), "deny_wildcard_scopes"),
        ("/token_cache_size", json!(-1), "token_cache_size"),
        ("/rules", json!({}), "rules"),
    ];
    for (pointer, value, path) in cases {
        assert_policy_refused(&with(minimal(), pointer, value), path);
    }
    let rules = json!([{ "match": { "prefix": "/", "methods": ["GET", 1] } }]);
    assert_policy_refused(&with(minimal(), "/rules", rules), "rules[0].match.methods[1]");
    let rules = json!([{ "match": { "prefix": 1 } }]);
    assert_policy_refused(&with(minimal(), "/rules", rules), "rules[0].match.prefix");
}

#[test]
fn required_fields_and_impossible_values() {
    assert_policy_refused(&without(minimal(), "/providers/corp-idp/issuer"), "providers.corp-idp.issuer");
    assert_policy_refused(&without(minimal(), "/providers/corp-idp/audiences"), "providers.corp-idp.audiences");
    assert_policy_refused(&without(minimal(), "/providers/corp-idp/local_jwks"), "providers.corp-idp");
    assert_policy_refused(&without(minimal(), "/providers"), "providers");
    assert_policy_refused(&with(minimal(), "/providers", json!({})), "providers");
    for (pointer, value, path) in [
        ("/providers/corp-idp/issuer", json!(""), "providers.corp-idp.issuer"),
        ("/providers/corp-idp/audiences", json!([]), "providers.corp-idp.audiences"),
        ("/providers/corp-idp/audiences", json!(["a", ""]), "providers.corp-idp.audiences[1]"),
        ("/providers/corp-idp/algorithms", json!([]), "providers.corp-idp.algorithms"),
        ("/providers/corp-idp/clock_skew_seconds", json!(86_401), "providers.corp-idp.clock_skew_seconds"),
        ("/providers/corp-idp/max_lifetime_seconds", json!(0), "providers.corp-idp.max_lifetime_seconds"),
        ("/providers/corp-idp/token_types", json!([]), "providers.corp-idp.token_types"),
        ("/providers/corp-idp/from_headers", json!([]), "providers.corp-idp.from_headers"),
        (
            "/providers/corp-idp/from_headers",
            json!([{ "name": "bad header" }]),
            "providers.corp-idp.from_headers[0].name",
        ),
        ("/token_cache_size", json!(edgeward::MAX_TOKEN_CACHE_SIZE + 1), "token_cache_size"),
        ("/max_token_bytes", json!(0), "max_token_bytes"),
    ] {
        assert_policy_refused(&with(minimal(), pointer, value), path);
    }
    // claim_to_headers may not overwrite the token's own header.
    let c2h = json!([{ "claim_name": "sub", "header_name": "Authorization" }]);
    assert_policy_refused(
        &with(minimal(), "/providers/corp-idp/claim_to_headers", c2h),
        "providers.corp-idp.claim_to_headers[0].header_name",
    );
}

#[test]
fn rules_referencing_unknown_providers_refused() {
    let rules = json!([
        { "match": { "prefix": "/healthz" } },
        { "match": { "prefix": "/orders" }, "requires": { "provider_name": "corp-idq" } }
    ]);
    let err = assert_policy_refused(&with(minimal(), "/rules", rules), "rules[1].requires.provider_name");
    assert!(err.to_string().contains("corp-idq"));
    // Provider names match exactly.
    let rules = json!([{ "match": { "prefix": "/" }, "requires": { "provider_name": "Corp-IdP" } }]);
    assert_policy_refused(&with(minimal(), "/rules", rules), "rules[0].requires.provider_name");
}

#[test]
fn bad_rules_refused_at_load() {
    let bad = [
        (json!({ "match": {} }), "rules[0].match"),
        (json!({ "match": { "prefix": "/a", "path": "/a" } }), "rules[0].match"),
        (json!({ "match": { "prefix": "a" } }), "rules[0].match.prefix"),
        (json!({ "match": { "path": "" } }), "rules[0].match.path"),
        (json!({ "match": { "prefix": "/", "methods": [] } }), "rules[0].match.methods"),
        (json!({ "match": { "prefix": "/", "methods": ["get"] } }), "rules[0].match.methods[0]"),
        (json!({ "match": { "prefix": "/", "methods": ["GET POST"] } }), "rules[0].match.methods[0]"),
        (
            json!({ "match": { "prefix": "/" }, "requires": { "provider_name": "corp-idp", "scopes": ["a b"] } }),
            "rules[0].requires.scopes[0]",
        ),
        (
            json!({ "match": { "prefix": "/" }, "requires": { "provider_name": "corp-idp", "scopes": [""] } }),
            "rules[0].requires.scopes[0]",
        ),
        (json!({ "requires": { "provider_name": "corp-idp" } }), "rules[0].match"),
    ];
    for (rule, path) in bad {
        assert_policy_refused(&with(minimal(), "/rules", json!([rule])), path);
    }
}

#[test]
fn bad_local_jwks_refused_at_load() {
    let k = keys();
    let mut off_curve = k.es256.public_jwk();
    let mut y = edgeward::base64url::decode(off_curve["y"].as_str().unwrap()).unwrap();
    y[0] ^= 0x40;
    off_curve["y"] = json!(edgeward::base64url::encode(&y));
    let cases = [
        (json!({ "keys": [k.es256.to_json()] }), "providers.corp-idp.local_jwks.keys[0].d"),
        (json!({ "keys": [off_curve] }), "providers.corp-idp.local_jwks.keys[0]"),
        (
            json!({ "keys": [{ "kty": "EC", "crv": "P-256", "x": "AA" , "y": "AA" }] }),
            "providers.corp-idp.local_jwks.keys[0].x",
        ),
        (json!({ "keys": [{ "crv": "P-256" }] }), "providers.corp-idp.local_jwks.keys[0].kty"),
        (json!({ "keys": [1] }), "providers.corp-idp.local_jwks.keys[0]"),
        (json!({ "keys": {} }), "providers.corp-idp.local_jwks.keys"),
        (json!({}), "providers.corp-idp.local_jwks.keys"),
        (json!([]), "providers.corp-idp.local_jwks"),
    ];
    for (jwks, path) in cases {
        assert_policy_refused(&with(minimal(), "/providers/corp-idp/local_jwks", jwks), path);
    }
    // Keys no allowed algorithm can use are skipped, not fatal: an RSA key (even a short one)
    // and an off-curve P-384 key, under the default ES256-only list.
    let mut rsa_short = k.rs256.public_jwk();
    rsa_short["n"] = json!("AQAB");
    let mut p384_bad = k.es384.public_jwk();
    p384_bad["y"] = p384_bad["x"].clone();
    let jwks = json!({ "keys": [rsa_short, p384_bad, { "kty": "oct", "k": "c2VjcmV0" }, { "kty": "EC", "crv": "P-521" }, k.es256.public_jwk()] });
    let policy = load(&with(minimal(), "/providers/corp-idp/local_jwks", jwks)).unwrap();
    let set = policy.providers[0].local_jwks.as_ref().unwrap();
    assert_eq!((set.keys().len(), set.skipped()), (1, 4));
}

#[test]
fn policy_documents_are_read_strictly() {
    for text in [
        "",
        "null",
        "[]",
        "{",
        "\u{feff}{\"providers\":{}}",
        r#"{"providers":{"a":{}},"providers":{}}"#,
        r#"{"providers":{"corp-idp":{"issuer":"a","issuer":"b","audiences":["x"],"local_jwks":{"keys":[]}}}}"#,
    ] {
        let err = Policy::from_json(text).unwrap_err();
        assert_eq!(err.code(), "ERR_POLICY_INVALID", "{text:?}");
    }
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert_eq!(Policy::from_json(&deep).unwrap_err().code(), "ERR_POLICY_INVALID");
}

// ---- rule matching ----

fn rules_policy(rules: Value) -> Policy {
    load(&with(minimal(), "/rules", rules)).unwrap()
}

/// What the policy decides: "public", the required scopes joined by spaces, or the error code.
fn decide(policy: &Policy, method: &str, path: &str) -> String {
    match policy.route(method, path) {
        Ok(Route::Public) => "public".to_owned(),
        Ok(Route::Protected(alternatives)) => format!("needs[{}]", alternatives[0].scopes.join(" ")),
        Err(e) => e.code().to_owned(),
    }
}

const DENIED: &str = "ERR_ROUTE_DENIED";

fn design_rules() -> Policy {
    rules_policy(json!([
        { "match": { "prefix": "/healthz" } },
        { "match": { "prefix": "/orders", "methods": ["GET"] },
          "requires": { "provider_name": "corp-idp", "scopes": ["read:orders"] } },
        { "match": { "prefix": "/orders" },
          "requires": { "provider_name": "corp-idp", "scopes": ["write:order_status"] } },
        { "match": { "path": "/status" } }
    ]))
}

#[test]
fn prefix_exact_methods_and_first_match() {
    let p = design_rules();
    for (method, path, want) in [
        ("GET", "/healthz", "public"),
        ("POST", "/healthz/deep", "public"),
        ("GET", "/orders", "needs[read:orders]"),
        ("GET", "/orders/42", "needs[read:orders]"),
        // HEAD is served by GET handlers: it needs what GET needs.
        ("HEAD", "/orders/42", "needs[read:orders]"),
        ("POST", "/orders", "needs[write:order_status]"),
        ("DELETE", "/orders/42", "needs[write:order_status]"),
        // Methods match exactly (case-sensitive).
        ("get", "/orders", "needs[write:order_status]"),
        // Exact path: nothing more, nothing less, but one trailing slash (servers route both alike).
        ("GET", "/status", "public"),
        ("GET", "/status/", "public"),
        ("GET", "/status//", DENIED),
        ("GET", "/status/x", DENIED),
        ("GET", "/statusx", DENIED),
        // No rule matches: denied by default.
        ("GET", "/", DENIED),
        ("GET", "/admin", DENIED),
        ("GET", "/Orders", DENIED),
        ("GET", "/HEALTHZ", DENIED),
        // Percent-encoded unreserved characters are decoded before matching (RFC 3986 §6.2.2.2).
        ("GET", "/%6frders", "needs[read:orders]"),
        ("GET", "/%6Frders/%34%32", "needs[read:orders]"),
        ("GET", "/%68ealthz", "public"),
        ("GET", "/orders%20x", "needs[read:orders]"),
        ("GET", "", DENIED),
        ("GET", "orders", DENIED),
    ] {
        assert_eq!(decide(&p, method, path), want, "{method} {path}");
    }
    // First match wins: a public rule listed first shadows a protected one.
    let p = rules_policy(json!([
        { "match": { "prefix": "/orders/public" } },
        { "match": { "prefix": "/orders" }, "requires": { "provider_name": "corp-idp", "scopes": ["a"] } },
        { "match": { "prefix": "/orders/public/secret" }, "requires": { "provider_name": "corp-idp" } }
    ]));
    assert_eq!(decide(&p, "GET", "/orders/public/secret"), "public");
    assert_eq!(decide(&p, "GET", "/orders/x"), "needs[a]");
    // No rules at all: everything is denied.
    let p = rules_policy(json!([]));
    assert_eq!(decide(&p, "GET", "/"), DENIED);
}

#[test]
fn query_string_ignored() {
    let p = design_rules();
    assert_eq!(decide(&p, "GET", "/healthz?x=1"), "public");
    assert_eq!(decide(&p, "GET", "/status?full=true"), "public");
    assert_eq!(decide(&p, "GET", "/status#frag"), "public");
    // The query cannot make a path look like another one.
    assert_eq!(decide(&p, "GET", "/orders?/healthz"), "needs[read:orders]");
    assert_eq!(decide(&p, "GET", "/admin?path=/healthz"), DENIED);
    assert_eq!(decide(&p, "GET", "/?/healthz"), DENIED);
    assert_eq!(decide(&p, "GET", "/orders?x=../healthz"), "needs[read:orders]");
}

#[test]
fn dot_segments_and_encoded_slashes_denied() {
    // A path an upstream could read differently from the rules is refused, whatever the rules.
    let p = rules_policy(json!([
        { "match": { "prefix": "/healthz" } },
        { "match": { "prefix": "/public" } },
        { "match": { "prefix": "/" }, "requires": { "provider_name": "corp-idp" } }
    ]));
    for path in [
        "/healthz/../orders",
        "/healthz/..",
        "/healthz/./x",
        "/./healthz",
        "/healthz/%2e%2e/orders",
        "/healthz/%2E%2E/orders",
        "/healthz/.%2e/orders",
        "/healthz%2f..%2forders",
        "/healthz%2F..%2Forders",
        "/healthz%5c..%5corders",
        "/healthz\\..\\orders",
        "/healthz/..\\orders",
        "/healthz\u{0000}/x",
        "/healthz\n/x",
        "/healthz /x",
        "/public/%2e",
    ] {
        assert_eq!(decide(&p, "GET", path), DENIED, "{path:?}");
    }
    // Ordinary dots and percent-escapes are fine.
    for path in ["/healthz/v1.2", "/public/file.tar.gz", "/public/a%20b", "/public/...", "/public/.well-known"] {
        assert_eq!(decide(&p, "GET", path), "public", "{path:?}");
    }
}

#[test]
fn paths_with_empty_or_parameter_dot_segments_denied() {
    // `//orders` and `/healthz/..;/orders` are not normal paths: many upstreams merge slashes
    // or treat `..;` as `..` (Tomcat), so a public rule must not match them.
    let p = rules_policy(json!([
        { "match": { "prefix": "/orders" }, "requires": { "provider_name": "corp-idp" } },
        { "match": { "prefix": "/" } }
    ]));
    assert_eq!(decide(&p, "GET", "/orders"), "needs[]");
    assert_eq!(decide(&p, "GET", "/"), "public");
    assert_eq!(decide(&p, "GET", "/healthz/"), "public");
    for path in ["//orders", "/x//orders", "/healthz/..;/orders", "/healthz/.;x/orders", "/a/..;jsessionid=1/orders"] {
        assert_eq!(decide(&p, "GET", path), DENIED, "{path:?}");
    }
}

// ---- token extraction ----

fn headers(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn extract(provider_doc: Value, request: &[(&str, &str)]) -> Option<String> {
    let policy = load(&with(minimal(), "/providers/corp-idp", provider_doc)).unwrap();
    let map = headers(request);
    policy.providers[0].extract_token(|name| map.get(name).cloned())
}

fn provider_doc(extra: Value) -> Value {
    let mut doc =
        json!({ "issuer": ISSUER, "audiences": [AUDIENCE], "local_jwks": { "keys": [RFC7515_A3_KEY.clone()] } });
    doc.as_object_mut().unwrap().extend(obj(extra));
    doc
}

#[test]
fn extract_token_default_bearer() {
    let doc = provider_doc(json!({}));
    for (value, want) in [
        ("Bearer abc.def.ghi", Some("abc.def.ghi")),
        ("bearer abc", Some("abc")),
        ("BEARER abc", Some("abc")),
        ("BeArEr abc", Some("abc")),
        // Only the prefix is removed: the core sees the rest exactly (and refuses the space).
        ("Bearer  abc", Some(" abc")),
        ("Bearer abc ", Some("abc ")),
        ("Bearer ", None),
        ("Bearer", None),
        ("Basic YWxhZGRpbjpvcGVuc2VzYW1l", None),
        ("Bearerabc", None),
        ("abc.def.ghi", None),
        ("", None),
        ("Bé", None),
    ] {
        assert_eq!(extract(doc.clone(), &[("authorization", value)]).as_deref(), want, "{value:?}");
    }
    assert_eq!(extract(doc.clone(), &[]), None);
    // The lookup is by lowercase name; the host folds header names.
    assert_eq!(extract(doc, &[("Authorization", "Bearer abc")]), None);
}

#[test]
fn extract_token_custom_headers() {
    let doc = provider_doc(json!({ "from_headers": [
        { "name": "X-Bot-Token" },
        { "name": "authorization", "value_prefix": "Token " }
    ] }));
    assert_eq!(extract(doc.clone(), &[("x-bot-token", "abc")]).as_deref(), Some("abc"));
    assert_eq!(extract(doc.clone(), &[("authorization", "token xyz")]).as_deref(), Some("xyz"));
    // The first source present wins.
    assert_eq!(extract(doc.clone(), &[("x-bot-token", "abc"), ("authorization", "Token xyz")]).as_deref(), Some("abc"));
    // A source whose prefix does not match is passed over.
    assert_eq!(extract(doc.clone(), &[("authorization", "Bearer xyz")]), None);
    // An empty header counts as none, so the next source is tried.
    assert_eq!(extract(doc.clone(), &[("x-bot-token", ""), ("authorization", "Token xyz")]).as_deref(), Some("xyz"));
    assert_eq!(extract(doc, &[]), None);
}

// ---- authorize end to end ----

fn request<'a>(pairs: &'a [(&'a str, &'a str)]) -> &'a [(&'a str, &'a str)] {
    pairs
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[test]
fn authorize_public_and_granted() {
    let mut v = default_verifier();
    assert_eq!(v.authorize("GET", "/healthz", request(&[]), NOW).unwrap(), Access::Public);
    let t = token(&keys().es256, &claims());
    let auth = bearer(&t);
    match v.authorize("GET", "/orders/1", request(&[("authorization", &auth)]), NOW).unwrap() {
        Access::Granted(verified) => {
            assert_eq!(verified.provider, PROVIDER);
            assert_eq!(verified.claim_header_value("sub").as_deref(), Some("bot-7"));
            assert_eq!(verified.claim_header_value("iat").as_deref(), Some("1999999940"));
            assert_eq!(verified.claim_header_value("missing"), None);
        }
        Access::Public => panic!("the rule needs a token"),
    }
    assert!(matches!(
        v.authorize("POST", "/orders/1", request(&[("authorization", &auth)]), NOW),
        Ok(Access::Granted(_))
    ));
}

#[test]
fn authorize_denials_follow_the_http_table() {
    let mut v = default_verifier();
    let realm = format!(r#"Bearer realm="{REALM}""#);
    let invalid = format!(r#"Bearer realm="{REALM}", error="invalid_token""#);

    // No token: 401 with a bare challenge.
    let err = v.authorize("GET", "/orders", request(&[]), NOW).unwrap_err();
    assert_eq!(err, Error::Missing);
    let d = err.denial();
    assert_eq!((d.status, d.www_authenticate.as_deref(), d.code), (401, Some(realm.as_str()), "ERR_JWT_MISSING"));
    assert!(!d.www_authenticate.unwrap().contains("error="));
    let err = v.authorize("GET", "/orders", request(&[("authorization", "Basic dXNlcjpwYXNz")]), NOW).unwrap_err();
    assert_eq!(err.code(), "ERR_JWT_MISSING");

    // A bad token: 401 invalid_token, for every kind of token failure.
    let expired = token(&keys().es256, &claims_with(json!({ "exp": NOW - 100 })));
    let wrong_aud = token(&keys().es256, &claims_with(json!({ "aud": "other" })));
    for (t, code) in [
        ("not-a-token".to_owned(), "ERR_JWT_INVALID"),
        (expired, "ERR_JWT_EXPIRED"),
        (wrong_aud, "ERR_JWT_CLAIM_VALIDATION_FAILED"),
        (token(&keys().es256_second, &claims()), "ERR_JWKS_NO_MATCHING_KEY"),
    ] {
        let auth = bearer(&t);
        let err = v.authorize("GET", "/orders", request(&[("authorization", &auth)]), NOW).unwrap_err();
        assert_eq!(err.code(), code);
        let d = err.denial();
        assert_eq!((d.status, d.www_authenticate.as_deref(), d.error), (401, Some(invalid.as_str()), "invalid_token"));
        assert_eq!(d.body(), format!(r#"{{"error":"invalid_token","code":"{code}"}}"#));
        assert!(!d.body().contains(&t) && !d.www_authenticate.unwrap().contains(&t));
    }

    // A valid token without the route's scope: 403 insufficient_scope with the scope needed.
    let narrow = token(&keys().es256, &claims_with(json!({ "scope": "read:orders" })));
    let auth = bearer(&narrow);
    assert!(v.authorize("GET", "/orders", request(&[("authorization", &auth)]), NOW).is_ok());
    let err = v.authorize("POST", "/orders", request(&[("authorization", &auth)]), NOW).unwrap_err();
    assert_eq!(err, Error::InsufficientScope { needed: vec!["write:order_status".into()] });
    let d = err.denial();
    assert_eq!(d.status, 403);
    assert_eq!(
        d.www_authenticate.as_deref(),
        Some(r#"Bearer realm="edgeward", error="insufficient_scope", scope="write:order_status""#)
    );
    assert_eq!(d.body(), r#"{"error":"insufficient_scope","code":"ERR_SCOPE_INSUFFICIENT"}"#);

    // The scope hint is only for callers whose token verified: an expired token lacking the
    // scope is an invalid token.
    let expired_narrow = token(&keys().es256, &claims_with(json!({ "scope": "read:orders", "exp": NOW - 100 })));
    let auth = bearer(&expired_narrow);
    let err = v.authorize("POST", "/orders", request(&[("authorization", &auth)]), NOW).unwrap_err();
    assert_eq!(err.code(), "ERR_JWT_EXPIRED");
    assert!(!err.denial().www_authenticate.unwrap().contains("scope="));

    // No rule: 403 without a challenge, token or not.
    let good = bearer(&token(&keys().es256, &claims()));
    for req in [&[][..], &[("authorization", good.as_str())][..]] {
        let err = v.authorize("GET", "/admin", request(req), NOW).unwrap_err();
        let d = err.denial();
        assert_eq!((d.status, d.www_authenticate, d.code), (403, None, "ERR_ROUTE_DENIED"));
    }
    let err = v.authorize("GET", "/healthz/../orders", request(&[]), NOW).unwrap_err();
    assert_eq!(err.denial().status, 403);

    // Wildcards, when refused: 401 invalid_token.
    let mut policy = policy_json();
    set(&mut policy, "/deny_wildcard_scopes", json!(true));
    let mut strict = verifier(&policy);
    let auth = bearer(&token(&keys().es256, &claims_with(json!({ "scope": "read:*" }))));
    let err = strict.authorize("GET", "/orders", request(&[("authorization", &auth)]), NOW).unwrap_err();
    assert_eq!((err.code(), err.denial().status), ("ERR_SCOPE_WILDCARD", 401));
}

#[test]
fn authorize_without_keys_is_503() {
    let mut provider = provider_json(all_jwks());
    provider.as_object_mut().unwrap().remove("local_jwks");
    set(&mut provider, "/remote_jwks", json!({ "uri": "https://idp.example.com/jwks.json", "cluster": "idp" }));
    let mut v = verifier(&policy_with_provider(provider));
    let auth = bearer(&token(&keys().es256, &claims()));
    let err = v.authorize("GET", "/orders", request(&[("authorization", &auth)]), NOW).unwrap_err();
    let d = err.denial();
    assert_eq!((d.status, d.retry_after, d.code), (503, Some(RETRY_AFTER_SECONDS), "ERR_JWKS_UNAVAILABLE"));
    // Public routes do not need keys; a request without a token is still "missing".
    assert_eq!(v.authorize("GET", "/healthz", request(&[]), NOW).unwrap(), Access::Public);
    assert_eq!(v.authorize("GET", "/orders", request(&[]), NOW).unwrap_err().code(), "ERR_JWT_MISSING");
    // Once the host has fetched keys, the same request is granted.
    v.set_jwks(PROVIDER, all_jwks().to_string().as_bytes()).unwrap();
    assert!(v.authorize("GET", "/orders", request(&[("authorization", &auth)]), NOW).is_ok());
}

#[test]
fn authorize_uses_the_providers_headers_and_the_rules_provider() {
    let k = keys();
    let partner_issuer = "https://partner.example.com";
    let mut partner = provider_json(edgeward::issuer::jwks(&[&k.es256_second]));
    set(&mut partner, "/issuer", json!(partner_issuer));
    set(&mut partner, "/from_headers", json!([{ "name": "x-partner-token" }]));
    let mut policy = policy_json();
    set(&mut policy, "/providers/partner", partner);
    set(
        &mut policy,
        "/rules",
        json!([
            { "match": { "prefix": "/partner" }, "requires": { "provider_name": "partner" } },
            { "match": { "prefix": "/orders" }, "requires": { "provider_name": PROVIDER } }
        ]),
    );
    let mut v = verifier(&policy);
    let ours = token(&k.es256, &claims());
    let theirs = token(&k.es256_second, &claims_with(json!({ "iss": partner_issuer })));
    assert!(v.authorize("GET", "/partner/x", request(&[("x-partner-token", &theirs)]), NOW).is_ok());
    // The partner route reads only its header …
    let auth = bearer(&theirs);
    let err = v.authorize("GET", "/partner/x", request(&[("authorization", &auth)]), NOW).unwrap_err();
    assert_eq!(err.code(), "ERR_JWT_MISSING");
    // … and a token of the other provider there is refused as what it is: another issuer's
    // (not as a key error).
    let err = v.authorize("GET", "/partner/x", request(&[("x-partner-token", &ours)]), NOW).unwrap_err();
    assert_eq!((err.code(), err.claim()), ("ERR_JWT_CLAIM_VALIDATION_FAILED", Some("iss")));
    let auth = bearer(&theirs);
    let err = v.authorize("GET", "/orders", request(&[("authorization", &auth)]), NOW).unwrap_err();
    assert_eq!((err.code(), err.claim()), ("ERR_JWT_CLAIM_VALIDATION_FAILED", Some("iss")));
    assert!(err.to_string().contains("https://idp.example.com"), "{err}");
    // A token of the right issuer with an unknown key is still a key error.
    let stranger = token(&k.attacker, &claims());
    let auth = bearer(&stranger);
    let err = v.authorize("GET", "/orders", request(&[("authorization", &auth)]), NOW).unwrap_err();
    assert_eq!(err.code(), "ERR_JWKS_NO_MATCHING_KEY");
}

#[test]
fn config_errors_map_to_500() {
    let err = Verifier::from_json("{}").unwrap_err();
    let d = err.denial();
    assert_eq!((d.status, d.code, d.www_authenticate), (500, "ERR_POLICY_INVALID", None));
    let mut v = default_verifier();
    let err = v.set_jwks(PROVIDER, b"not json").unwrap_err();
    assert_eq!((err.code(), err.denial().status), ("ERR_JWKS_INVALID", 500));
    assert_eq!(v.set_jwks("nobody", b"{\"keys\":[]}").unwrap_err().code(), "ERR_POLICY_INVALID");
}

#[test]
fn every_code_is_in_the_table_once() {
    assert_eq!(edgeward::ALL_CODES.len(), 24);
    let mut sorted = edgeward::ALL_CODES.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), 24);
    assert!(matches!(PathMatch::Prefix("/".into()), PathMatch::Prefix(_)));
}
