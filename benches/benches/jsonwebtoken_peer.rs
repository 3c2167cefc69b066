//! Shared by both jsonwebtoken benchmarks: the same tokens through `jsonwebtoken::decode` with
//! the same checks (algorithm, issuer, audience, exp), under whichever crypto provider the
//! including binary installed.
use criterion::Criterion;
use edgeward::Algorithm;
use edgeward_bench::{ALGORITHMS, AUDIENCE, ISSUER, fixture};
use jsonwebtoken::{DecodingKey, Validation, decode, jwk::Jwk};
use std::hint::black_box;

fn peer_algorithm(alg: Algorithm) -> jsonwebtoken::Algorithm {
    match alg {
        Algorithm::ES256 => jsonwebtoken::Algorithm::ES256,
        Algorithm::ES384 => jsonwebtoken::Algorithm::ES384,
        Algorithm::RS256 => jsonwebtoken::Algorithm::RS256,
        Algorithm::PS256 => jsonwebtoken::Algorithm::PS256,
        Algorithm::EdDSA => jsonwebtoken::Algorithm::EdDSA,
        Algorithm::RS384 => jsonwebtoken::Algorithm::RS384,
        Algorithm::RS512 => jsonwebtoken::Algorithm::RS512,
        Algorithm::PS384 => jsonwebtoken::Algorithm::PS384,
        Algorithm::PS512 => jsonwebtoken::Algorithm::PS512,
        // ES512 (jsonwebtoken has none) and what edgeward adds later: not in ALGORITHMS.
        other => panic!("no jsonwebtoken peer for {}", other.name()),
    }
}

pub fn bench_peer(c: &mut Criterion, name: &str) {
    for alg in ALGORITHMS {
        let fixture = fixture(alg);
        let jwk: Jwk = serde_json::from_value(fixture.public_jwk.clone()).expect("jwk");
        let key = DecodingKey::from_jwk(&jwk).expect("decoding key");
        let mut validation = Validation::new(peer_algorithm(alg));
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        let mut next = fixture.tokens.iter().cycle();
        let mut group = c.benchmark_group(alg.name());
        group.bench_function(name, |b| {
            b.iter(|| {
                let token = next.next().expect("cycle");
                black_box(decode::<serde_json::Value>(token, &key, &validation).expect("valid"))
            })
        });
        group.finish();
    }
}
