//! Identity conditions (`requires.claims`): which bots a rule admits, by exact claim values,
//! with dotted paths into nested claims; `ERR_PRINCIPAL_DENIED` (403) when a verified token is
//! not one of them, decided before scopes and never revealing the admitted values. The same
//! decisions run through the CLI (cli/tests/cli.rs), a real Envoy (envoy/tests/principal.test.mjs)
//! and the npm middleware (js/test/principal.test.mjs).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use edgeward::{Access, Algorithm, Error, Verifier};
use serde_json::{Value, json};
use support::*;

/// The default policy with `/orders` (GET) admitting `claims`.
fn with_claims(claims: Value) -> Verifier {
    let mut policy = policy_json();
    set(&mut policy, "/rules/1/requires/claims", claims);
    verifier(&policy)
}

fn get_orders(v: &mut Verifier, claims: Value) -> Result<Access, Error> {
    let token = token(key(Algorithm::ES256), &claims_with(claims));
    let auth = format!("Bearer {token}");
    v.authorize("GET", "/orders/1", &[("authorization", auth.as_str())], NOW)
}

fn code(result: &Result<Access, Error>) -> &'static str {
    match result {
        Ok(_) => "OK",
        Err(e) => e.code(),
    }
}

#[test]
fn a_string_claim_must_be_one_of_the_values_exactly() {
    let mut v = with_claims(json!({"client_id": ["billing-bot", "audit-bot"]}));
    for (client, want) in [
        (json!("billing-bot"), "OK"),
        (json!("audit-bot"), "OK"),
        (json!("billing-bot2"), "ERR_PRINCIPAL_DENIED"),
        (json!("Billing-Bot"), "ERR_PRINCIPAL_DENIED"),
        (json!("billing"), "ERR_PRINCIPAL_DENIED"),
        (json!(""), "ERR_PRINCIPAL_DENIED"),
        (json!(null), "ERR_PRINCIPAL_DENIED"),
        (json!({"billing-bot": true}), "ERR_PRINCIPAL_DENIED"),
        (json!(["billing-bot"]), "OK"),
        (json!(["x", "audit-bot"]), "OK"),
        (json!(["x", "y"]), "ERR_PRINCIPAL_DENIED"),
        (json!([["billing-bot"]]), "ERR_PRINCIPAL_DENIED"),
    ] {
        let result = get_orders(&mut v, json!({"scope": "read:orders", "client_id": client}));
        assert_eq!(code(&result), want, "client_id {client}");
    }
    let missing = get_orders(&mut v, json!({"scope": "read:orders"}));
    assert_eq!(code(&missing), "ERR_PRINCIPAL_DENIED", "a missing claim is not admitted");
}

#[test]
fn the_refusal_is_403_names_the_claim_and_never_the_admitted_values() {
    let mut v = with_claims(json!({"client_id": ["billing-bot", "secret-audit-bot"]}));
    let err = get_orders(&mut v, json!({"scope": "read:orders", "client_id": "intruder"})).unwrap_err();
    assert_eq!(err.claim(), Some("client_id"));
    let denial = err.denial();
    assert_eq!((denial.status, denial.error, denial.www_authenticate.as_deref()), (403, "forbidden", None));
    for text in [err.to_string(), denial.body()] {
        assert!(!text.contains("billing-bot") && !text.contains("secret-audit-bot"), "{text}");
    }
}

#[test]
fn who_comes_before_what() {
    let mut v = with_claims(json!({"client_id": ["billing-bot"]}));
    // A bot the rule does not admit is not told which scopes it needs.
    let stranger = get_orders(&mut v, json!({"scope": "other", "client_id": "intruder"}));
    assert_eq!(code(&stranger), "ERR_PRINCIPAL_DENIED");
    let admitted = get_orders(&mut v, json!({"scope": "other", "client_id": "billing-bot"}));
    assert_eq!(code(&admitted), "ERR_SCOPE_INSUFFICIENT");
}

