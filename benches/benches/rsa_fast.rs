//! RS256 and PS256 signature verification alone (no token parsing): edgeward's path
//! (square-and-multiply — natively on crypto-bigint's Montgomery arithmetic, with
//! `--features edgeward/rsa-kernel` on the wasm builds' kernel, src/rsa_fast/monty.rs — and its own
//! EMSA checks)
//! against the `rsa` crate's own verify (its constant-time exponentiation), on the same 64
//! signatures of a 2048-bit key. Run with `cargo bench --bench rsa_fast` in `benches/`.
use criterion::{Criterion, criterion_group, criterion_main};
use edgeward::issuer::PrivateJwk;
use edgeward::{Algorithm, KeySet, PublicKey};
use rsa::signature::Verifier as _;
use sha2::Sha256;
use std::hint::black_box;
use std::time::Duration;

fn bench(c: &mut Criterion) {
    for alg in [Algorithm::RS256, Algorithm::PS256] {
        let private = PrivateJwk::generate(alg, Some("k")).expect("key");
        let jwks = serde_json::json!({ "keys": [private.public_jwk()] }).to_string();
        let set = KeySet::from_bytes(jwks.as_bytes(), &[alg]).expect("jwks");
        let PublicKey::Rsa(key) = &set.keys()[0].key else { panic!("an RSA key") };
        let cases: Vec<(Vec<u8>, Vec<u8>)> = (0..64)
            .map(|i| {
                let message = format!("eyJhbGciOiJSUzI1NiJ9.{}{i}", "x".repeat(220)).into_bytes();
                let signature = private.sign(&message);
                (message, signature)
            })
            .collect();
        let pkcs1 = rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key.public_key().clone());
        let pss = rsa::pss::VerifyingKey::<Sha256>::new_with_salt_len(key.public_key().clone(), 32);
        let crate_verify = |m: &[u8], s: &[u8]| match alg {
            Algorithm::RS256 => pkcs1.verify(m, &rsa::pkcs1v15::Signature::try_from(s).expect("sig")).is_ok(),
            _ => pss.verify(m, &rsa::pss::Signature::try_from(s).expect("sig")).is_ok(),
        };
        let ours = PublicKey::Rsa(key.clone());
        assert!(cases.iter().all(|(m, s)| crate_verify(m, s) && alg.verify(&ours, m, s).is_ok()));

        let mut group = c.benchmark_group(format!("{}_signature", alg.name().to_lowercase()));
        let mut next = cases.iter().cycle();
        group.bench_function("rsa_crate_verify", |b| {
            b.iter(|| {
                let (m, s) = next.next().expect("cycle");
                black_box(crate_verify(m, s))
            })
        });
        group.bench_function("edgeward", |b| {
            b.iter(|| {
                let (m, s) = next.next().expect("cycle");
                black_box(alg.verify(&ours, m, s).is_ok())
            })
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
