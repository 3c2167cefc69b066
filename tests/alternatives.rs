//! `requires_any` (alternatives: an OR of scope sets, two providers during a migration) and
//! `allow_missing` (no token passes, a present token must verify), and the refusal a rule gives
//! when none passes. The surfaces run the same rules in tests/fixtures/principal.mjs (Envoy, npm).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use edgeward::{Access, Error, Verifier};
use serde_json::{Value, json};
use support::*;

const PARTNER_ISSUER: &str = "https://partner.example.com";

/// The default policy plus a partner provider (the second ES256 key) and `rules`.
fn policy_with(rules: Value) -> Verifier {
    let k = keys();
    let mut partner = provider_json(edgeward::issuer::jwks(&[&k.es256_second]));
    set(&mut partner, "/issuer", json!(PARTNER_ISSUER));
    let mut policy = policy_json();
    set(&mut policy, "/providers/partner", partner);
    set(&mut policy, "/rules", rules);
    verifier(&policy)
}

fn get(v: &mut Verifier, path: &str, token: Option<&str>) -> Result<Access, Error> {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
    v.authorize("GET", path, &headers, NOW)
}

fn code(result: &Result<Access, Error>) -> String {
    match result {
        Ok(Access::Public) => "public".into(),
        Ok(Access::Granted(t)) => format!("granted by {}", t.provider),
        Err(e) => e.code().into(),
    }
}

#[test]
fn two_providers_either_passes_and_a_third_issuer_is_told_iss() {
    let k = keys();
    let mut v = policy_with(json!([{ "match": { "prefix": "/" }, "requires_any": [
        { "provider_name": PROVIDER, "scopes": ["read:orders"] },
        { "provider_name": "partner", "scopes": ["read:orders"] }
    ]}]));
    let ours = token(&k.es256, &claims_with(json!({"scope": "read:orders"})));
    let theirs = token(&k.es256_second, &claims_with(json!({"scope": "read:orders", "iss": PARTNER_ISSUER})));
    let stranger = token(&k.attacker, &claims_with(json!({"scope": "read:orders", "iss": "https://elsewhere"})));
    assert_eq!(code(&get(&mut v, "/x", Some(&ours))), "granted by corp-idp");
    assert_eq!(code(&get(&mut v, "/x", Some(&theirs))), "granted by partner");
    let err = get(&mut v, "/x", Some(&stranger)).unwrap_err();
    assert_eq!((err.code(), err.claim()), ("ERR_JWT_CLAIM_VALIDATION_FAILED", Some("iss")));
    assert_eq!(code(&get(&mut v, "/x", None)), "ERR_JWT_MISSING");
    // A partner token without the scope: the 403 of the alternative whose token verified.
    let weak = token(&k.es256_second, &claims_with(json!({"scope": "other", "iss": PARTNER_ISSUER})));
    assert_eq!(code(&get(&mut v, "/x", Some(&weak))), "ERR_SCOPE_INSUFFICIENT");
}

#[test]
fn the_tokens_issuer_picks_the_alternative_worth_verifying() {
    let k = keys();
    let mut v = policy_with(json!([{ "match": { "prefix": "/" }, "requires_any": [
        { "provider_name": PROVIDER, "scopes": ["read:orders"] },
        { "provider_name": "partner", "scopes": ["read:orders"] }
    ]}]));
    let theirs = token(&k.es256_second, &claims_with(json!({"scope": "read:orders", "iss": PARTNER_ISSUER})));
    // The first answer verifies once (at the partner), not once per alternative; a reused token
    // is answered from the cache with no miss at the first alternative either.
    let before = v.cache_stats();
    assert_eq!(code(&get(&mut v, "/x", Some(&theirs))), "granted by partner");
    let first = v.cache_stats();
    assert_eq!((first.misses - before.misses, first.hits - before.hits), (1, 0));
    assert_eq!(code(&get(&mut v, "/x", Some(&theirs))), "granted by partner");
    let again = v.cache_stats();
    assert_eq!((again.misses - first.misses, again.hits - first.hits), (0, 1));
    // A partner token under a key the partner's set lacks (it rotated): not verified at corp's
    // alternative, and said as the key error of the partner's, so the filter fetches its keys early.
    let rotated = token(&k.attacker, &claims_with(json!({"scope": "read:orders", "iss": PARTNER_ISSUER})));
    let before = v.cache_stats();
    assert_eq!(code(&get(&mut v, "/x", Some(&rotated))), "ERR_JWKS_NO_MATCHING_KEY");
    assert_eq!(v.cache_stats().misses - before.misses, 1, "one attempt, at the partner");
}

