//! Per-route guards (the npm package's `authenticate`, `requireScopes`, `requireClaims`) in the
//! core: `Verifier::authenticate` verifies a request's token without the policy's rules, and
//! `Requirement::for_guard` + `Verifier::check_requirement` judge it as a rule's `requires` would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use edgeward::{Access, Request, Requirement};
use serde_json::json;
use support::*;

fn authenticate(v: &mut edgeward::Verifier, token: Option<&str>, provider: Option<&str>) -> Result<Access, String> {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> =
        auth.iter().map(|a| ("authorization", a.as_str())).chain([("x-bot-id", "spoofed")]).collect();
    let decision = v.authenticate(&Request::new("GET", "/anywhere", &headers), provider, NOW);
    assert_eq!(decision.rule, None, "no rule decides a guard");
    decision
        .outcome
        .map(|allowed| {
            assert!(allowed.remove.iter().any(|h| h == "authorization"), "the token header is removed as under a rule");
            allowed.access
        })
        .map_err(|e| e.code().to_owned())
}

#[test]
fn authenticate_verifies_the_token_without_the_rules() {
    let mut v = default_verifier();
    let k = keys();
    let good = token(&k.es256, &claims());
    // /anywhere matches no rule: a guard does not ask the rules.
    assert!(matches!(authenticate(&mut v, Some(&good), None), Ok(Access::Granted(_))));
    assert!(matches!(authenticate(&mut v, Some(&good), Some(PROVIDER)), Ok(Access::Granted(_))));
    assert_eq!(authenticate(&mut v, None, None).unwrap_err(), "ERR_JWT_MISSING");
    let forged = token(&k.attacker, &claims());
    assert_eq!(authenticate(&mut v, Some(&forged), None).unwrap_err(), "ERR_JWKS_NO_MATCHING_KEY");
    let expired = token(&k.es256, &claims_with(json!({"exp": NOW - 100})));
    assert_eq!(authenticate(&mut v, Some(&expired), None).unwrap_err(), "ERR_JWT_EXPIRED");
    assert_eq!(authenticate(&mut v, Some(&good), Some("nobody")).unwrap_err(), "ERR_POLICY_INVALID");
}

#[test]
fn guard_requirements_are_checked_as_a_rules_are() {
    let mut v = default_verifier();
    let token = token(&keys().es256, &claims_with(json!({"client_id": "billing-bot", "scope": "read:orders"})));
    let Ok(Access::Granted(verified)) = authenticate(&mut v, Some(&token), None) else { panic!("verifies") };
    let check = |json: serde_json::Value| {
        v.check_requirement(&verified, &Requirement::for_guard(&json.to_string()).unwrap(), None)
    };
    assert!(check(json!({"scopes": ["read:orders"]})).is_ok());
    assert_eq!(check(json!({"scopes": ["write:orders"]})).unwrap_err().code(), "ERR_SCOPE_INSUFFICIENT");
    assert!(check(json!({"claims": {"client_id": ["billing-bot", "audit-bot"]}})).is_ok());
    // Who before what: a bot not admitted is told nothing about scopes.
    let refused = check(json!({"claims": {"client_id": ["audit-bot"]}, "scopes": ["write:orders"]})).unwrap_err();
    assert_eq!(refused.code(), "ERR_PRINCIPAL_DENIED");
    // Bad guards are refused when made, with the field's path.
    let path = |json: serde_json::Value| {
        Requirement::for_guard(&json.to_string()).unwrap_err().path().unwrap_or_default().to_owned()
    };
    assert_eq!(path(json!({"scopes": ["two words"]})), "guard.scopes[0]");
    assert_eq!(path(json!({"claims": {"client_id": []}})), "guard.claims.client_id");
    assert_eq!(path(json!({"peers": []})), "guard.peers");
    assert_eq!(path(json!({"peers": ["not a uri"]})), "guard.peers[0]");
    assert!(Requirement::for_guard(r#"{"scope": ["x"]}"#).is_err(), "unknown fields stay errors");
}

#[test]
fn a_peers_guard_needs_a_verified_peer_id_named_in_it() {
    let mut v = default_verifier();
    let token = token(&keys().es256, &claims_with(json!({"scope": "read:orders"})));
    let Ok(Access::Granted(verified)) = authenticate(&mut v, Some(&token), None) else { panic!("verifies") };
    let billing = "spiffe://example.org/ns/bots/sa/billing";
    let guard = Requirement::for_guard(&json!({"peers": [billing], "scopes": ["read:orders"]}).to_string()).unwrap();
    assert!(v.check_requirement(&verified, &guard, Some(billing)).is_ok());
    for peer in [None, Some("spiffe://example.org/ns/bots/sa/audit"), Some("spiffe://example.org/ns/bots/sa/billing/")]
    {
        assert_eq!(v.check_requirement(&verified, &guard, peer).unwrap_err().code(), "ERR_PEER_DENIED", "{peer:?}");
    }
    // Who before what: the right peer without the scope is told about the scope.
    let wide = Requirement::for_guard(&json!({"peers": [billing], "scopes": ["write:orders"]}).to_string()).unwrap();
    assert_eq!(v.check_requirement(&verified, &wide, Some(billing)).unwrap_err().code(), "ERR_SCOPE_INSUFFICIENT");
    assert_eq!(v.check_requirement(&verified, &wide, None).unwrap_err().code(), "ERR_PEER_DENIED");
}
