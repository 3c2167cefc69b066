//! Proof of possession in the core: DPoP proofs (RFC 9449 §4.3) and their replay, tokens bound to
//! a client certificate (RFC 8705), `peers` and `bind_subject_to_peer`, and the refusals' HTTP
//! form. The surfaces run the same cases against a real Envoy TLS listener and a Node HTTPS server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use edgeward::issuer::{PrivateJwk, sign_token};
use edgeward::replay::{Recorded, ReplayCache};
use edgeward::{Connection, Decision, KeySet, Request, Verifier, base64url};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use support::*;

const HTU: &str = "https://api.example.com/orders/1";
const CERT_A: [u8; 32] = [0xa1; 32];
const CERT_B: [u8; 32] = [0xb2; 32];
const BILLING: &str = "spiffe://example.org/ns/bots/sa/billing";

fn thumbprint(key: &PrivateJwk) -> String {
    let set =
        KeySet::from_bytes(json!({"keys": [key.public_jwk()]}).to_string().as_bytes(), &[key.algorithm()]).unwrap();
    set.keys()[0].thumbprint.clone()
}

/// The bot's DPoP key (not the IdP's).
fn bot_key() -> &'static PrivateJwk {
    &keys().es256_second
}

/// An access token bound to `cnf`.
fn bound_token(cnf: Value) -> String {
    token(&keys().es256, &claims_with(json!({ "scope": "read:orders", "cnf": cnf })))
}

fn dpop_token() -> String {
    bound_token(json!({ "jkt": thumbprint(bot_key()) }))
}

/// A proof's claims for `GET HTU` at `NOW` carrying `ath` of `token`.
fn proof_claims(token: &str, jti: &str) -> Map<String, Value> {
    obj(json!({
        "htm": "GET",
        "htu": HTU,
        "iat": NOW,
        "jti": jti,
        "ath": base64url::encode(&Sha256::digest(token.as_bytes())),
    }))
}

fn public_jwk(key: &PrivateJwk) -> Value {
    let mut jwk = key.public_jwk();
    for member in ["kid", "alg", "use"] {
        jwk.as_object_mut().unwrap().remove(member);
    }
    jwk
}

fn proof_with(key: &PrivateJwk, header: Value, claims: &Map<String, Value>) -> String {
    let mut h = obj(json!({ "typ": "dpop+jwt", "jwk": public_jwk(key) }));
    h.extend(obj(header));
    sign_token(key, &h, claims)
}

fn proof(token: &str, jti: &str) -> String {
    proof_with(bot_key(), json!({}), &proof_claims(token, jti))
}

/// The default policy (ES256 provider) with `changes` to the provider, and `peers` on /orders.
fn policy(changes: Value, peers: Option<Value>) -> Verifier {
    let mut doc = policy_json();
    set(&mut doc, "/providers/corp-idp/algorithms", json!(["ES256"]));
    for (name, value) in obj(changes) {
        set(&mut doc, &format!("/providers/corp-idp/{name}"), value);
    }
    if let Some(peers) = peers {
        set(&mut doc, "/rules/1/requires/peers", peers);
    }
    verifier(&doc)
}

struct Call<'a> {
    authorization: String,
    dpop: Vec<String>,
    method: &'a str,
    connection: Connection<'a>,
}

fn call<'a>(scheme: &str, token: &str) -> Call<'a> {
    Call {
        authorization: format!("{scheme} {token}"),
        dpop: Vec::new(),
        method: "GET",
        connection: Connection { scheme: Some("https"), authority: Some("api.example.com"), ..Connection::default() },
    }
}

fn decide(v: &mut Verifier, c: &Call<'_>) -> Decision {
    let mut headers: Vec<(&str, &str)> = vec![("authorization", c.authorization.as_str())];
    headers.extend(c.dpop.iter().map(|p| ("dpop", p.as_str())));
    v.decide(&Request { connection: c.connection, ..Request::new(c.method, "/orders/1?page=2", &headers) }, NOW)
}

fn code(d: &Decision) -> &'static str {
    match &d.outcome {
        Ok(_) => "allowed",
        Err(e) => e.code(),
    }
}

fn dpop_call(token: &str, proof: String) -> Call<'static> {
    let mut c = call("DPoP", token);
    c.dpop.push(proof);
    c
}

