//! Every resource bound of SECURITY.md's limits table, driven one step past the bound: the
//! documented error comes back (never a panic), and a refused key set leaves the current keys.
//!
//! The token-size and token-depth bounds at their defaults are also in `attacks.rs`
//! (`oversized_token_refused_before_decoding`, `deep_json_refused`); here they are checked
//! with a configured `max_token_bytes`, in the header as well as the claims.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use edgeward::issuer::{PrivateJwk, jwks};
use edgeward::{
    Algorithm, DEFAULT_MAX_RSA_BITS, Error, KEY_WINDOW_BITS, KeySet, Limit, MAX_CACHE_BYTES, MAX_CACHED_TOKEN_BYTES,
    MAX_CLOCK_SKEW_SECONDS, MAX_JSON_DEPTH, MAX_JSON_VALUES, MAX_JWKS_BYTES, MAX_JWKS_KEYS, MAX_POLICY_BYTES,
    MAX_RSA_BITS, MAX_TOKEN_CACHE_SIZE, MIN_RSA_BITS, Policy, PublicKey, Verifier, base64url,
};
use serde_json::{Value, json};
use support::*;

const JWT_INVALID: &str = "ERR_JWT_INVALID";
const JWKS_INVALID: &str = "ERR_JWKS_INVALID";
const POLICY_INVALID: &str = "ERR_POLICY_INVALID";

/// The policy's largest accepted `max_token_bytes` (1 MiB, `policy::MAX_MAX_TOKEN_BYTES`).
const MAX_MAX_TOKEN_BYTES: usize = 1024 * 1024;

fn es256_only() -> Verifier {
    verifier_with(&[("/providers/corp-idp/algorithms", json!(["ES256"]))])
}

fn verify(v: &mut Verifier, token: &str) -> Result<(), Error> {
    v.verify(token, Some(PROVIDER), NO_SCOPES, NOW).map(|_| ())
}

fn code<T>(result: &Result<T, Error>) -> Option<&'static str> {
    result.as_ref().err().map(Error::code)
}

/// `n` levels of arrays around a number: `[[[1]]]` is depth 3.
fn nested(n: usize) -> String {
    format!("{}1{}", "[".repeat(n), "]".repeat(n))
}

/// A JWKS document of `count` fresh ES256 keys.
fn es256_keys(count: usize) -> Vec<PrivateJwk> {
    (0..count).map(|i| PrivateJwk::generate(Algorithm::ES256, Some(&format!("k{i}"))).unwrap()).collect()
}

fn jwks_of(keys: &[PrivateJwk]) -> Value {
    jwks(&keys.iter().collect::<Vec<_>>())
}

/// A key set change that is refused must leave the provider's keys as they were.
fn assert_keys_kept(v: &mut Verifier) {
    verify(v, &token(&keys().es256, &claims())).expect("the current keys still verify");
}

// ---- token ----

#[test]
fn token_over_the_configured_max_token_bytes_is_invalid_before_decoding() {
    let good = token(&keys().es256, &claims());
    let mut v = verifier_with(&[("/max_token_bytes", json!(good.len()))]);
    verify(&mut v, &good).expect("a token of exactly max_token_bytes is read");
    let mut v = verifier_with(&[("/max_token_bytes", json!(good.len() - 1))]);
    assert_eq!(verify(&mut v, &good).err(), Some(Error::LimitExceeded(Limit::TokenBytes)));
    // Past the limit nothing is decoded: bytes that are not even base64url give the same error.
    let junk = "\u{0}".repeat(good.len());
    assert_eq!(verify(&mut v, &junk).err(), Some(Error::LimitExceeded(Limit::TokenBytes)));
    assert_eq!(code(&verify(&mut v, &junk)), Some(JWT_INVALID));
}

#[test]
fn max_token_bytes_itself_is_bounded() {
    let mut policy = policy_json();
    for (value, accepted) in [(0, false), (1, true), (MAX_MAX_TOKEN_BYTES, true), (MAX_MAX_TOKEN_BYTES + 1, false)] {
        set(&mut policy, "/max_token_bytes", json!(value));
        let loaded = Policy::from_json(&policy.to_string());
        assert_eq!(loaded.is_ok(), accepted, "max_token_bytes {value}");
        if !accepted {
            assert_eq!(code(&loaded), Some(POLICY_INVALID));
        }
    }
    // With the named opt-in, any u64 bound loads.
    let mut policy = policy_json();
    set(&mut policy, "/providers/corp-idp/max_lifetime_seconds", json!(u64::MAX));
    set(&mut policy, "/providers/corp-idp/allow_long_lived_tokens", json!(true));
    assert!(Policy::from_json(&policy.to_string()).is_ok());
}

