//! The decision record (`Decision::record`): who (provider, iss, sub, client_id), holding what
//! (scopes), by which rule (its `name`, else its index), and the answer (code, status), for
//! allowed and refused requests. The Envoy filter writes it into filter state
//! (envoy/tests/filter-state.test.mjs), the middleware hands it to onDecision (js/test/decision.test.mjs).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use edgeward::{Algorithm, DecisionRecord, Request, Verifier};
use serde_json::json;
use support::*;

fn named() -> Verifier {
    let mut policy = policy_json();
    set(&mut policy, "/rules/1/name", json!("orders-read"));
    verifier(&policy)
}

fn record(v: &mut Verifier, method: &str, path: &str, token: Option<&str>) -> DecisionRecord {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
    let decision = v.decide(&Request::new(method, path, &headers), NOW);
    decision.record(v.policy())
}

#[test]
fn allowed_and_refused_decisions_say_who_what_which_rule_and_the_answer() {
    let mut v = named();
    let good = token(key(Algorithm::ES256), &claims_with(json!({"scope": "read:orders", "client_id": "billing-bot"})));
    let r = record(&mut v, "GET", "/orders/1", Some(&good));
    assert_eq!(r.provider.as_deref(), Some(PROVIDER));
    assert_eq!(
        (r.iss.as_deref(), r.sub.as_deref(), r.client_id.as_deref()),
        (Some(ISSUER), Some("bot-7"), Some("billing-bot"))
    );
    assert_eq!(
        (r.scopes.clone(), r.rule.as_deref(), r.code, r.status),
        (vec!["read:orders".to_owned()], Some("orders-read"), None, 200)
    );

    // Refused after the token verified: still who it was.
    let weak = token(key(Algorithm::ES256), &claims_with(json!({"scope": "other", "azp": "audit-bot"})));
    let r = record(&mut v, "GET", "/orders/1", Some(&weak));
    assert_eq!((r.client_id.as_deref(), r.code, r.status), (Some("audit-bot"), Some("ERR_SCOPE_INSUFFICIENT"), 403));
    // Refused before: nobody, but the rule and the code.
    let r = record(&mut v, "POST", "/orders/1", None);
    assert_eq!((r.provider, r.rule.as_deref(), r.code, r.status), (None, Some("2"), Some("ERR_JWT_MISSING"), 401));
    let r = record(&mut v, "GET", "/nowhere", Some(&good));
    assert_eq!((r.rule, r.code, r.status), (None, Some("ERR_ROUTE_DENIED"), 403));
    let r = record(&mut v, "GET", "/healthz", None);
    assert_eq!((r.rule.as_deref(), r.code, r.status), (Some("0"), None, 200));
    // Never the token.
    let text = serde_json::to_string(&record(&mut v, "GET", "/orders/1", Some(&good))).unwrap();
    assert!(!text.contains(good.rsplit('.').next().unwrap()), "{text}");
}

#[test]
fn rule_names_are_checked_at_load() {
    for bad in [json!(""), json!("has space"), json!("x".repeat(65)), json!(7)] {
        let mut policy = policy_json();
        set(&mut policy, "/rules/1/name", bad.clone());
        let err = Verifier::from_json(&policy.to_string()).unwrap_err();
        assert_eq!(err.path(), Some("rules[1].name"), "{bad}");
    }
}

#[test]
fn records_carry_the_required_scopes_and_the_tokens_dates() {
    let mut v = named();
    let good = token(key(Algorithm::ES256), &claims_with(json!({"scope": "read:orders write:orders"})));
    let r = record(&mut v, "GET", "/orders/1", Some(&good));
    assert_eq!(r.required_scopes, ["read:orders"], "the requirement that let it through");
    assert_eq!((r.iat, r.exp), (Some(NOW - 60), Some(NOW + 600)));
    // Refused for lacking a scope: the scopes it needed.
    let r = record(&mut v, "POST", "/orders/1", Some(&good));
    assert_eq!(
        (r.code, r.required_scopes.as_slice()),
        (Some("ERR_SCOPE_INSUFFICIENT"), &["write:order_status".to_owned()][..])
    );
    // Refused before the token: still what the rule needs; nothing of a token.
    let r = record(&mut v, "POST", "/orders/1", None);
    assert_eq!((r.required_scopes.as_slice(), r.iat, r.exp), (&["write:order_status".to_owned()][..], None, None));
    // Public and unmatched: nothing required.
    assert!(record(&mut v, "GET", "/healthz", None).required_scopes.is_empty());
    assert!(record(&mut v, "GET", "/nowhere", Some(&good)).required_scopes.is_empty());
    // Fractional dates are cut to whole seconds.
    let frac = token(key(Algorithm::ES256), &claims_with(json!({"scope": "read:orders", "iat": 1_999_999_940.5})));
    assert_eq!(record(&mut v, "GET", "/orders/1", Some(&frac)).iat, Some(NOW - 60));
}

#[test]
fn requires_any_records_the_alternative_that_decided() {
    let mut policy = policy_json();
    set(
        &mut policy,
        "/rules/1",
        json!({ "match": { "prefix": "/orders", "methods": ["GET"] }, "requires_any": [
            { "provider_name": PROVIDER, "scopes": ["admin"] },
            { "provider_name": PROVIDER, "scopes": ["read:orders"], "claims": { "client_id": ["billing-bot"] } },
        ] }),
    );
    let mut v = verifier(&policy);
    let billing =
        token(key(Algorithm::ES256), &claims_with(json!({"scope": "read:orders", "client_id": "billing-bot"})));
    assert_eq!(record(&mut v, "GET", "/orders/1", Some(&billing)).required_scopes, ["read:orders"]);
    // Neither passes: the first 403 (the admin alternative's).
    let other = token(key(Algorithm::ES256), &claims_with(json!({"scope": "read:orders", "client_id": "other"})));
    let r = record(&mut v, "GET", "/orders/1", Some(&other));
    assert_eq!((r.code, r.required_scopes.as_slice()), (Some("ERR_SCOPE_INSUFFICIENT"), &["admin".to_owned()][..]));
}

#[test]
fn the_decision_line_of_a_request_never_holds_the_token() {
    let mut v = named();
    let good = token(key(Algorithm::ES256), &claims_with(json!({"scope": "read:orders", "client_id": "billing-bot"})));
    let line =
        record(&mut v, "GET", "/orders/1", Some(&good)).json_line(2_000_000_000_123, "GET", "/orders/1?access_token=x");
    let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(parsed["time"], "2033-05-18T03:33:20.123Z");
    assert_eq!((parsed["path"].as_str(), parsed["rule"].as_str()), (Some("/orders/1"), Some("orders-read")));
    assert_eq!((parsed["required_scopes"].as_str(), parsed["status"].as_u64()), (Some("read:orders"), Some(200)));
    assert_eq!(parsed["iat"], (NOW - 60).to_string());
    assert!(!line.contains(good.rsplit('.').next().unwrap()) && !line.contains("access_token"), "{line}");
}
