//! Wycheproof signature vectors (`../shared/vectors/wycheproof/`, beside the repository) run
//! through edgeward's own key validation (`KeySet`) and key selection, then `Algorithm::verify`.
//!
//! For every group the public key is read as a JWK (`publicKeyJwk`/`keyJwk` where the file has
//! one, else built from the raw key), then every test must give: `valid` → accepted,
//! `invalid` → refused. If edgeward refuses a group's key, that group must hold no `valid` test.
//!
//! `acceptable` results are decided per flag, deliberately ([`acceptable_decision`]); a flag
//! without a decision fails the test, so a new vector file forces a new decision.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use edgeward::{Algorithm, Error, KeySet, base64url};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn vector_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors/wycheproof")
}

/// What edgeward does with an `acceptable` test, by its flag.
fn acceptable_decision(flag: &str) -> Option<bool> {
    match flag {
        // RSASSA-PKCS1-v1_5 DigestInfo without the NULL parameter. RFC 8017 §9.2 makes the NULL
        // part of the one encoding; accepting a second encoding of the same signature buys no
        // interoperability (JOSE signers all include it) and adds malleability. Refused.
        "MissingNull" => Some(false),
        _ => None,
    }
}

fn hex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd-length hex");
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex")).collect()
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

/// The algorithm a group exercises, if edgeward implements it.
fn group_algorithm(group: &Value) -> Option<Algorithm> {
    let sha = group["sha"].as_str();
    match group["type"].as_str()? {
        "EcdsaP1363Verify" => match (group["publicKey"]["curve"].as_str()?, sha?) {
            ("secp256r1", "SHA-256") => Some(Algorithm::ES256),
            ("secp384r1", "SHA-384") => Some(Algorithm::ES384),
            _ => None,
        },
        "EddsaVerify" => (group["publicKey"]["curve"].as_str()? == "edwards25519").then_some(Algorithm::EdDSA),
        "RsassaPkcs1Verify" => (sha? == "SHA-256").then_some(Algorithm::RS256),
        "RsassaPssVerify" => (sha? == "SHA-256" && group["mgfSha"].as_str()? == "SHA-256" && group["sLen"] == 32)
            .then_some(Algorithm::PS256),
        _ => None,
    }
}

/// The group's public key as a JWK.
fn group_jwk(group: &Value, alg: Algorithm) -> Value {
    for name in ["publicKeyJwk", "keyJwk"] {
        if let Some(jwk) = group[name].as_object().filter(|o| !o.is_empty()) {
            return Value::Object(jwk.clone());
        }
    }
    let key = &group["publicKey"];
    let b64 = |bytes: &[u8]| base64url::encode(bytes);
    match alg {
        Algorithm::ES256 | Algorithm::ES384 => {
            let size = if alg == Algorithm::ES256 { 32 } else { 48 };
            json!({
                "kty": "EC",
                "crv": alg.curve(),
                "x": b64(&fixed(&hex(key["wx"].as_str().unwrap()), size)),
                "y": b64(&fixed(&hex(key["wy"].as_str().unwrap()), size)),
            })
        }
        Algorithm::RS256 | Algorithm::PS256 => json!({
            "kty": "RSA",
            "n": b64(unsigned(&hex(key["modulus"].as_str().unwrap()))),
            "e": b64(unsigned(&hex(key["publicExponent"].as_str().unwrap()))),
        }),
        Algorithm::EdDSA => json!({"kty": "OKP", "crv": "Ed25519", "x": b64(&hex(key["pk"].as_str().unwrap()))}),
    }
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

fn run_file(path: &Path) -> Counts {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let doc: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let mut counts = Counts::default();
    for (group_index, group) in doc["testGroups"].as_array().expect("testGroups").iter().enumerate() {
        let tests = group["tests"].as_array().expect("tests");
        let Some(alg) = group_algorithm(group) else {
            counts.not_applicable += tests.len();
            continue;
        };
        let jwks = json!({ "keys": [group_jwk(group, alg)] });
        let set = match KeySet::from_value(&jwks, &[alg], "") {
            Ok(set) => set,
            Err(error) => {
                // A key edgeward refuses must not be one that has valid signatures.
                assert_eq!(error.code(), "ERR_JWKS_INVALID", "{name} group {group_index}");
                for test in tests {
                    assert_ne!(test["result"], "valid", "{name} tcId {}: key refused ({error})", test["tcId"]);
                }
                counts.key_refused_groups += 1;
                counts.key_refused_tests += tests.len();
                continue;
            }
        };
        let jwk = set.select(alg, None).unwrap_or_else(|e| panic!("{name} group {group_index}: {e}"));
        for test in tests {
            let id = &test["tcId"];
            let message = hex(test["msg"].as_str().unwrap());
            let signature = hex(test["sig"].as_str().unwrap());
            let outcome = alg.verify(&jwk.key, &message, &signature);
            if let Err(error) = &outcome {
                assert_eq!(*error, Error::BadSignature, "{name} tcId {id}: a refusal is a signature failure");
            }
            let comment = test["comment"].as_str().unwrap_or_default();
            match test["result"].as_str().unwrap() {
                "valid" => {
                    assert_eq!(outcome, Ok(()), "{name} tcId {id} ({comment}) must verify");
                    counts.valid += 1;
                }
                "invalid" => {
                    assert!(outcome.is_err(), "{name} tcId {id} ({comment}) must be refused");
                    counts.invalid += 1;
                }
                "acceptable" => {
                    let flags: Vec<&str> = test["flags"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
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
                other => panic!("{name} tcId {id}: unknown result {other}"),
            }
        }
    }
    let total = counts.valid
        + counts.invalid
        + counts.acceptable_accepted
        + counts.acceptable_refused
        + counts.key_refused_tests
        + counts.not_applicable;
    assert_eq!(Some(total), doc["numberOfTests"].as_u64().and_then(|n| usize::try_from(n).ok()), "{name}: every test");
    println!("wycheproof {name}: {counts:?}");
    counts
}

#[test]
fn wycheproof_signature_vectors() {
    let dir = vector_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("SKIPPED: no Wycheproof vectors at {} (they live beside the repository)", dir.display());
        return;
    };
    let mut files: Vec<PathBuf> =
        entries.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect();
    files.sort();
    assert!(!files.is_empty(), "the Wycheproof folder holds no vector files");
    let mut algorithms_run = Vec::new();
    for file in &files {
        let counts = run_file(file);
        // Every file there is for an algorithm edgeward implements: all of it must have run.
        assert_eq!(counts.not_applicable, 0, "{}: groups for an unsupported algorithm", file.display());
        assert!(counts.valid > 0, "{}: no valid vector ran", file.display());
        algorithms_run.push(file.file_name().unwrap().to_string_lossy().into_owned());
    }
    println!("wycheproof: {} files: {}", files.len(), algorithms_run.join(", "));
}
