//! Full verification of untrusted tokens against a fixed policy and keys of every algorithm.
//! The first input byte picks the time and scopes; the rest is the token.
#![no_main]
use edgeward::issuer::{PrivateJwk, jwks, sign_token};
use edgeward::{Algorithm, Policy, Verifier};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

struct Fixture {
    /// Loaded once: building the P-256 tables for every input made this target run ~30 inputs/s.
    policy: Policy,
    jwks: String,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let keys: Vec<PrivateJwk> = [Algorithm::ES256, Algorithm::EdDSA]
            .iter()
            .map(|alg| PrivateJwk::generate(*alg, Some(alg.name())).expect("key generation"))
            .collect();
        let refs: Vec<&PrivateJwk> = keys.iter().collect();
        let jwks = jwks(&refs).to_string();
        let policy = serde_json::json!({
            "providers": { "p": {
                "issuer": "https://idp.test", "audiences": ["api"],
                "algorithms": ["ES256", "EdDSA"],
                "local_jwks": serde_json::from_str::<serde_json::Value>(&jwks).expect("jwks json"),
                "max_lifetime_seconds": 3600
            }},
            "deny_wildcard_scopes": true,
            "token_cache_size": 16
        })
        .to_string();
        let policy = Policy::from_json(&policy).expect("fixed policy loads");
        // Print one valid token so a seed corpus can start from it.
        let claims = serde_json::json!({"iss":"https://idp.test","aud":"api","exp":2000,"iat":1000,"scope":"a b"});
        let token = sign_token(&keys[0], &serde_json::Map::new(), claims.as_object().expect("object"));
        let _ = std::fs::write("/tmp/edgeward-fuzz-seed-token", token);
        Fixture { policy, jwks }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Ok(token) = std::str::from_utf8(rest) else { return };
    let fixture = fixture();
    let mut verifier = Verifier::new(fixture.policy.clone());
    let now = if selector & 1 == 0 { 1500 } else { 5000 };
    let scopes: &[&str] = if selector & 2 == 0 { &["a"] } else { &["c"] };
    let first = verifier.verify(token, None, scopes, now).map(|t| t.claims.clone());
    // The cache must give the same verdict as a full verification.
    let second = verifier.verify(token, None, scopes, now).map(|t| t.claims.clone());
    assert_eq!(first, second);
    let _ = verifier.set_jwks("p", fixture.jwks.as_bytes());
});
