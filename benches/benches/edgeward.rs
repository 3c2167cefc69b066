//! edgeward: a fresh token every iteration (cache off), and the verified-token cache hit path.
use criterion::{Criterion, criterion_group, criterion_main};
use edgeward::Verifier;
use edgeward_bench::{ALGORITHMS, NOW, fixture};
use std::hint::black_box;
use std::time::Duration;

fn bench(c: &mut Criterion) {
    for alg in ALGORITHMS {
        let fixture = fixture(alg);
        let mut group = c.benchmark_group(alg.name());
        let mut cold = Verifier::from_json(&fixture.policy_json(0)).expect("policy");
        let mut next = fixture.tokens.iter().cycle();
        group.bench_function("edgeward_cold", |b| {
            b.iter(|| {
                let token = next.next().expect("cycle");
                black_box(cold.verify(token, None, &["read:orders"], NOW).expect("valid"))
            })
        });
        let mut warm = Verifier::from_json(&fixture.policy_json(4096)).expect("policy");
        let token = &fixture.tokens[0];
        warm.verify(token, None, &["read:orders"], NOW).expect("valid");
        group.bench_function("edgeward_cache_hit", |b| {
            b.iter(|| black_box(warm.verify(black_box(token), None, &["read:orders"], NOW).expect("valid")))
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