#[test]
fn dotted_names_read_nested_claims_and_never_a_member_with_a_dot() {
    let mut v = with_claims(json!({"org.tenant": ["acme"], "sub": ["bot-1"]}));
    let nested = json!({"scope": "read:orders", "sub": "bot-1", "org": {"tenant": "acme"}});
    assert_eq!(code(&get_orders(&mut v, nested)), "OK");
    let flat = json!({"scope": "read:orders", "sub": "bot-1", "org.tenant": "acme"});
    assert_eq!(code(&get_orders(&mut v, flat)), "ERR_PRINCIPAL_DENIED");
    let other = json!({"scope": "read:orders", "sub": "bot-1", "org": {"tenant": "globex"}});
    assert_eq!(code(&get_orders(&mut v, other)), "ERR_PRINCIPAL_DENIED");
    // Every condition must hold.
    let wrong_sub = json!({"scope": "read:orders", "sub": "bot-2", "org": {"tenant": "acme"}});
    let err = get_orders(&mut v, wrong_sub).unwrap_err();
    assert_eq!(err.claim(), Some("sub"));
}

#[test]
fn numbers_and_booleans_compare_in_json_form() {
    let mut v = with_claims(json!({"tier": [2, true]}));
    for (tier, want) in [
        (json!(2), "OK"),
        (json!(true), "OK"),
        (json!("2"), "ERR_PRINCIPAL_DENIED"),
        (json!("true"), "ERR_PRINCIPAL_DENIED"),
        (json!(2.5), "ERR_PRINCIPAL_DENIED"),
        (json!(false), "ERR_PRINCIPAL_DENIED"),
        (json!([1, 2]), "OK"),
    ] {
        assert_eq!(code(&get_orders(&mut v, json!({"scope": "read:orders", "tier": tier}))), want, "tier {tier}");
    }
    let mut strings = with_claims(json!({"tier": ["2"]}));
    assert_eq!(code(&get_orders(&mut strings, json!({"scope": "read:orders", "tier": 2}))), "ERR_PRINCIPAL_DENIED");
}

#[test]
fn claim_to_headers_resolves_dotted_names() {
    let mut policy = policy_json();
    set(
        &mut policy,
        "/providers/corp-idp/claim_to_headers",
        json!([{"claim_name": "org.tenant", "header_name": "x-tenant"}, {"claim_name": "org", "header_name": "x-org"}]),
    );
    let mut v = verifier(&policy);
    let token = token(key(Algorithm::ES256), &claims_with(json!({"scope": "read:orders", "org": {"tenant": "acme"}})));
    let auth = format!("Bearer {token}");
    let decision = v
        .decide(&edgeward::Request::new("GET", "/orders/1", &[("authorization", &auth), ("x-tenant", "spoofed")]), NOW);
    let allowed = decision.outcome.unwrap();
    assert!(allowed.remove.contains(&"x-tenant".to_owned()));
    // An object is not a header value: x-org is left out (and removed if sent).
    assert_eq!(allowed.set, vec![("x-tenant".to_owned(), "acme".to_owned())]);
}

#[test]
fn bad_conditions_are_refused_at_load_with_their_path() {
    let refused = |claims: Value| {
        let mut policy = policy_json();
        set(&mut policy, "/rules/1/requires/claims", claims);
        let err = Verifier::from_json(&policy.to_string()).unwrap_err();
        assert_eq!(err.code(), "ERR_POLICY_INVALID");
        err.path().unwrap_or_default().to_owned()
    };
    assert_eq!(refused(json!({"client_id": []})), "rules[1].requires.claims.client_id");
    assert_eq!(refused(json!({"client_id": [{"a": 1}]})), "rules[1].requires.claims.client_id[0]");
    assert_eq!(refused(json!({"client_id": [null]})), "rules[1].requires.claims.client_id[0]");
    assert_eq!(refused(json!({"client_id": "billing-bot"})), "rules[1].requires.claims.client_id");
    assert_eq!(refused(json!({"org..tenant": ["a"]})), "rules[1].requires.claims.org..tenant");
    assert_eq!(refused(json!({"a.b.c.d.e.f.g.h.i": ["a"]})), "rules[1].requires.claims.a.b.c.d.e.f.g.h.i");
    let many: serde_json::Map<String, Value> = (0..17).map(|i| (format!("c{i}"), json!(["x"]))).collect();
    assert_eq!(refused(Value::Object(many)), "rules[1].requires.claims");
    let mut policy = policy_json();
    set(&mut policy, "/providers/corp-idp/claim_to_headers", json!([{"claim_name": "org.", "header_name": "x-t"}]));
    let err = Verifier::from_json(&policy.to_string()).unwrap_err();
    assert_eq!(err.path(), Some("providers.corp-idp.claim_to_headers[0].claim_name"));
}
