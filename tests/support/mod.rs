//! Shared helpers for the integration tests: one set of generated keys per test binary, tokens
//! built from claims or from exact header/payload text, and a default policy.
//!
//! Times are fixed: `NOW` is far in the future and valid tokens expire after it, as in Envoy's
//! jwt_authn tests. Helpers never print a token or key material.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod rng;

use edgeward::issuer::{PrivateJwk, jwks, sign_token};
use edgeward::{Algorithm, Error, VerifiedToken, Verifier, base64url};
use serde_json::{Map, Value, json};
use std::sync::{Arc, OnceLock};

/// The fixed "current time" of every test (2033-05-18).
pub const NOW: i64 = 2_000_000_000;
/// The issuer of the default provider.
pub const ISSUER: &str = "https://idp.example.com";
/// The audience of the default provider.
pub const AUDIENCE: &str = "orders-api";
/// The default provider's name.
pub const PROVIDER: &str = "corp-idp";
/// No required scope.
pub const NO_SCOPES: &[&str] = &[];

/// Generated keys, one per algorithm, plus a second ES256 key and an attacker's ES256 key.
pub struct Keys {
    pub es256: PrivateJwk,
    pub es256_second: PrivateJwk,
    pub es384: PrivateJwk,
    pub es512: PrivateJwk,
    pub rs256: PrivateJwk,
    pub rs384: PrivateJwk,
    pub rs512: PrivateJwk,
    pub ps256: PrivateJwk,
    pub ps384: PrivateJwk,
    pub ps512: PrivateJwk,
    pub eddsa: PrivateJwk,
    pub attacker: PrivateJwk,
}

/// The keys of this test binary, generated once (RSA generation is slow).
pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let make = |alg: Algorithm, kid: &str| PrivateJwk::generate(alg, Some(kid)).unwrap();
        Keys {
            es256: make(Algorithm::ES256, "es256-1"),
            es256_second: make(Algorithm::ES256, "es256-2"),
            es384: make(Algorithm::ES384, "es384-1"),
            es512: make(Algorithm::ES512, "es512-1"),
            rs256: make(Algorithm::RS256, "rs256-1"),
            rs384: make(Algorithm::RS384, "rs384-1"),
            rs512: make(Algorithm::RS512, "rs512-1"),
            ps256: make(Algorithm::PS256, "ps256-1"),
            ps384: make(Algorithm::PS384, "ps384-1"),
            ps512: make(Algorithm::PS512, "ps512-1"),
            eddsa: make(Algorithm::EdDSA, "eddsa-1"),
            attacker: make(Algorithm::ES256, "attacker-1"),
        }
    })
}

/// The generated key for `alg`.
pub fn key(alg: Algorithm) -> &'static PrivateJwk {
    let k = keys();
    match alg {
        Algorithm::ES256 => &k.es256,
        Algorithm::ES384 => &k.es384,
        Algorithm::ES512 => &k.es512,
        Algorithm::RS256 => &k.rs256,
        Algorithm::RS384 => &k.rs384,
        Algorithm::RS512 => &k.rs512,
        Algorithm::PS256 => &k.ps256,
        Algorithm::PS384 => &k.ps384,
        Algorithm::PS512 => &k.ps512,
        Algorithm::EdDSA => &k.eddsa,
        other => panic!("no generated key for {other:?}"),
    }
}

/// A JSON object from a `json!` value.
pub fn obj(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => panic!("expected an object"),
    }
}

/// Claims of a valid access token: issued a minute before `NOW`, expiring ten minutes after.
pub fn claims() -> Map<String, Value> {
    obj(json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "bot-7",
        "iat": NOW - 60,
        "exp": NOW + 600,
        "scope": "read:orders write:order_status",
    }))
}

/// `claims()` with members replaced or added.
pub fn claims_with(changes: Value) -> Map<String, Value> {
    let mut map = claims();
    map.extend(obj(changes));
    map
}

/// `claims()` without the named members.
pub fn claims_without(names: &[&str]) -> Map<String, Value> {
    let mut map = claims();
    for name in names {
        map.remove(*name);
    }
    map
}

/// A token signed by `key` (header: `alg` and `kid` of the key).
pub fn token(key: &PrivateJwk, claims: &Map<String, Value>) -> String {
    sign_token(key, &Map::new(), claims)
}

/// A token signed by `key` with extra header members (`alg`/`kid` are added unless given).
pub fn token_with_header(key: &PrivateJwk, header: Value, claims: &Map<String, Value>) -> String {
    sign_token(key, &obj(header), claims)
}

/// A token whose header and payload are exactly the given texts, properly signed by `key`, so
/// that only the property under test is wrong.
pub fn raw_token(key: &PrivateJwk, header: &str, payload: &str) -> String {
    raw_token_bytes(key, header.as_bytes(), payload.as_bytes())
}