#[test]
fn a_dpop_bound_token_passes_with_its_proof_once() {
    let mut v = policy(json!({}), None);
    let token = dpop_token();
    let d = decide(&mut v, &dpop_call(&token, proof(&token, "j-1")));
    let proof_use = d.outcome.as_ref().expect("allowed").proof.clone().expect("a proof to record");
    // Kept as long as it could be accepted: a proof of iat = now + skew lasts until now +
    // dpop_max_age_seconds + 2 × skew (+1).
    assert_eq!(proof_use.expires_at, NOW + 300 + 60 + 1);
    let mut store = ReplayCache::default();
    assert!(matches!(store.record(&proof_use, NOW), Recorded::Fresh(_)));

    // The same proof again: allowed by the core (it cannot know), a replay to the store.
    let mut again = decide(&mut v, &dpop_call(&token, proof(&token, "j-1")));
    let second = again.outcome.as_ref().unwrap().proof.clone().unwrap();
    assert_eq!(second, proof_use, "the same proof names the same entry");
    assert_eq!(store.record(&second, NOW + 1), Recorded::Replayed);
    again.refuse_replayed(v.policy());
    assert_eq!(code(&again), "ERR_DPOP_REPLAYED");
    let denial = again.outcome.unwrap_err().denial();
    assert_eq!(denial.status, 401);
    assert_eq!(
        denial.www_authenticate.as_deref(),
        Some(r#"DPoP realm="edgeward", error="invalid_dpop_proof", algs="ES256""#)
    );
    // Another jti of the same key is a new proof.
    let third = decide(&mut v, &dpop_call(&token, proof(&token, "j-2")));
    assert!(matches!(store.record(third.outcome.unwrap().proof.as_ref().unwrap(), NOW), Recorded::Fresh(_)));
}

#[test]
fn a_store_that_cannot_answer_refuses_with_503() {
    let mut v = policy(json!({}), None);
    let token = dpop_token();
    let mut d = decide(&mut v, &dpop_call(&token, proof(&token, "j-1")));
    d.refuse_store_unavailable(v.policy(), "connection refused");
    let denial = d.outcome.unwrap_err().denial();
    assert_eq!((denial.status, denial.code, denial.retry_after.is_some()), (503, "ERR_REPLAY_STORE_UNAVAILABLE", true));
}

#[test]
fn every_broken_proof_is_refused_with_its_reason() {
    let mut v = policy(json!({}), None);
    let token = dpop_token();
    let base = || proof_claims(&token, "j");
    let with = |changes: Value| {
        let mut claims = base();
        claims.extend(obj(changes));
        claims
    };
    let without = |name: &str| {
        let mut claims = base();
        claims.remove(name);
        claims
    };
    let bot = bot_key();
    let mut private = bot.to_json();
    private.as_object_mut().unwrap().remove("kid");
    let hs256 = {
        let input = format!(
            "{}.{}",
            base64url::encode(
                json!({"typ": "dpop+jwt", "alg": "HS256", "jwk": public_jwk(bot)}).to_string().as_bytes()
            ),
            base64url::encode(Value::Object(base()).to_string().as_bytes())
        );
        format!("{input}.{}", base64url::encode(&[7u8; 32]))
    };
    let flipped = {
        let p = proof(&token, "j");
        let (h, c, s) = segments(&p);
        let mut sig = base64url::decode(&s).unwrap();
        sig[10] ^= 1;
        format!("{h}.{c}.{}", base64url::encode(&sig))
    };
    let cases: Vec<(&str, String, &str)> = vec![
        ("typ JWT", proof_with(bot, json!({"typ": "JWT"}), &base()), "type"),
        ("no typ", sign_token(bot, &obj(json!({"jwk": public_jwk(bot)})), &base()), "type"),
        ("HS256", hs256, "algorithm"),
        ("ES384 (not in dpop_algorithms)", proof_with(&keys().es384, json!({}), &base()), "algorithm"),
        ("no jwk", sign_token(bot, &obj(json!({"typ": "dpop+jwt"})), &base()), "key"),
        ("private jwk", proof_with(bot, json!({"jwk": private}), &base()), "key"),
        ("another key than cnf.jkt", proof_with(&keys().attacker, json!({}), &base()), "key mismatch"),
        ("flipped signature", flipped, "signature"),
        ("htm POST", proof_with(bot, json!({}), &with(json!({"htm": "POST"}))), "method"),
        ("htm lowercase", proof_with(bot, json!({}), &with(json!({"htm": "get"}))), "method"),
        ("no htm", proof_with(bot, json!({}), &without("htm")), "method"),
        ("another path", proof_with(bot, json!({}), &with(json!({"htu": "https://api.example.com/orders/2"}))), "url"),
        ("another host", proof_with(bot, json!({}), &with(json!({"htu": "https://evil.example.com/orders/1"}))), "url"),
        ("http", proof_with(bot, json!({}), &with(json!({"htu": "http://api.example.com/orders/1"}))), "url"),
        ("no htu", proof_with(bot, json!({}), &without("htu")), "url"),
        ("iat 331 s old", proof_with(bot, json!({}), &with(json!({"iat": NOW - 331}))), "age"),
        ("iat 31 s ahead", proof_with(bot, json!({}), &with(json!({"iat": NOW + 31}))), "age"),
        ("no iat", proof_with(bot, json!({}), &without("iat")), "age"),
        ("no jti", proof_with(bot, json!({}), &without("jti")), "jti"),
        ("empty jti", proof_with(bot, json!({}), &with(json!({"jti": ""}))), "jti"),
        ("long jti", proof_with(bot, json!({}), &with(json!({"jti": "x".repeat(257)}))), "jti"),
        ("no ath", proof_with(bot, json!({}), &without("ath")), "ath"),
        (
            "ath of another token",
            proof_with(bot, json!({}), &with(json!({"ath": base64url::encode(&Sha256::digest(b"x"))}))),
            "ath",
        ),
        ("not a JWS", "a.b".to_owned(), "malformed"),
    ];
    for (name, proof, why) in cases {
        let d = decide(&mut v, &dpop_call(&token, proof));
        let err = d.outcome.expect_err(name);
        assert_eq!(err.code(), "ERR_DPOP_PROOF_INVALID", "{name}");
        let message = err.to_string().to_lowercase();
        let expected = match why {
            "type" => "typ",
            "algorithm" => "alg is not",
            "key" => "jwk is",
            "key mismatch" => "cnf.jkt",
            "signature" => "signature",
            "method" => "htm",
            "url" => "htu",
            "age" => "iat",
            "jti" => "jti",
            "ath" => "ath",
            _ => "well-formed",
        };
        assert!(message.contains(expected), "{name}: {message}");
        assert_eq!(err.denial().error, "invalid_dpop_proof", "{name}");
    }
    // Inside the window and the skew: fine; the query and a default port do not matter.
    for claims in [
        with(json!({"iat": NOW - 329})),
        with(json!({"iat": NOW + 29})),
        with(json!({"htu": "HTTPS://API.example.com:443/orders/1?other=1"})),
    ] {
        assert_eq!(code(&decide(&mut v, &dpop_call(&token, proof_with(bot, json!({}), &claims)))), "allowed");
    }
}

#[test]
fn a_bound_token_never_passes_as_a_bearer_token() {
    let mut v = policy(json!({}), None);
    let token = dpop_token();
    // Bearer scheme, even with a valid proof beside it.
    let mut bearer = call("Bearer", &token);
    bearer.dpop.push(proof(&token, "j"));
    let d = decide(&mut v, &bearer);
    assert_eq!(code(&d), "ERR_POP_MISSING");
    let denial = d.outcome.unwrap_err().denial();
    assert_eq!(
        denial.www_authenticate.as_deref(),
        Some(r#"DPoP realm="edgeward", error="invalid_token", algs="ES256""#)
    );
    // DPoP scheme without the header; two headers.
    assert_eq!(code(&decide(&mut v, &call("DPoP", &token))), "ERR_POP_MISSING");
    let mut two = dpop_call(&token, proof(&token, "a"));
    two.dpop.push(proof(&token, "b"));
    assert_eq!(code(&decide(&mut v, &two)), "ERR_DPOP_PROOF_INVALID");
    // An unbound token with the DPoP scheme.
    let plain = token_for_scope("read:orders");
    assert_eq!(code(&decide(&mut v, &dpop_call(&plain, proof(&plain, "c")))), "ERR_DPOP_PROOF_INVALID");
    // ... and a token bound some way edgeward cannot check.
    let other = bound_token(json!({ "jwk": public_jwk(bot_key()) }));
    assert_eq!(code(&decide(&mut v, &call("Bearer", &other))), "ERR_POP_MISSING");
    // An unbound bearer token passes under the default `proof_of_possession: none`.
    assert_eq!(code(&decide(&mut v, &call("Bearer", &plain))), "allowed");
}

fn token_for_scope(scope: &str) -> String {
    token(&keys().es256, &claims_with(json!({ "scope": scope })))
}

#[test]
fn modes_refuse_unbound_tokens() {
    let plain = token_for_scope("read:orders");
    let dpop = dpop_token();
    let mtls = bound_token(json!({ "x5t#S256": base64url::encode(&CERT_A) }));
    let with_cert = |v: &mut Verifier, scheme: &str, token: &str, proof: Option<String>| {
        let mut c = call(scheme, token);
        c.connection.peer_certificate_sha256 = Some(CERT_A);
        c.dpop.extend(proof);
        code(&decide(v, &c))
    };
    for (mode, plain_code, dpop_code, mtls_code) in [
        ("none", "allowed", "allowed", "allowed"),
        ("dpop", "ERR_POP_MISSING", "allowed", "ERR_POP_MISSING"),
        ("mtls", "ERR_POP_MISSING", "ERR_POP_MISSING", "allowed"),
        ("any", "ERR_POP_MISSING", "allowed", "allowed"),
    ] {
        let mut v = policy(json!({ "proof_of_possession": mode }), None);
        assert_eq!(with_cert(&mut v, "Bearer", &plain, None), plain_code, "{mode}: unbound");
        assert_eq!(with_cert(&mut v, "DPoP", &dpop, Some(proof(&dpop, mode))), dpop_code, "{mode}: DPoP-bound");
        assert_eq!(with_cert(&mut v, "Bearer", &mtls, None), mtls_code, "{mode}: certificate-bound");
    }
    // Under mtls, no DPoP challenge is offered.
    let mut v = policy(json!({ "proof_of_possession": "mtls" }), None);
    let denial = decide(&mut v, &call("Bearer", &plain)).outcome.unwrap_err().denial();
    assert_eq!(denial.www_authenticate.as_deref(), Some(r#"Bearer realm="edgeward", error="invalid_token""#));
}

#[test]
fn a_certificate_bound_token_needs_that_certificate() {
    let mut v = policy(json!({}), None);
    let token = bound_token(json!({ "x5t#S256": base64url::encode(&CERT_A) }));
    let mut run = |cert: Option<[u8; 32]>| {
        let mut c = call("Bearer", &token);
        c.connection.peer_certificate_sha256 = cert;
        code(&decide(&mut v, &c))
    };
    assert_eq!(run(Some(CERT_A)), "allowed");
    assert_eq!(run(Some(CERT_B)), "ERR_MTLS_BINDING_MISMATCH");
    assert_eq!(run(None), "ERR_POP_MISSING");
}

#[test]
fn peers_and_the_subject_bound_to_the_peer() {
    let plain = token_for_scope("read:orders");
    let run = |v: &mut Verifier, token: &str, peer: Option<&str>| {
        let mut c = call("Bearer", token);
        c.connection.peer_certificate_sha256 = peer.map(|_| CERT_A);
        c.connection.peer_uri_san = peer;
        let d = decide(v, &c);
        code(&d).to_owned()
    };
    let mut v = policy(json!({}), Some(json!([BILLING])));
    assert_eq!(run(&mut v, &plain, Some(BILLING)), "allowed");
    assert_eq!(run(&mut v, &plain, Some("spiffe://example.org/ns/bots/sa/audit")), "ERR_PEER_DENIED");
    assert_eq!(run(&mut v, &plain, None), "ERR_PEER_DENIED");
    let denied = {
        let mut c = call("Bearer", &plain);
        c.connection.peer_uri_san = Some("spiffe://x/y");
        decide(&mut v, &c)
    };
    assert_eq!(denied.outcome.unwrap_err().denial().status, 403);

    let mut bound = policy(json!({ "bind_subject_to_peer": true }), None);
    let billing = token(&keys().es256, &claims_with(json!({ "scope": "read:orders", "sub": BILLING })));
    assert_eq!(run(&mut bound, &billing, Some(BILLING)), "allowed");
    assert_eq!(run(&mut bound, &billing, Some("spiffe://example.org/ns/bots/sa/audit")), "ERR_MTLS_BINDING_MISMATCH");
    assert_eq!(run(&mut bound, &billing, None), "ERR_POP_MISSING");
}

#[test]
fn dpop_origins_name_the_public_origin_behind_a_proxy() {
    let mut v = policy(json!({ "dpop_origins": ["https://api.example.com"] }), None);
    let token = dpop_token();
    // The gateway sees http://10.0.0.7:8080 (TLS ended at the load balancer); the bot signed
    // the public URL.
    let mut c = dpop_call(&token, proof(&token, "j"));
    c.connection = Connection { scheme: Some("http"), authority: Some("10.0.0.7:8080"), ..Connection::default() };
    assert_eq!(code(&decide(&mut v, &c)), "allowed");
    // Without dpop_origins, the request's own origin is the one.
    let mut own = policy(json!({}), None);
    assert_eq!(code(&decide(&mut own, &c)), "ERR_DPOP_PROOF_INVALID");
    // No scheme or authority known: refused, not guessed.
    c.connection = Connection::default();
    assert_eq!(code(&decide(&mut own, &c)), "ERR_DPOP_PROOF_INVALID");
}

#[test]
fn a_cached_proof_key_still_refuses_private_members() {
    let mut v = policy(json!({}), None);
    let token = dpop_token();
    assert_eq!(code(&decide(&mut v, &dpop_call(&token, proof(&token, "1")))), "allowed");
    let mut private = bot_key().to_json();
    private.as_object_mut().unwrap().remove("kid");
    let leaked = proof_with(bot_key(), json!({"jwk": private}), &proof_claims(&token, "2"));
    assert_eq!(code(&decide(&mut v, &dpop_call(&token, leaked))), "ERR_DPOP_PROOF_INVALID");
    assert_eq!(code(&decide(&mut v, &dpop_call(&token, proof(&token, "3")))), "allowed");
}

#[test]
fn the_policy_fields_are_checked_at_load() {
    let refused = |changes: Value, peers: Option<Value>| {
        let mut doc = policy_json();
        for (name, value) in obj(changes) {
            set(&mut doc, &format!("/providers/corp-idp/{name}"), value);
        }
        if let Some(peers) = peers {
            set(&mut doc, "/rules/1/requires/peers", peers);
        }
        Verifier::from_json(&doc.to_string()).unwrap_err().path().unwrap_or_default().to_owned()
    };
    assert_eq!(refused(json!({"proof_of_possession": "tls"}), None), "providers.corp-idp.proof_of_possession");
    assert_eq!(refused(json!({"dpop_algorithms": []}), None), "providers.corp-idp.dpop_algorithms");
    assert_eq!(refused(json!({"dpop_algorithms": ["HS256"]}), None), "providers.corp-idp.dpop_algorithms[0]");
    assert_eq!(refused(json!({"dpop_algorithms": ["none"]}), None), "providers.corp-idp.dpop_algorithms[0]");
    assert_eq!(refused(json!({"dpop_max_age_seconds": 0}), None), "providers.corp-idp.dpop_max_age_seconds");
    assert_eq!(refused(json!({"dpop_max_age_seconds": 3601}), None), "providers.corp-idp.dpop_max_age_seconds");
    assert_eq!(refused(json!({"dpop_origins": ["https://a.example/x"]}), None), "providers.corp-idp.dpop_origins[0]");
    assert_eq!(refused(json!({"dpop_origins": ["a.example"]}), None), "providers.corp-idp.dpop_origins[0]");
    assert_eq!(refused(json!({}), Some(json!([]))), "rules[1].requires.peers");
    assert_eq!(refused(json!({}), Some(json!(["billing"]))), "rules[1].requires.peers[0]");
}

#[test]
fn the_issuers_dev_proof_is_one_the_core_accepts() {
    let bot = bot_key();
    assert_eq!(bot.thumbprint(), thumbprint(bot));
    let token = dpop_token();
    let proof =
        edgeward::issuer::dpop_proof(bot, "GET", "https://api.example.com/orders/1?page=2", &token, NOW, "dev-1")
            .unwrap();
    let mut v = policy(json!({}), None);
    assert_eq!(code(&decide(&mut v, &dpop_call(&token, proof.clone()))), "allowed");
    // The CLI's path: the token and the proof handed over, the connection described.
    let connection = Connection { scheme: Some("https"), authority: Some("api.example.com"), ..Connection::default() };
    let d = v.decide_token_with("GET", "/orders/1", Some(&token), Some(&proof), connection, NOW);
    assert!(d.outcome.unwrap().proof.is_some());
    let d = v.decide_token_with("GET", "/orders/1", Some(&token), None, connection, NOW);
    assert_eq!(code(&d), "ERR_POP_MISSING");
}
