//! The `jsonwebtoken` crate with its rust_crypto backend, on the same tokens as edgeward's benchmark.
use criterion::{Criterion, criterion_group, criterion_main};
use std::time::Duration;

mod jsonwebtoken_peer;

fn bench(c: &mut Criterion) {
    jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default().expect("first provider");
    jsonwebtoken_peer::bench_peer(c, "jsonwebtoken_rust_crypto");
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
