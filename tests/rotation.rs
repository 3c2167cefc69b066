//! `edgeward jwks diff` in the core (src/rotation.rs): what a rotation adds, removes or changes,
//! and which of those refuse tokens that should pass. js/test/cli-jwks-diff.test.mjs runs the CLI
//! against a real oidc-provider rotating its keys.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use edgeward::issuer::{PrivateJwk, jwks};
use edgeward::rotation::{diff_documents, is_safe};
use edgeward::{Algorithm, Policy};
use serde_json::{Value, json};
use support::*;

fn provider(max_lifetime: Value, remote: bool) -> Policy {
    let mut p = json!({ "issuer": ISSUER, "audiences": [AUDIENCE], "algorithms": ["ES256"], "max_lifetime_seconds": max_lifetime });
    if remote {
        p["remote_jwks"] = json!({ "cluster": "idp", "uri": "https://idp.example.com/jwks", "cache_duration_seconds": 600, "refetch_cooldown_seconds": 45 });
    } else {
        p["local_jwks"] = jwks(&[&keys().es256]);
    }
    Policy::from_json(&json!({ "providers": { PROVIDER: p } }).to_string()).unwrap()
}

fn doc(keys: &[&PrivateJwk]) -> Vec<u8> {
    jwks(keys).to_string().into_bytes()
}

fn kinds(d: &edgeward::rotation::RotationDiff) -> Vec<(&'static str, String)> {
    d.findings.iter().map(|f| (f.kind, f.key.clone())).collect()
}

#[test]
fn adding_a_key_is_safe_once_published_a_cache_duration_ahead() {
    let policy = provider(json!(3600), true);
    let k = keys();
    let d = diff_documents(&policy.providers[0], &doc(&[&k.es256]), &doc(&[&k.es256, &k.es256_second])).unwrap();
    let changes: Vec<(&str, Option<String>)> = d.keys.iter().map(|c| (c.change, c.kid.clone())).collect();
    assert_eq!(changes, [("kept", Some("es256-1".into())), ("added", Some("es256-2".into()))]);
    assert_eq!(kinds(&d), [("new-key", "es256-2".into())]);
    assert!(
        d.findings[0].message.contains("600 s") && d.findings[0].message.contains("45 s"),
        "{}",
        d.findings[0].message
    );
    assert!(is_safe(&d));
}

#[test]
fn removing_a_key_names_how_long_its_tokens_live() {
    let k = keys();
    let d = diff_documents(
        &provider(json!(3600), true).providers[0],
        &doc(&[&k.es256, &k.es256_second]),
        &doc(&[&k.es256_second]),
    )
    .unwrap();
    assert_eq!(kinds(&d), [("removed-key", "es256-1".into())]);
    assert!(d.findings[0].message.contains("3630 s"), "max lifetime + skew: {}", d.findings[0].message);
    assert!(!is_safe(&d));
    let unbounded = diff_documents(
        &provider(Value::Null, true).providers[0],
        &doc(&[&k.es256, &k.es256_second]),
        &doc(&[&k.es256_second]),
    )
    .unwrap();
    assert!(unbounded.findings[0].message.contains("no lifetime bound"));
}

#[test]
fn a_kid_naming_other_key_material_is_a_changed_key() {
    let k = keys();
    let mut impostor = PrivateJwk::generate(Algorithm::ES256, Some("es256-1")).unwrap();
    impostor.set_kid(Some("es256-1"));
    let d = diff_documents(&provider(json!(3600), true).providers[0], &doc(&[&k.es256]), &doc(&[&impostor])).unwrap();
    assert_eq!(kinds(&d), [("changed-key", "es256-1".into())]);
    assert_eq!(d.keys.len(), 1, "one kid, changed; not also removed");
    assert!(!is_safe(&d));
}

#[test]
fn keys_the_provider_cannot_use_and_documents_it_refuses() {
    let k = keys();
    let p = provider(json!(3600), true);
    // An ES384 key under an ES256-only provider is left out.
    let d = diff_documents(&p.providers[0], &doc(&[&k.es256]), &doc(&[&k.es256, &k.es384])).unwrap();
    assert_eq!(kinds(&d), [("keys-left-out", String::new())]);
    // Nothing usable: gateways refuse the document and keep the old keys.
    let d = diff_documents(&p.providers[0], &doc(&[&k.es256]), &doc(&[&k.es384])).unwrap();
    assert_eq!(kinds(&d), [("new-document-refused", String::new())]);
    assert!(!is_safe(&d));
    // The old document must load: it is what gateways hold.
    assert!(diff_documents(&p.providers[0], b"not json", &doc(&[&k.es256])).is_err());
}

#[test]
fn a_local_jwks_provider_is_rotated_by_its_policy() {
    let k = keys();
    let d = diff_documents(
        &provider(json!(3600), false).providers[0],
        &doc(&[&k.es256]),
        &doc(&[&k.es256, &k.es256_second]),
    )
    .unwrap();
    assert!(d.findings[0].message.contains("policy itself"), "{}", d.findings[0].message);
}