#[test]
fn json_depth_in_header_and_claims() {
    let mut v = es256_only();
    let key = &keys().es256;
    let header = |extra: &str| format!(r#"{{"alg":"ES256","kid":"es256-1","x":{extra}}}"#);
    let claims = |extra: &str| {
        let mut text = payload_json();
        text.pop();
        format!(r#"{text},"x":{extra}}}"#)
    };
    // The object itself is one level: a member nested MAX_JSON_DEPTH - 1 deep is the most allowed.
    let at_limit = nested(MAX_JSON_DEPTH - 1);
    let over = nested(MAX_JSON_DEPTH);
    verify(&mut v, &raw_token(key, &header(&at_limit), &payload_json())).expect("header at the depth limit");
    verify(&mut v, &raw_token(key, &header("1"), &claims(&at_limit))).expect("claims at the depth limit");
    for token in [raw_token(key, &header(&over), &payload_json()), raw_token(key, &header("1"), &claims(&over))] {
        let result = verify(&mut v, &token);
        assert_eq!(result.as_ref().err(), Some(&Error::LimitExceeded(Limit::JsonDepth)));
        assert_eq!(code(&result), Some(JWT_INVALID));
    }
    // Far past the limit (serde_json's own recursion limit is 128), within the size limit: the same error.
    let deep = raw_token(key, &header(&nested(4_000)), &payload_json());
    assert_eq!(verify(&mut v, &deep).err(), Some(Error::LimitExceeded(Limit::JsonDepth)));
}

// ---- JWKS ----

#[test]
fn jwks_document_over_max_jwks_bytes_is_refused_and_current_keys_stay() {
    let mut v = es256_only();
    let keys_only = jwks(&[&keys().es256]).to_string();
    let padded = |total: usize| {
        let pad = total - keys_only.len() - r#","pad":"""#.len();
        format!(r#"{},"pad":"{}"}}"#, &keys_only[..keys_only.len() - 1], "x".repeat(pad))
    };
    let exact = padded(MAX_JWKS_BYTES);
    assert_eq!(exact.len(), MAX_JWKS_BYTES);
    assert_eq!(
        v.set_jwks(PROVIDER, exact.as_bytes()).map(|l| l.keys),
        Ok(1),
        "a document of exactly MAX_JWKS_BYTES loads"
    );
    let over = padded(MAX_JWKS_BYTES + 1);
    assert_eq!(code(&v.set_jwks(PROVIDER, over.as_bytes())), Some(JWKS_INVALID));
    assert_eq!(code(&KeySet::from_bytes(over.as_bytes(), &Algorithm::ALL)), Some(JWKS_INVALID));
    // Far over (8 MiB): refused on its length, before parsing.
    let huge = vec![b'['; 8 * MAX_JWKS_BYTES * 4];
    assert_eq!(code(&v.set_jwks(PROVIDER, &huge)), Some(JWKS_INVALID));
    assert_keys_kept(&mut v);
}

#[test]
fn jwks_with_more_than_max_jwks_keys_is_refused_and_current_keys_stay() {
    let mut v = es256_only();
    let mut many = es256_keys(MAX_JWKS_KEYS);
    let full = jwks_of(&many).to_string();
    assert_eq!(v.set_jwks(PROVIDER, full.as_bytes()).map(|l| l.keys), Ok(MAX_JWKS_KEYS));
    v.set_jwks(PROVIDER, jwks(&[&keys().es256]).to_string().as_bytes()).unwrap();
    many.push(PrivateJwk::generate(Algorithm::ES256, Some("one-too-many")).unwrap());
    let over = jwks_of(&many).to_string();
    let refused = v.set_jwks(PROVIDER, over.as_bytes());
    assert_eq!(code(&refused), Some(JWKS_INVALID));
    assert!(refused.unwrap_err().to_string().contains("keys"), "the error names `keys`");
    assert_keys_kept(&mut v);
    // Keys no allowed algorithm can use still count: the bound is on the document, not on usable keys.
    let mut mixed: Vec<Value> = jwks_of(&es256_keys(MAX_JWKS_KEYS))["keys"].as_array().unwrap().clone();
    mixed.push(json!({"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": base64url::encode(&[1u8; 32])}));
    let mixed = json!({ "keys": mixed }).to_string();
    assert_eq!(code(&KeySet::from_bytes(mixed.as_bytes(), &[Algorithm::ES256])), Some(JWKS_INVALID));
}

#[test]
fn jwks_nested_deeper_than_eight_is_refused() {
    // {"keys": [ {key, "ext": <n levels>} ]}: the document, the array and the key are 3 levels.
    let key = |extra: &str| {
        let mut text = jwks(&[&keys().es256])["keys"][0].to_string();
        text.pop();
        format!(r#"{{"keys":[{text},"ext":{extra}}}]}}"#)
    };
    let at_limit = key(&nested(5));
    assert_eq!(KeySet::from_bytes(at_limit.as_bytes(), &[Algorithm::ES256]).map(|k| k.keys().len()), Ok(1));
    for extra in [nested(6), nested(100_000)] {
        let over = key(&extra);
        let refused = KeySet::from_bytes(over.as_bytes(), &[Algorithm::ES256]);
        assert_eq!(code(&refused), Some(JWKS_INVALID), "depth {}", extra.len() / 2);
    }
}

/// An RSA JWK whose modulus is `bits` long (odd, top bit set; not a product of two primes, which
/// a verifier cannot tell and does not need).
fn rsa_jwk(bits: usize) -> Value {
    let mut n = vec![0x5au8; bits.div_ceil(8)];
    let top_bits = bits - (n.len() - 1) * 8;
    let top = 1u8 << (top_bits - 1);
    n[0] = top | (n[0] & (top - 1));
    let last = n.len() - 1;
    n[last] |= 1;
    json!({"kty": "RSA", "kid": format!("rsa-{bits}"), "n": base64url::encode(&n), "e": "AQAB"})
}

#[test]
fn rsa_modulus_must_be_between_min_and_max_bits() {
    let load = |bits: usize, max: usize| {
        KeySet::from_bytes_with(json!({ "keys": [rsa_jwk(bits)] }).to_string().as_bytes(), &[Algorithm::RS256], max)
    };
    // By default at most 4096 bits: a bogus token against an 8192-bit key costs ~16× more.
    assert_eq!(DEFAULT_MAX_RSA_BITS, 4096);
    for bits in [MIN_RSA_BITS, DEFAULT_MAX_RSA_BITS] {
        assert_eq!(load(bits, DEFAULT_MAX_RSA_BITS).map(|k| k.keys().len()), Ok(1), "{bits} bits");
    }
    let refused = load(DEFAULT_MAX_RSA_BITS + 1, DEFAULT_MAX_RSA_BITS);
    assert_eq!(code(&refused), Some(JWKS_INVALID));
    assert!(refused.unwrap_err().to_string().contains("allow_large_rsa_keys"), "names the field that allows more");
    // With the named opt-in, up to 8192; never more.
    assert_eq!(load(MAX_RSA_BITS, MAX_RSA_BITS).map(|k| k.keys().len()), Ok(1));
    for bits in [MIN_RSA_BITS - 1, 1024, MAX_RSA_BITS + 1, 16_384, 65_536] {
        let refused = load(bits, usize::MAX);
        assert_eq!(code(&refused), Some(JWKS_INVALID), "{bits} bits");
        assert!(refused.unwrap_err().to_string().contains(".n"), "names the modulus");
    }
    // Through a policy: the provider's allow_large_rsa_keys decides.
    let big = json!({ "keys": [rsa_jwk(8192)] });
    let mut policy = policy_json();
    set(&mut policy, "/providers/corp-idp/local_jwks", big.clone());
    assert_eq!(code(&Policy::from_json(&policy.to_string())), Some(POLICY_INVALID));
    set(&mut policy, "/providers/corp-idp/allow_large_rsa_keys", json!(true));
    let mut v = verifier(&policy);
    assert_eq!(v.set_jwks(PROVIDER, big.to_string().as_bytes()).map(|l| l.keys), Ok(1));
}

#[test]
fn json_values_in_a_token_are_bounded() {
    let mut v = es256_only();
    let key = &keys().es256;
    let with_values = |n: usize| {
        let mut text = payload_json();
        text.pop();
        format!(r#"{text},"x":[{}]}}"#, vec!["0"; n].join(","))
    };
    // payload_json() has a handful of values; a few hundred more still fit.
    verify(&mut v, &raw_token(key, r#"{"alg":"ES256","kid":"es256-1"}"#, &with_values(400))).expect("400 values");
    let result = verify(&mut v, &raw_token(key, r#"{"alg":"ES256","kid":"es256-1"}"#, &with_values(MAX_JSON_VALUES)));
    assert_eq!(result.err(), Some(Error::LimitExceeded(Limit::JsonValues)));
    let header = format!(r#"{{"alg":"ES256","kid":"es256-1","x":[{}]}}"#, vec!["0"; MAX_JSON_VALUES].join(","));
    let result = verify(&mut v, &raw_token(key, &header, &payload_json()));
    assert_eq!(code(&result), Some(JWT_INVALID));
}

#[test]
fn claims_are_read_only_once_the_signature_verified() {
    // A payload that is not JSON at all, under a bad signature: the signature decides (nothing
    // of the payload is parsed); under the right signature, the payload is refused as malformed.
    let mut v = es256_only();
    let key = &keys().es256;
    let good = raw_token(key, r#"{"alg":"ES256","kid":"es256-1"}"#, "not json");
    assert_eq!(verify(&mut v, &good).err().map(|e| e.code()), Some(JWT_INVALID));
    let (input, _) = good.rsplit_once('.').unwrap();
    let forged = format!("{input}.{}", base64url::encode(&[7u8; 64]));
    assert_eq!(verify(&mut v, &forged).err().map(|e| e.code()), Some("ERR_JWS_SIGNATURE_VERIFICATION_FAILED"));
}

#[test]
fn per_key_precomputation_is_one_table_per_p256_key_bounded_by_max_jwks_keys() {
    let many = jwks_of(&es256_keys(MAX_JWKS_KEYS)).to_string();
    let set = KeySet::from_bytes(many.as_bytes(), &[Algorithm::ES256]).unwrap();
    let tables: Vec<usize> = set
        .keys()
        .iter()
        .map(|jwk| match &jwk.key {
            PublicKey::P256(key) => key.table_bytes(),
            _ => panic!("an ES256 key"),
        })
        .collect();
    assert_eq!(tables.len(), MAX_JWKS_KEYS);
    // ⌈256/w⌉ windows of 2^(w−1) affine points of 64 bytes, plus one point (SECURITY.md: 148 KiB).
    let windows = 256usize.div_ceil(usize::try_from(KEY_WINDOW_BITS).unwrap());
    let per_key = (windows * (1usize << (KEY_WINDOW_BITS - 1)) + 1) * 64;
    assert!(tables.iter().all(|&bytes| bytes <= per_key), "{tables:?} vs {per_key}");
    let total: usize = tables.iter().sum();
    assert!(total <= MAX_JWKS_KEYS * per_key);
    assert!(total <= 10 * 1024 * 1024, "a full JWKS precomputes at most 10 MiB per verifier ({total} bytes)");
    // Keys that no allowed algorithm can use are skipped, so they get no table.
    let skipped = KeySet::from_bytes(many.as_bytes(), &[Algorithm::ES256, Algorithm::EdDSA]).unwrap();
    assert_eq!(skipped.keys().len(), MAX_JWKS_KEYS);
    let none = KeySet::from_bytes(many.as_bytes(), &[Algorithm::RS256]);
    assert_eq!(code(&none), Some(JWKS_INVALID), "a document with no usable key is refused");
}

// ---- policy ----

#[test]
fn policy_document_over_max_policy_bytes_or_too_deep_is_refused() {
    let mut policy = policy_json();
    set(&mut policy, "/pad", json!(""));
    let base = policy.to_string().len();
    set(&mut policy, "/pad", json!("x".repeat(MAX_POLICY_BYTES - base + 1)));
    let over = policy.to_string();
    assert_eq!(over.len(), MAX_POLICY_BYTES + 1);
    let refused = Policy::from_json(&over);
    assert_eq!(code(&refused), Some(POLICY_INVALID));
    assert!(refused.unwrap_err().to_string().contains("larger than"), "refused on size, not the unknown field");
    // Depth: 16 levels at most (the policy object is one).
    let mut policy = policy_json();
    set(&mut policy, "/providers/corp-idp/local_jwks/keys/0/ext", serde_json::from_str(&nested(20)).unwrap());
    assert_eq!(code(&Policy::from_json(&policy.to_string())), Some(POLICY_INVALID));
    let deep = format!(r#"{{"providers":{}}}"#, nested(100_000));
    assert_eq!(code(&Policy::from_json(&deep)), Some(POLICY_INVALID));
}

#[test]
fn policy_numbers_are_bounded() {
    let cases = [
        ("/token_cache_size", json!(MAX_TOKEN_CACHE_SIZE), true),
        ("/token_cache_size", json!(MAX_TOKEN_CACHE_SIZE + 1), false),
        ("/providers/corp-idp/clock_skew_seconds", json!(MAX_CLOCK_SKEW_SECONDS), true),
        ("/providers/corp-idp/clock_skew_seconds", json!(MAX_CLOCK_SKEW_SECONDS + 1), false),
        ("/providers/corp-idp/max_lifetime_seconds", json!(86_400), true),
        ("/providers/corp-idp/max_lifetime_seconds", json!(86_401), false),
        ("/providers/corp-idp/max_lifetime_seconds", json!(-1), false),
    ];
    for (pointer, value, accepted) in cases {
        let mut policy = policy_json();
        set(&mut policy, pointer, value.clone());
        let loaded = Policy::from_json(&policy.to_string());
        assert_eq!(loaded.is_ok(), accepted, "{pointer} = {value}");
        if !accepted {
            assert_eq!(code(&loaded), Some(POLICY_INVALID));
        }
    }
}

// ---- verified-token cache ----

fn distinct_token(i: usize, pad: usize) -> String {
    token(&keys().es256, &claims_with(json!({ "jti": format!("t{i}"), "pad": "p".repeat(pad) })))
}

#[test]
fn cache_entries_are_bounded_by_token_cache_size_oldest_first() {
    let mut v = verifier_with(&[("/token_cache_size", json!(3)), ("/providers/corp-idp/algorithms", json!(["ES256"]))]);
    let tokens: Vec<String> = (0..4).map(|i| distinct_token(i, 0)).collect();
    for t in &tokens {
        verify(&mut v, t).unwrap();
    }
    assert_eq!(v.cached_tokens(), 3);
    let before = v.cache_stats();
    verify(&mut v, &tokens[3]).unwrap();
    verify(&mut v, &tokens[0]).unwrap();
    let after = v.cache_stats();
    assert_eq!((after.hits - before.hits, after.misses - before.misses), (1, 1), "the newest hit, the oldest evicted");
}

#[test]
fn cache_bytes_are_bounded_by_max_cache_bytes() {
    // Entry count allowed up to the maximum; tokens just under the cacheable size.
    let mut v = verifier_with(&[
        ("/token_cache_size", json!(MAX_TOKEN_CACHE_SIZE)),
        ("/providers/corp-idp/algorithms", json!(["ES256"])),
    ]);
    let probe = distinct_token(0, 0).len();
    let pad = (MAX_CACHED_TOKEN_BYTES - probe - 64) * 3 / 4;
    let first = distinct_token(0, pad);
    assert!(first.len() <= MAX_CACHED_TOKEN_BYTES && first.len() > MAX_CACHED_TOKEN_BYTES - 200, "{}", first.len());
    // Enough tokens that their text alone is a third more than MAX_CACHE_BYTES / 3.
    let count = MAX_CACHE_BYTES / 3 / first.len() * 4 / 3;
    verify(&mut v, &first).unwrap();
    for i in 1..count {
        verify(&mut v, &distinct_token(i, pad)).unwrap();
    }
    let cached = v.cached_tokens();
    assert!(cached < count, "{cached} of {count} kept: bounded by bytes, not only by entries");
    assert!(cached * first.len() * 3 <= MAX_CACHE_BYTES, "{cached} entries of {} bytes", first.len());
    assert!(cached >= count / 2, "the byte bound is MAX_CACHE_BYTES, not much less ({cached} of {count})");
    let before = v.cache_stats();
    verify(&mut v, &first).unwrap();
    assert_eq!(v.cache_stats().misses, before.misses + 1, "the oldest entry was evicted");
}

#[test]
fn tokens_over_max_cached_token_bytes_are_not_cached() {
    let mut v = es256_only();
    let probe = distinct_token(0, 0).len();
    let big = distinct_token(0, (MAX_CACHED_TOKEN_BYTES - probe) * 3 / 4 + 16);
    assert!(big.len() > MAX_CACHED_TOKEN_BYTES);
    for _ in 0..3 {
        verify(&mut v, &big).unwrap();
    }
    assert_eq!(v.cached_tokens(), 0);
    assert_eq!(v.cache_stats().misses, 3, "verified every time");
}

#[test]
fn a_reload_builds_no_table_and_keeps_the_tables_of_unchanged_keys() {
    let has_table = |v: &Verifier, kid: &str| {
        let set = v.key_set(PROVIDER).unwrap();
        let key = set.keys().iter().find(|k| k.kid.as_deref() == Some(kid)).unwrap();
        match &key.key {
            PublicKey::P256(key) => key.has_table(),
            _ => panic!("an ES256 key"),
        }
    };
    let mut v = es256_only();
    let mut many = es256_keys(MAX_JWKS_KEYS - 1);
    // Loading 63 keys builds no table: a reload never stalls requests for their tables.
    v.set_jwks(PROVIDER, jwks_of(&many).to_string().as_bytes()).unwrap();
    let first = "k0".to_owned();
    assert!(!has_table(&v, &first));
    // The first verification with a key builds its table.
    let token =
        edgeward::issuer::sign_token(&many[0], json!({ "alg": "ES256", "kid": first }).as_object().unwrap(), &claims());
    verify(&mut v, &token).unwrap();
    assert!(has_table(&v, &first));
    // A reload with one more key keeps the built table (the same key, by identity) and builds none for the new one.
    many.push(PrivateJwk::generate(Algorithm::ES256, Some("new")).unwrap());
    v.set_jwks(PROVIDER, jwks_of(&many).to_string().as_bytes()).unwrap();
    assert!(has_table(&v, &first), "the unchanged key kept its table");
    assert!(!has_table(&v, "new"));
    verify(&mut v, &token).unwrap();
}

#[test]
fn a_replayed_bogus_token_costs_a_lookup_until_the_keys_change() {
    let mut v = es256_only();
    let bogus = {
        let good = token(&keys().es256, &claims());
        let (input, _) = good.rsplit_once('.').unwrap();
        format!("{input}.{}", base64url::encode(&[9u8; 64]))
    };
    assert_eq!(verify(&mut v, &bogus).err(), Some(Error::BadSignature));
    let checked = v.cache_stats();
    for _ in 0..3 {
        assert_eq!(verify(&mut v, &bogus).err(), Some(Error::BadSignature));
    }
    let after = v.cache_stats();
    assert_eq!(after.replayed_failures - checked.replayed_failures, 3);
    assert_eq!(after.misses, checked.misses, "no signature check for a replay");
    // New keys: the failure is forgotten, and the token is checked again.
    v.set_jwks(PROVIDER, jwks_of(&es256_keys(1)).to_string().as_bytes()).unwrap();
    assert!(verify(&mut v, &bogus).is_err());
    assert_eq!(v.cache_stats().misses, after.misses + 1);
}

#[test]
fn inline_keys_stay_beside_fetched_ones_on_every_host() {
    // A provider with local_jwks and remote_jwks: what a host fetches replaces the fetched keys
    // only; the inline ones stay (the filter, the npm package and the CLI all call set_jwks).
    let inline = PrivateJwk::generate(Algorithm::ES256, Some("inline")).unwrap();
    let fetched = PrivateJwk::generate(Algorithm::ES256, Some("fetched")).unwrap();
    let mut policy = policy_json();
    set(&mut policy, "/providers/corp-idp/local_jwks", jwks(&[&inline]));
    set(&mut policy, "/providers/corp-idp/remote_jwks", json!({ "uri": "https://idp.example.com/jwks" }));
    let mut v = verifier(&policy);
    assert_eq!(v.set_jwks(PROVIDER, jwks(&[&fetched]).to_string().as_bytes()).map(|l| l.keys), Ok(2));
    let kids: Vec<_> = v.key_set(PROVIDER).unwrap().keys().iter().map(|k| k.kid.clone().unwrap()).collect();
    assert_eq!(kids, ["fetched", "inline"]);
    for key in [&inline, &fetched] {
        let kid = key.public_jwk()["kid"].clone();
        let token =
            edgeward::issuer::sign_token(key, json!({ "alg": "ES256", "kid": kid }).as_object().unwrap(), &claims());
        verify(&mut v, &token).unwrap();
    }
}