/// Like [`raw_token`], from bytes (for BOMs and invalid UTF-8).
pub fn raw_token_bytes(key: &PrivateJwk, header: &[u8], payload: &[u8]) -> String {
    let input = format!("{}.{}", base64url::encode(header), base64url::encode(payload));
    let signature = key.sign(input.as_bytes());
    format!("{input}.{}", base64url::encode(&signature))
}

/// The claims of `claims()` as exact JSON text.
pub fn payload_json() -> String {
    Value::Object(claims()).to_string()
}

/// Splits a compact token into its three segments.
pub fn segments(token: &str) -> (String, String, String) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    (parts[0].to_owned(), parts[1].to_owned(), parts[2].to_owned())
}

/// The JWKS of every generated key except the second ES256 one and the attacker's.
pub fn all_jwks() -> Value {
    let k = keys();
    jwks(&[&k.es256, &k.es384, &k.es512, &k.rs256, &k.rs384, &k.rs512, &k.ps256, &k.ps384, &k.ps512, &k.eddsa])
}

/// A provider allowing every algorithm, with `jwks` inline.
pub fn provider_json(jwks: Value) -> Value {
    json!({
        "issuer": ISSUER,
        "audiences": [AUDIENCE],
        "algorithms": Algorithm::ALL.iter().map(|a| a.name()).collect::<Vec<_>>(),
        "local_jwks": jwks,
    })
}

/// The default policy: one provider (`corp-idp`) with every key, and the README's example rules.
pub fn policy_json() -> Value {
    policy_with_provider(provider_json(all_jwks()))
}

/// The default rules around one provider document.
pub fn policy_with_provider(provider: Value) -> Value {
    json!({
        "providers": { PROVIDER: provider },
        "rules": [
            { "match": { "prefix": "/healthz" } },
            { "match": { "prefix": "/orders", "methods": ["GET"] },
              "requires": { "provider_name": PROVIDER, "scopes": ["read:orders"] } },
            { "match": { "prefix": "/orders" },
              "requires": { "provider_name": PROVIDER, "scopes": ["write:order_status"] } }
        ]
    })
}

/// Sets `value` at a JSON pointer (creating the last member), e.g. `/providers/corp-idp/clock_skew_seconds`.
pub fn set(doc: &mut Value, pointer: &str, value: Value) {
    let (parent, name) = pointer.rsplit_once('/').unwrap();
    let parent = doc.pointer_mut(parent).unwrap_or_else(|| panic!("no {parent}"));
    match parent {
        Value::Object(map) => {
            map.insert(name.to_owned(), value);
        }
        Value::Array(items) => items[name.parse::<usize>().unwrap()] = value,
        _ => panic!("{pointer}: parent is not a container"),
    }
}

/// A verifier for a policy document.
pub fn verifier(policy: &Value) -> Verifier {
    Verifier::from_json(&policy.to_string()).unwrap_or_else(|e| panic!("policy refused: {e}"))
}

/// A verifier for the default policy.
pub fn default_verifier() -> Verifier {
    verifier(&policy_json())
}

/// A verifier for the default policy with the provider changed at `pointer` (relative to it).
pub fn verifier_with(changes: &[(&str, Value)]) -> Verifier {
    let mut policy = policy_json();
    for (pointer, value) in changes {
        set(&mut policy, pointer, value.clone());
    }
    verifier(&policy)
}

/// Verifies `token` for the default provider at `NOW`, needing no scope.
pub fn check(verifier: &mut Verifier, token: &str) -> Result<Arc<VerifiedToken>, Error> {
    verifier.verify(token, Some(PROVIDER), NO_SCOPES, NOW)
}

/// Verifies `token` for the default provider at `now`.
pub fn check_at(verifier: &mut Verifier, token: &str, now: i64) -> Result<Arc<VerifiedToken>, Error> {
    verifier.verify(token, Some(PROVIDER), NO_SCOPES, now)
}

/// The error code of a result (`"OK"` when it succeeded).
pub fn code<T>(result: &Result<T, Error>) -> &'static str {
    match result {
        Ok(_) => "OK",
        Err(e) => e.code(),
    }
}

/// The claim named by a failed result.
pub fn claim_of<T>(result: &Result<T, Error>) -> Option<String> {
    result.as_ref().err().and_then(|e| e.claim().map(str::to_owned))
}

/// Asserts the code (and, if given, the claim) of a result.
#[track_caller]
pub fn assert_refused<T: std::fmt::Debug>(result: Result<T, Error>, want_code: &str, want_claim: Option<&str>) {
    let got = code(&result);
    assert_eq!(got, want_code, "error: {:?}", result.as_ref().err());
    if let Some(claim) = want_claim {
        assert_eq!(claim_of(&result).as_deref(), Some(claim), "claim of {got}");
    }
}

/// Asserts the token was accepted.
#[track_caller]
pub fn assert_accepted<T: std::fmt::Debug>(result: Result<T, Error>) -> T {
    match result {
        Ok(t) => t,
        Err(e) => panic!("refused with {}: {e}", e.code()),
    }
}
