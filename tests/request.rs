//! `Verifier::decide`: one request's rule, token and header changes — the answer every host
//! applies. The spoofing table (`tests/fixtures/spoofing.json`) runs here, in a real Envoy and in
//! the npm middleware, and must give the same upstream view everywhere; the other tests pin the
//! bypass classes one by one (underscore twins, HEAD, method override, percent-encoding, case and
//! trailing slash, tokens on public routes).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use edgeward::issuer::{PrivateJwk, jwks, sign_token};
use edgeward::{Access, Algorithm, Decision, Request, Verifier, base64url};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

const NOW: i64 = 2_000_000_000;

struct Table {
    verifier: Verifier,
    tokens: BTreeMap<String, String>,
    cases: Vec<Value>,
}

/// The fixture's policy with one ES256 key per provider, and its tokens minted at `NOW`.
fn table() -> Table {
    let fixture: Value = serde_json::from_str(include_str!("fixtures/spoofing.json")).unwrap();
    let mut policy = fixture["policy"].clone();
    let mut keys = BTreeMap::new();
    for (name, provider) in policy["providers"].as_object_mut().unwrap() {
        let key = PrivateJwk::generate(Algorithm::ES256, Some(name)).unwrap();
        provider["local_jwks"] = jwks(&[&key]);
        keys.insert(name.clone(), (key, provider["issuer"].as_str().unwrap().to_owned()));
    }
    let mut tokens = BTreeMap::new();
    for (name, spec) in fixture["tokens"].as_object().unwrap() {
        let (key, issuer) = &keys[spec["provider"].as_str().unwrap()];
        let mut claims: Map<String, Value> =
            json!({ "iss": issuer, "aud": "orders-api", "iat": NOW - 60, "exp": NOW + 300 })
                .as_object()
                .unwrap()
                .clone();
        claims.extend(spec["claims"].as_object().unwrap().clone());
        let header = json!({ "alg": "ES256", "kid": spec["provider"] });
        tokens.insert(name.clone(), sign_token(key, header.as_object().unwrap(), &claims));
    }
    let reader = tokens["corp-reader"].clone();
    let payload = reader.split('.').nth(1).unwrap();
    tokens.insert("none".to_owned(), format!("{}.{payload}.", base64url::encode(br#"{"alg":"none"}"#)));
    let verifier = Verifier::from_json(&policy.to_string()).unwrap();
    Table { verifier, tokens, cases: fixture["cases"].as_array().unwrap().clone() }
}

/// `{name}` in a header value is the token `name`.
fn fill(text: &str, tokens: &BTreeMap<String, String>) -> String {
    tokens.iter().fold(text.to_owned(), |text, (name, token)| text.replace(&format!("{{{name}}}"), token))
}

/// The request headers after the decision's changes (what an upstream or handler sees).
fn upstream(decision: &Decision, sent: &[(String, String)]) -> BTreeMap<String, String> {
    let allowed = decision.outcome.as_ref().unwrap();
    let mut view: BTreeMap<String, String> =
        sent.iter().filter(|(name, _)| !allowed.remove.contains(name)).cloned().collect();
    view.extend(allowed.set.iter().cloned());
    view
}

fn decide(v: &mut Verifier, method: &str, path: &str, headers: &[(String, String)]) -> Decision {
    let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    v.decide(&Request::new(method, path, &pairs), NOW)
}

#[test]
fn the_spoofing_table() {
    let Table { mut verifier, tokens, cases } = table();
    assert!(cases.len() >= 10);
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let headers: Vec<(String, String)> = case["headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), fill(v.as_str().unwrap(), &tokens)))
            .collect();
        let decision =
            decide(&mut verifier, case["method"].as_str().unwrap(), case["path"].as_str().unwrap(), &headers);
        let status = decision.outcome.as_ref().map_or_else(|e| e.denial().status, |_| 200);
        assert_eq!(u64::from(status), case["status"].as_u64().unwrap(), "{name}: {:?}", decision.outcome);
        if status != 200 {
            continue;
        }
        let view = upstream(&decision, &headers);
        for (header, want) in case["upstream"].as_object().unwrap() {
            let want = want.as_str().map(|w| fill(w, &tokens));
            assert_eq!(view.get(header).cloned(), want, "{name}: {header}");
        }
    }
}

fn policy(rules: Value, extra: Value) -> (Verifier, PrivateJwk) {
    let key = PrivateJwk::generate(Algorithm::ES256, Some("k")).unwrap();
    let mut policy = json!({
        "providers": { "idp": { "issuer": "https://idp", "audiences": ["api"], "local_jwks": jwks(&[&key]),
            "claim_to_headers": [{ "claim_name": "sub", "header_name": "x-bot-id" }] } },
        "rules": rules,
    });
    for (name, value) in extra.as_object().unwrap() {
        policy[name] = value.clone();
    }
    (Verifier::from_json(&policy.to_string()).unwrap(), key)
}

fn token(key: &PrivateJwk, scope: &str) -> String {
    let claims =
        json!({ "iss": "https://idp", "aud": "api", "sub": "bot", "iat": NOW, "exp": NOW + 60, "scope": scope });
    sign_token(key, json!({ "alg": "ES256" }).as_object().unwrap(), claims.as_object().unwrap())
}

fn status(decision: &Decision) -> u16 {
    decision.outcome.as_ref().map_or_else(|e| e.denial().status, |_| 200)
}

fn bearer(token: &str) -> Vec<(String, String)> {
    vec![("authorization".to_owned(), format!("Bearer {token}"))]
}

#[test]
fn method_override_headers_must_pass_the_named_methods_rule() {
    let rules = json!([
        { "match": { "prefix": "/o", "methods": ["DELETE"] }, "requires": { "provider_name": "idp", "scopes": ["admin"] } },
        { "match": { "prefix": "/o" }, "requires": { "provider_name": "idp", "scopes": ["write"] } }
    ]);
    let (mut v, key) = policy(rules.clone(), json!({}));
    let writer = token(&key, "write");
    for name in ["x-http-method-override", "x-http-method", "x-method-override"] {
        for value in ["DELETE", "delete"] {
            let mut headers = bearer(&writer);
            headers.push((name.to_owned(), value.to_owned()));
            assert_eq!(status(&decide(&mut v, "POST", "/o/1", &headers)), 403, "{name}: {value}");
        }
    }
    let mut headers = bearer(&token(&key, "write admin"));
    headers.push(("x-http-method-override".to_owned(), "DELETE".to_owned()));
    assert_eq!(status(&decide(&mut v, "POST", "/o/1", &headers)), 200);
    // A value that is not one method is refused, never guessed.
    for value in ["DELETE, GET", "DEL ETE", ""] {
        let mut headers = bearer(&writer);
        headers.push(("x-http-method-override".to_owned(), value.to_owned()));
        assert_eq!(status(&decide(&mut v, "POST", "/o/1", &headers)), 403, "{value:?}");
    }
    // `method_override_headers: []` turns it off.
    let (mut off, key) = policy(rules, json!({ "method_override_headers": [] }));
    let mut headers = bearer(&token(&key, "write"));
    headers.push(("x-http-method-override".to_owned(), "DELETE".to_owned()));
    assert_eq!(status(&decide(&mut off, "POST", "/o/1", &headers)), 200);
}

#[test]
fn an_override_from_a_public_route_needs_the_protected_rule() {
    let rules = json!([
        { "match": { "prefix": "/o", "methods": ["POST"] } },
        { "match": { "prefix": "/o" }, "requires": { "provider_name": "idp", "scopes": ["admin"] } }
    ]);
    let (mut v, key) = policy(rules, json!({}));
    let override_only = vec![("x-http-method-override".to_owned(), "DELETE".to_owned())];
    assert_eq!(status(&decide(&mut v, "POST", "/o", &override_only)), 401);
    let mut headers = bearer(&token(&key, "admin"));
    headers.push(("x-http-method-override".to_owned(), "DELETE".to_owned()));
    let decision = decide(&mut v, "POST", "/o", &headers);
    assert!(matches!(decision.outcome.unwrap().access, Access::Granted(_)), "the override's rule granted it");
}

#[test]
fn case_insensitive_rules_and_trailing_slashes() {
    let rules = json!([
        { "match": { "path": "/Admin/Users", "case_sensitive": false }, "requires": { "provider_name": "idp", "scopes": ["admin"] } },
        { "match": { "path": "/orders" }, "requires": { "provider_name": "idp", "scopes": ["read"] } },
        { "match": { "prefix": "/" }, "requires": { "provider_name": "idp" } }
    ]);
    let (mut v, key) = policy(rules, json!({}));
    let reader = bearer(&token(&key, "read"));
    for path in ["/admin/users", "/ADMIN/USERS", "/admin/users/", "/Admin/Users?x=1", "/%61dmin/users"] {
        assert_eq!(status(&decide(&mut v, "GET", path, &reader)), 403, "{path}");
    }
    assert_eq!(status(&decide(&mut v, "GET", "/orders/", &reader)), 200);
    // Case-sensitive by default: /ORDERS is another path (here the catch-all, which the lint flags).
    let allowed = decide(&mut v, "GET", "/ORDERS", &reader).outcome.unwrap();
    assert_eq!(allowed.rule, 2);
    let findings = v.policy().lint();
    assert!(findings.iter().any(|f| f.kind == "weaker-fallback" && f.path == "rules[2]"), "{findings:?}");
}

#[test]
fn percent_encoded_separators_and_dots_stay_denied() {
    let (mut v, key) = policy(json!([{ "match": { "prefix": "/" } }]), json!({}));
    let reader = bearer(&token(&key, "read"));
    for path in ["/a%2fb", "/a%2Fb", "/%2e%2e/x", "/a%5cb", "/a/%2E/b", "//a", "/a/../b"] {
        assert_eq!(status(&decide(&mut v, "GET", path, &reader)), 403, "{path}");
    }
    assert_eq!(status(&decide(&mut v, "GET", "/a%20b", &reader)), 200);
}

#[test]
fn repeated_token_headers_fail_closed() {
    let (mut v, key) =
        policy(json!([{ "match": { "prefix": "/" }, "requires": { "provider_name": "idp" } }]), json!({}));
    let t = token(&key, "read");
    let mut headers = bearer(&t);
    headers.extend(bearer(&t));
    assert_eq!(status(&decide(&mut v, "GET", "/x", &headers)), 401);
}

#[test]
fn decide_token_matches_decide() {
    let Table { mut verifier, tokens, .. } = table();
    let reader = &tokens["corp-reader"];
    let by_header = decide(&mut verifier, "GET", "/orders", &bearer(reader));
    let by_token = verifier.decide_token("GET", "/orders", Some(reader), NOW);
    let (a, b) = (by_header.outcome.unwrap(), by_token.outcome.unwrap());
    assert_eq!((a.rule, &a.access, &a.set), (b.rule, &b.access, &b.set));
    assert!(b.remove.is_empty());
    let err = verifier.decide_token("DELETE", "/orders", Some(reader), NOW).outcome.unwrap_err();
    assert_eq!(err.code(), "ERR_SCOPE_INSUFFICIENT");
}

#[test]
fn a_host_whose_application_ignores_case_matches_every_rule_so() {
    let rules = json!([
        { "match": { "path": "/admin/users" }, "requires": { "provider_name": "idp", "scopes": ["admin"] } },
        { "match": { "prefix": "/" } }
    ]);
    let (mut v, key) = policy(rules, json!({}));
    let reader = bearer(&token(&key, "read"));
    let pairs: Vec<(&str, &str)> = reader.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let at = |v: &mut Verifier, path: &str, case_insensitive: bool| {
        let request = Request { case_insensitive, ..Request::new("GET", path, &pairs) };
        status(&v.decide(&request, NOW))
    };
    // Read as written, /ADMIN/USERS falls to the public catch-all; read as Express routes it,
    // it is the admin rule's.
    assert_eq!(at(&mut v, "/ADMIN/USERS", false), 200);
    assert_eq!(at(&mut v, "/ADMIN/USERS", true), 403);
    assert_eq!(at(&mut v, "/Admin/Users/", true), 403);
    assert_eq!(at(&mut v, "/elsewhere", true), 200);
}
