//! ES256 signature verification alone (no token parsing): edgeward's table-based fast path at each
//! window width against plain `p256::ecdsa::VerifyingKey::verify`, on the same 256 signatures; and
//! what loading a key costs with its table. Run with `cargo bench --bench p256_fast` in `benches/`.
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use edgeward::{Algorithm, KeySet, P256Key, base64url};
use p256::ecdsa::signature::{Signer as _, Verifier as _};
use p256::ecdsa::{Signature, SigningKey};
use std::hint::black_box;
use std::time::Duration;

struct Fixture {
    signing: SigningKey,
    /// Distinct signing inputs about the size of a JWT header and payload.
    messages: Vec<Vec<u8>>,
    /// Raw r‖s of each.
    signatures: Vec<Vec<u8>>,
}

fn fixture() -> Fixture {
    let signing = SigningKey::from_slice(&[0x42; 32]).expect("a scalar");
    let messages: Vec<Vec<u8>> = (0..256u32)
        .map(|i| {
            format!(
                "eyJhbGciOiJFUzI1NiJ9.{}",
                "x".repeat(200 + usize::try_from(i % 50).expect("small")) + &i.to_string()
            )
            .into_bytes()
        })
        .collect();
    let signatures = messages
        .iter()
        .map(|m| {
            let s: Signature = signing.sign(m);
            s.to_bytes().to_vec()
        })
        .collect();
    Fixture { signing, messages, signatures }
}

fn verify(c: &mut Criterion) {
    let f = fixture();
    let key = *f.signing.verifying_key();
    let cases: Vec<(&Vec<u8>, &Vec<u8>)> = f.messages.iter().zip(&f.signatures).collect();
    let mut group = c.benchmark_group("es256_signature");
    let mut next = cases.iter().cycle();
    group.bench_function("p256_verify", |b| {
        b.iter(|| {
            let (m, s) = next.next().expect("cycle");
            let sig = Signature::from_slice(s).expect("64 bytes");
            black_box(key.verify(m, &sig).is_ok())
        })
    });
    for w in [4u32, 5, 6, 7, 8] {
        let fast = P256Key::with_window_bits(key, w);
        assert!(cases.iter().all(|(m, s)| fast.verify(m, s)));
        group.bench_function(BenchmarkId::new("fast", format!("w{w}")), |b| {
            b.iter(|| {
                let (m, s) = next.next().expect("cycle");
                black_box(fast.verify(m, s))
            })
        });
    }
    group.finish();
}

fn load(c: &mut Criterion) {
    let f = fixture();
    let sec1 = f.signing.verifying_key().to_sec1_point(false);
    let bytes = sec1.as_bytes().to_vec();
    let mut group = c.benchmark_group("es256_key_load");
    group.bench_function("p256_from_sec1", |b| {
        b.iter(|| black_box(p256::ecdsa::VerifyingKey::from_sec1_bytes(black_box(&bytes)).expect("key")))
    });
    for w in [4u32, 5, 6, 7, 8] {
        let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&bytes).expect("key");
        eprintln!("window {w}: {} table bytes per key", P256Key::with_window_bits(key, w).table_bytes());
        group.bench_function(BenchmarkId::new("p256key", format!("w{w}")), |b| {
            b.iter(|| {
                let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(black_box(&bytes)).expect("key");
                black_box(P256Key::with_window_bits(key, w).table_bytes())
            })
        });
    }
    eprintln!("generator table: {} bytes per process", P256Key::generator_table_bytes());
    let jwks = format!(
        r#"{{"keys":[{{"kty":"EC","crv":"P-256","x":"{}","y":"{}"}}]}}"#,
        base64url::encode(&bytes[1..33]),
        base64url::encode(&bytes[33..65])
    );
    group.bench_function("keyset_one_key", |b| {
        b.iter(|| black_box(KeySet::from_bytes(black_box(jwks.as_bytes()), &[Algorithm::ES256]).expect("jwks")))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = verify, load
}
criterion_main!(benches);
