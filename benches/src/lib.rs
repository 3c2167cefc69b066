//! Shared fixtures for the benchmarks: one key per algorithm and a pool of distinct tokens signed
//! by it, so every verifier under test sees exactly the same inputs.

use edgeward::Algorithm;
use edgeward::issuer::{PrivateJwk, jwks, sign_token};
use serde_json::{Value, json};

/// Tokens per algorithm in the cold pool (each verified once per pass).
pub const POOL: usize = 512;
/// The `now` given to edgeward (jsonwebtoken reads the clock; `exp` is far beyond both).
pub const NOW: i64 = 1_800_000_000;
/// Issuer and audience of every token.
pub const ISSUER: &str = "https://idp.bench";
/// Audience of every token.
pub const AUDIENCE: &str = "orders-api";

/// Everything one algorithm's benchmarks need.
pub struct Fixture {
    /// The algorithm.
    pub alg: Algorithm,
    /// The public JWK (JSON).
    pub public_jwk: Value,
    /// Distinct tokens.
    pub tokens: Vec<String>,
}

/// Builds the fixture for `alg` (RSA key generation takes a moment).
pub fn fixture(alg: Algorithm) -> Fixture {
    let key = PrivateJwk::generate(alg, Some("bench-key")).expect("key generation");
    let public_jwk = jwks(&[&key])["keys"][0].clone();
    let tokens = (0..POOL)
        .map(|i| {
            let claims = json!({
                "iss": ISSUER, "aud": AUDIENCE, "sub": format!("bot-{i}"), "jti": format!("t-{i}"),
                "iat": NOW - 60, "exp": 4_000_000_000u64, "scope": "read:orders write:order_status"
            });
            sign_token(&key, &serde_json::Map::new(), claims.as_object().expect("object"))
        })
        .collect();
    Fixture { alg, public_jwk, tokens }
}

impl Fixture {
    /// The policy JSON with `token_cache_size` set to `cache`.
    pub fn policy_json(&self, cache: usize) -> String {
        json!({
            "providers": { "idp": {
                "issuer": ISSUER, "audiences": [AUDIENCE], "algorithms": [self.alg.name()],
                "local_jwks": { "keys": [self.public_jwk.clone()] }
            }},
            "token_cache_size": cache
        })
        .to_string()
    }
}

/// Every algorithm, in table order.
pub const ALGORITHMS: [Algorithm; 5] =
    [Algorithm::ES256, Algorithm::ES384, Algorithm::RS256, Algorithm::PS256, Algorithm::EdDSA];
