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
