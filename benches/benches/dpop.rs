//! DPoP against bearer, through `Verifier::decide` as every host calls it: a cold bearer request
//! (a fresh ES256 token each time, cache off) against a DPoP request (the bound token from the
//! cache, a fresh proof each time under the bot's key, which the verifier keeps ready), and the
//! first proof of a key never seen (its table built).
use criterion::{Criterion, criterion_group, criterion_main};
use edgeward::issuer::{PrivateJwk, jwks, sign_token};
use edgeward::{Algorithm, Connection, Request, Verifier, base64url};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::hint::black_box;
use std::time::Duration;

const NOW: i64 = 1_800_000_000;
const POOL: usize = 256;
const URL: &str = "https://api.bench/orders/1";

fn obj(value: Value) -> Map<String, Value> {
    value.as_object().expect("object").clone()
}

fn policy(idp: &PrivateJwk, cache: usize) -> String {
    json!({
        "providers": { "idp": { "issuer": "https://idp.bench", "audiences": ["orders-api"], "local_jwks": jwks(&[idp]) } },
        "rules": [{ "match": { "prefix": "/orders" }, "requires": { "provider_name": "idp", "scopes": ["read:orders"] } }],
        "token_cache_size": cache
    })
    .to_string()
}

fn access_token(idp: &PrivateJwk, i: usize, cnf: Option<Value>) -> String {
    let mut claims = obj(json!({
        "iss": "https://idp.bench", "aud": "orders-api", "sub": format!("bot-{i}"), "jti": format!("t-{i}"),
        "iat": NOW - 60, "exp": NOW + 600, "scope": "read:orders"
    }));
    if let Some(cnf) = cnf {
        claims.insert("cnf".into(), cnf);
    }
    sign_token(idp, &Map::new(), &claims)
}

fn proof(bot: &PrivateJwk, token: &str, jti: &str) -> String {
    let mut jwk = bot.public_jwk();
    for member in ["kid", "alg", "use"] {
        jwk.as_object_mut().expect("object").remove(member);
    }
    let header = obj(json!({ "typ": "dpop+jwt", "jwk": jwk }));
    let claims = obj(json!({
        "htm": "GET", "htu": URL, "iat": NOW, "jti": jti,
        "ath": base64url::encode(&Sha256::digest(token.as_bytes()))
    }));
    sign_token(bot, &header, &claims)
}

fn thumbprint(bot: &PrivateJwk) -> String {
    let set = edgeward::KeySet::from_bytes(jwks(&[bot]).to_string().as_bytes(), &[Algorithm::ES256]).expect("jwks");
    set.keys()[0].thumbprint.clone()
}

fn decide(v: &mut Verifier, scheme: &str, token: &str, proof: Option<&str>) -> bool {
    let authorization = format!("{scheme} {token}");
    let mut headers = vec![("authorization", authorization.as_str())];
    headers.extend(proof.map(|p| ("dpop", p)));
    let connection = Connection { scheme: Some("https"), authority: Some("api.bench"), ..Connection::default() };
    v.decide(&Request { connection, ..Request::new("GET", "/orders/1", &headers) }, NOW).outcome.is_ok()
}

fn bench(c: &mut Criterion) {
    let idp = PrivateJwk::generate(Algorithm::ES256, Some("idp")).expect("key");
    let mut group = c.benchmark_group("DPoP");

    let bearer: Vec<String> = (0..POOL).map(|i| access_token(&idp, i, None)).collect();
    let mut cold = Verifier::from_json(&policy(&idp, 0)).expect("policy");
    let mut next = bearer.iter().cycle();
    group.bench_function("bearer_cold", |b| {
        b.iter(|| black_box(decide(&mut cold, "Bearer", next.next().expect("cycle"), None)))
    });

    let bot = PrivateJwk::generate(Algorithm::ES256, None).expect("key");
    let bound = access_token(&idp, 0, Some(json!({ "jkt": thumbprint(&bot) })));
    let proofs: Vec<String> = (0..POOL).map(|i| proof(&bot, &bound, &format!("p-{i}"))).collect();
    let mut warm = Verifier::from_json(&policy(&idp, 4096)).expect("policy");
    assert!(decide(&mut warm, "DPoP", &bound, Some(&proofs[0])), "a valid DPoP request");
    let mut next = proofs.iter().cycle();
    group.bench_function("dpop_known_key", |b| {
        b.iter(|| black_box(decide(&mut warm, "DPoP", &bound, Some(next.next().expect("cycle")))))
    });

    // Bots never seen: each request a new key (its bound token cached), so each proof builds its key.
    let fresh: Vec<(String, String)> = (0..POOL)
        .map(|i| {
            let bot = PrivateJwk::generate(Algorithm::ES256, None).expect("key");
            let token = access_token(&idp, i, Some(json!({ "jkt": thumbprint(&bot) })));
            let proof = proof(&bot, &token, "p");
            (token, proof)
        })
        .collect();
    let mut many = Verifier::from_json(&policy(&idp, 4096)).expect("policy");
    for (token, proof) in &fresh {
        assert!(decide(&mut many, "DPoP", token, Some(proof)));
    }
    let mut next = fresh.iter().cycle();
    group.bench_function("dpop_new_key", |b| {
        b.iter(|| {
            let (token, proof) = next.next().expect("cycle");
            black_box(decide(&mut many, "DPoP", token, Some(proof)))
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
