//! The `jsonwebtoken` crate with its aws_lc backend, on the same tokens as edgeward's benchmark.
use criterion::{Criterion, criterion_group, criterion_main};
use std::time::Duration;

mod jsonwebtoken_peer;

fn bench(c: &mut Criterion) {
    jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default().expect("first provider");
    jsonwebtoken_peer::bench_peer(c, "jsonwebtoken_aws_lc");
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
