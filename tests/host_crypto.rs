//! The host-crypto seam (src/host_crypto.rs): what the core still checks when a host verifies
//! signatures, and that a host that cannot answer refuses the request. The real hosts (Envoy's
//! `verify_signature`, Node's `node:crypto`) run the same cases in envoy/tests/host-crypto.test.mjs
//! and js/test/host-crypto.test.mjs; here the "host" is the core's own verification, counted, or a
//! host that answers yes to everything, or one that fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use edgeward::{Algorithm, HostCrypto, HostKey, HostVerdict, Verifier};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use support::*;

/// How a test host answers.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// With the core's own verification of the key it was handed (decoded from the SPKI).
    Honest,
    /// Yes, always.
    Yes,
    /// The call fails.
    Broken,
}

struct TestHost {
    mode: Mutex<Mode>,
    algorithms: Vec<Algorithm>,
    calls: AtomicUsize,
    prepared: Mutex<Vec<u64>>,
}

impl TestHost {
    fn new(mode: Mode, algorithms: &[Algorithm]) -> Arc<TestHost> {
        Arc::new(TestHost {
            mode: Mutex::new(mode),
            algorithms: algorithms.to_vec(),
            calls: AtomicUsize::new(0),
            prepared: Mutex::new(Vec::new()),
        })
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl HostCrypto for TestHost {
    fn supports(&self, alg: Algorithm) -> bool {
        self.algorithms.contains(&alg)
    }

    fn prepare(&self, key: &HostKey) {
        self.prepared.lock().unwrap().push(key.id());
    }

    fn verify(&self, alg: Algorithm, key: &HostKey, input: &[u8], signature: &[u8]) -> HostVerdict {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match *self.mode.lock().unwrap() {
            Mode::Yes => HostVerdict::Valid,
            Mode::Broken => HostVerdict::Failed("test host is broken".into()),
            Mode::Honest => {
                // Rebuild the key from the SPKI the host was handed: proves the DER is the key's.
                use rsa::pkcs8::DecodePublicKey as _;
                use rsa::traits::PublicKeyParts as _;
                let public = rsa::PublicKey::from_public_key_der(key.spki_der()).unwrap();
                let jwk = json!({"kty": "RSA", "n": edgeward::base64url::encode(&public.n().to_be_bytes_trimmed_vartime()),
                                 "e": edgeward::base64url::encode(&public.e().to_be_bytes_trimmed_vartime())});
                let keys = edgeward::KeySet::from_bytes(json!({"keys": [jwk]}).to_string().as_bytes(), &[alg]).unwrap();
                match edgeward::verify_signature(None, alg, &keys.keys()[0], input, signature) {
                    Ok(()) => HostVerdict::Valid,
                    Err(_) => HostVerdict::Invalid,
                }
            }
        }
    }
}

const RSA: [Algorithm; 6] = Algorithm::RSA;

fn with_host(host: &Arc<TestHost>) -> Verifier {
    let mut verifier = default_verifier();
    verifier.set_host_crypto(host.clone());
    verifier
}

fn flip_last_signature_byte(token: &str) -> String {
    let (h, p, s) = segments(token);
    let mut sig = edgeward::base64url::decode(&s).unwrap();
    *sig.last_mut().unwrap() ^= 1;
    format!("{h}.{p}.{}", edgeward::base64url::encode(&sig))
}

fn with_signature(token: &str, sig: &[u8]) -> String {
    let (h, p, _) = segments(token);
    format!("{h}.{p}.{}", edgeward::base64url::encode(sig))
}

#[test]
fn an_honest_host_gives_the_cores_verdicts_and_is_asked_only_for_what_it_supports() {
    let host = TestHost::new(Mode::Honest, &RSA);
    let mut verifier = with_host(&host);
    for alg in RSA {
        let token = token(key(alg), &claims());
        assert_accepted(check(&mut verifier, &token));
        assert_refused(
            check(&mut verifier, &flip_last_signature_byte(&token)),
            "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
            None,
        );
    }
    assert_eq!(host.calls(), 12, "each RSA token went to the host once");
    for alg in [Algorithm::ES256, Algorithm::ES384, Algorithm::ES512, Algorithm::EdDSA] {
        assert_accepted(check(&mut verifier, &token(key(alg), &claims())));
    }
    assert_eq!(host.calls(), 12, "other algorithms stay in the core");

    // A host that supports only RS256 gets only RS256.
    let rs256_only = TestHost::new(Mode::Yes, &[Algorithm::RS256]);
    let mut verifier = with_host(&rs256_only);
    assert_refused(
        check(&mut verifier, &flip_last_signature_byte(&token(key(Algorithm::PS256), &claims()))),
        "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
        None,
    );
    assert_eq!(rs256_only.calls(), 0);
}

#[test]
fn a_host_that_says_yes_to_everything_still_cannot_pass_what_the_core_checks() {
    let host = TestHost::new(Mode::Yes, &Algorithm::ALL);
    let mut verifier = with_host(&host);
    let good = token(key(Algorithm::RS256), &claims());
    let sig = edgeward::base64url::decode(&segments(&good).2).unwrap();
    let n = {
        let jwk = key(Algorithm::RS256).public_jwk();
        edgeward::base64url::decode(jwk["n"].as_str().unwrap()).unwrap()
    };
    // n + 1, big-endian with carry (still k octets: a modulus is never all ones).
    let mut above_n = n.clone();
    for byte in above_n.iter_mut().rev() {
        let (sum, carry) = byte.overflowing_add(1);
        *byte = sum;
        if !carry {
            break;
        }
    }
    // Wrong lengths, s = n, s > n, empty: refused before the host is asked.
    for bad in [sig[1..].to_vec(), [&[0u8][..], &sig].concat(), n.clone(), above_n, vec![0xff; n.len()], Vec::new()] {
        assert_refused(
            check(&mut verifier, &with_signature(&good, &bad)),
            "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
            None,
        );
    }
    // ECDSA: r‖s of exactly twice the field size, 1 ≤ r, s < n, checked here too.
    for alg in [Algorithm::ES384, Algorithm::ES512] {
        let good = token(key(alg), &claims());
        let sig = edgeward::base64url::decode(&segments(&good).2).unwrap();
        let half = sig.len() / 2;
        let zero_r = [vec![0; half], sig[half..].to_vec()].concat();
        let zero_s = [sig[..half].to_vec(), vec![0; half]].concat();
        for bad in [zero_r, zero_s, vec![0xff; sig.len()], sig[1..].to_vec(), [&sig[..], &[0u8][..]].concat()] {
            assert_refused(
                check(&mut verifier, &with_signature(&good, &bad)),
                "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
                None,
            );
        }
    }
    assert_eq!(host.calls(), 0, "the host never saw a signature of the wrong length or out of range");

    // Claims, audience, lifetime: still the core's, whatever the host says.
    let expired = token(key(Algorithm::RS256), &claims_with(json!({"exp": NOW - 3600, "iat": NOW - 4000})));
    assert_refused(check(&mut verifier, &expired), "ERR_JWT_EXPIRED", Some("exp"));
    let other_aud = token(key(Algorithm::RS256), &claims_with(json!({"aud": "elsewhere"})));
    assert_refused(check(&mut verifier, &other_aud), "ERR_JWT_CLAIM_VALIDATION_FAILED", Some("aud"));

    // An algorithm the provider does not allow never reaches the host.
    let mut policy = policy_json();
    set(&mut policy, "/providers/corp-idp/algorithms", json!(["ES256"]));
    let mut strict = support::verifier(&policy);
    strict.set_host_crypto(host.clone());
    let calls = host.calls();
    assert_refused(check(&mut strict, &good), "ERR_JOSE_ALG_NOT_ALLOWED", None);
    assert_eq!(host.calls(), calls);
}

#[test]
fn a_host_that_cannot_answer_refuses_and_is_asked_again_next_time() {
    let host = TestHost::new(Mode::Broken, &RSA);
    let mut verifier = with_host(&host);
    let good = token(key(Algorithm::RS256), &claims());
    let result = check(&mut verifier, &good);
    assert_refused(result.clone(), "ERR_HOST_CRYPTO_FAILED", None);
    let denial = result.unwrap_err().denial();
    assert_eq!((denial.status, denial.error), (500, "server_error"));
    assert!(denial.www_authenticate.is_none(), "not the caller's fault: no challenge");
    // Not remembered as a bad signature: once the host answers again, the token passes.
    assert_refused(check(&mut verifier, &good), "ERR_HOST_CRYPTO_FAILED", None);
    assert_eq!(host.calls(), 2);
    *host.mode.lock().unwrap() = Mode::Honest;
    assert_accepted(check(&mut verifier, &good));
    assert_eq!(verifier.cache_stats().replayed_failures, 0);
}

#[test]
fn keys_are_prepared_once_when_they_load_and_not_again_when_a_reload_keeps_them() {
    let host = TestHost::new(Mode::Honest, &RSA);
    let mut verifier = with_host(&host);
    // The default policy's six RSA keys, its P-384 and its P-521 key (local_jwks; P-256 and
    // Ed25519 keys have no host form), prepared when the host was set.
    let first = host.prepared.lock().unwrap().clone();
    assert_eq!(first.len(), 8);
    let rs256 = key(Algorithm::RS256);
    let fresh = edgeward::issuer::PrivateJwk::generate(Algorithm::RS256, Some("rs256-2")).unwrap();
    let doc = edgeward::issuer::jwks(&[rs256, &fresh]).to_string();
    verifier.set_jwks(PROVIDER, doc.as_bytes()).unwrap();
    let after = host.prepared.lock().unwrap().clone();
    // The RS256 key is the same key with the same parameters: kept from the old set, with its
    // host form; only the new key is prepared.
    assert_eq!(after.len(), 9, "{after:?}");
    verifier.set_jwks(PROVIDER, doc.as_bytes()).unwrap();
    assert_eq!(host.prepared.lock().unwrap().len(), 9, "an unchanged reload prepares nothing");
    assert_accepted(check(&mut verifier, &token(&fresh, &claims())));
}