#[test]
fn an_or_of_scope_sets() {
    let mut v = policy_with(json!([{ "match": { "prefix": "/" }, "requires_any": [
        { "provider_name": PROVIDER, "scopes": ["read:orders", "read:invoices"] },
        { "provider_name": PROVIDER, "scopes": ["admin:orders"] }
    ]}]));
    let k = keys();
    let with = |scope: &str| token(&k.es256, &claims_with(json!({"scope": scope})));
    assert_eq!(code(&get(&mut v, "/x", Some(&with("read:orders read:invoices")))), "granted by corp-idp");
    assert_eq!(code(&get(&mut v, "/x", Some(&with("admin:orders")))), "granted by corp-idp");
    let err = get(&mut v, "/x", Some(&with("read:orders"))).unwrap_err();
    match err {
        Error::InsufficientScope { needed } => {
            assert_eq!(needed, ["read:orders", "read:invoices"], "the first alternative's")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_most_useful_refusal_is_a_verified_tokens_403() {
    let k = keys();
    let mut v = policy_with(json!([{ "match": { "prefix": "/" }, "requires_any": [
        { "provider_name": "partner" },
        { "provider_name": PROVIDER, "claims": { "client_id": ["billing-bot"] } }
    ]}]));
    let intruder = token(&k.es256, &claims_with(json!({"client_id": "intruder"})));
    // The partner alternative fails on iss; the corp one verifies the token but does not admit it.
    assert_eq!(code(&get(&mut v, "/x", Some(&intruder))), "ERR_PRINCIPAL_DENIED");
    let forged = flip_signature(&token(&k.es256, &claims()));
    // Neither verifies: the error of the alternative whose issuer the token names (the signature),
    // not the partner's `iss`, though the partner's alternative comes first.
    assert_eq!(code(&get(&mut v, "/x", Some(&forged))), "ERR_JWS_SIGNATURE_VERIFICATION_FAILED");
    // A token of neither issuer: the first alternative's error.
    let stranger = token(&k.attacker, &claims_with(json!({"iss": "https://elsewhere"})));
    let err = get(&mut v, "/x", Some(&stranger)).unwrap_err();
    assert_eq!((err.code(), err.claim()), ("ERR_JWT_CLAIM_VALIDATION_FAILED", Some("iss")));
}

#[test]
fn allow_missing_lets_no_token_through_but_a_present_token_must_verify() {
    let k = keys();
    let mut policy = policy_json();
    set(&mut policy, "/providers/corp-idp/claim_to_headers", json!([{"claim_name": "sub", "header_name": "x-bot"}]));
    set(
        &mut policy,
        "/rules",
        json!([{ "match": { "prefix": "/" }, "requires": { "provider_name": PROVIDER, "allow_missing": true, "scopes": ["read:orders"] } }]),
    );
    let mut v = verifier(&policy);
    let decide =
        |v: &mut Verifier, headers: &[(&str, &str)]| v.decide(&edgeward::Request::new("GET", "/x", headers), NOW);
    let none = decide(&mut v, &[("x-bot", "spoofed")]).outcome.unwrap();
    assert_eq!(none.access, Access::Public);
    assert_eq!((none.remove, none.set), (vec!["x-bot".to_owned()], vec![]), "the client's copy is removed");
    let good = bearer(&token(&k.es256, &claims_with(json!({"scope": "read:orders", "sub": "bot-1"}))));
    let granted = decide(&mut v, &[("authorization", &good)]).outcome.unwrap();
    assert!(matches!(granted.access, Access::Granted(_)));
    assert_eq!(granted.set, vec![("x-bot".to_owned(), "bot-1".to_owned())]);
    let forged = bearer(&flip_signature(&token(&k.es256, &claims_with(json!({"scope": "read:orders"})))));
    assert_eq!(
        decide(&mut v, &[("authorization", &forged)]).outcome.unwrap_err().code(),
        "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"
    );
    let expired =
        bearer(&token(&k.es256, &claims_with(json!({"scope": "read:orders", "exp": NOW - 600, "iat": NOW - 900}))));
    assert_eq!(decide(&mut v, &[("authorization", &expired)]).outcome.unwrap_err().code(), "ERR_JWT_EXPIRED");
    let unscoped = bearer(&token(&k.es256, &claims_with(json!({"scope": "other"}))));
    assert_eq!(decide(&mut v, &[("authorization", &unscoped)]).outcome.unwrap_err().code(), "ERR_SCOPE_INSUFFICIENT");
}

#[test]
fn bad_alternatives_are_refused_at_load_with_their_path() {
    let refused = |rules: Value| {
        let mut policy = policy_json();
        set(&mut policy, "/rules", rules);
        let err = Verifier::from_json(&policy.to_string()).unwrap_err();
        assert_eq!(err.code(), "ERR_POLICY_INVALID");
        err.path().unwrap_or_default().to_owned()
    };
    let one = json!({ "provider_name": PROVIDER });
    assert_eq!(
        refused(json!([{ "match": { "prefix": "/" }, "requires": one, "requires_any": [one] }])),
        "rules[0].requires_any"
    );
    assert_eq!(refused(json!([{ "match": { "prefix": "/" }, "requires_any": [] }])), "rules[0].requires_any");
    let nine: Vec<Value> = (0..9).map(|_| one.clone()).collect();
    assert_eq!(refused(json!([{ "match": { "prefix": "/" }, "requires_any": nine }])), "rules[0].requires_any");
    assert_eq!(
        refused(json!([{ "match": { "prefix": "/" }, "requires_any": [one, { "provider_name": "nobody" }] }])),
        "rules[0].requires_any[1].provider_name"
    );
    assert_eq!(
        refused(
            json!([{ "match": { "prefix": "/" }, "requires_any": [{ "provider_name": PROVIDER, "allow_missing": "yes" }] }])
        ),
        "rules[0].requires_any[0].allow_missing"
    );
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn flip_signature(token: &str) -> String {
    let (h, p, s) = segments(token);
    let mut sig = edgeward::base64url::decode(&s).unwrap();
    sig[0] ^= 1;
    format!("{h}.{p}.{}", edgeward::base64url::encode(&sig))
}
