//! One named regression test per attack or rule of docs/policy.md's "Verification rules". Every
//! token here is properly signed unless the test is about the signature, so only the property
//! under test is wrong; each test asserts the exact error code (and the claim, where one is named).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use crypto_bigint::BoxedUint;
use edgeward::issuer::{PrivateJwk, jwks};
use edgeward::{
    Algorithm, DEFAULT_MAX_TOKEN_BYTES, Error, KeySet, Limit, MAX_JSON_DEPTH, Malformed, Unsupported, Verifier,
    base64url,
};
use serde_json::{Value, json};
use support::*;

const INVALID: &str = "ERR_JWT_INVALID";
const ALG: &str = "ERR_JOSE_ALG_NOT_ALLOWED";
const UNSUPPORTED: &str = "ERR_JOSE_NOT_SUPPORTED";
const NO_KEY: &str = "ERR_JWKS_NO_MATCHING_KEY";
const MULTIPLE: &str = "ERR_JWKS_MULTIPLE_MATCHING_KEYS";
const BAD_SIG: &str = "ERR_JWS_SIGNATURE_VERIFICATION_FAILED";
const EXPIRED: &str = "ERR_JWT_EXPIRED";
const CLAIM: &str = "ERR_JWT_CLAIM_VALIDATION_FAILED";
const LIFETIME: &str = "ERR_JWT_LIFETIME_EXCEEDED";
const WILDCARD: &str = "ERR_SCOPE_WILDCARD";
const SCOPE: &str = "ERR_SCOPE_INSUFFICIENT";
const JWKS_INVALID: &str = "ERR_JWKS_INVALID";
const POLICY_INVALID: &str = "ERR_POLICY_INVALID";

/// `NOW` as a JSON float (checked in `now_f_is_now`).
const NOW_F: f64 = 2_000_000_000.0;

/// P-256 group order.
const P256_N: &str = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
/// P-384 group order.
const P384_N: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973";

fn hex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

/// `a - b` for equal-length big-endian numbers with `a >= b` (crypto-bigint's arithmetic).
fn sub_be(a: &[u8], b: &[u8]) -> Vec<u8> {
    let bits = u32::try_from(a.len() * 8).unwrap();
    let (a, b) = (BoxedUint::from_be_slice(a, bits).unwrap(), BoxedUint::from_be_slice(b, bits).unwrap());
    assert!(a >= b);
    a.wrapping_sub(&b).to_be_bytes().into_vec()
}

/// Replaces the signature segment of a token.
fn with_signature(token: &str, signature: &[u8]) -> String {
    let (h, p, _) = segments(token);
    format!("{h}.{p}.{}", base64url::encode(signature))
}

fn signature_of(token: &str) -> Vec<u8> {
    base64url::decode(&segments(token).2).unwrap()
}

fn b64(text: &str) -> String {
    base64url::encode(text.as_bytes())
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut block = if key.len() > 64 { Sha256::digest(key).to_vec() } else { key.to_vec() };
    block.resize(64, 0);
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(message).finalize();
    Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize().to_vec()
}

/// DER `SEQUENCE { INTEGER r, INTEGER s }` of a raw `r‖s` signature.
fn der(raw: &[u8]) -> Vec<u8> {
    let int = |x: &[u8]| {
        let start = x.iter().position(|b| *b != 0).unwrap_or(x.len() - 1);
        let mut body = x[start..].to_vec();
        if body[0] & 0x80 != 0 {
            body.insert(0, 0);
        }
        let mut out = vec![0x02, u8::try_from(body.len()).unwrap()];
        out.extend(body);
        out
    };
    let (r, s) = raw.split_at(raw.len() / 2);
    let mut body = int(r);
    body.extend(int(s));
    let mut out = vec![0x30, u8::try_from(body.len()).unwrap()];
    out.extend(body);
    out
}

fn es256_token() -> String {
    token(&keys().es256, &claims())
}

/// A JWKS holding exactly the given JWK values.
fn jwks_of(keys: Vec<Value>) -> Value {
    json!({ "keys": keys })
}

fn public(key: &PrivateJwk) -> Value {
    key.public_jwk()
}

/// `public_jwk` with members changed (a `null` value removes the member).
fn public_with(key: &PrivateJwk, changes: Value) -> Value {
    let mut jwk = obj(public(key));
    for (name, value) in obj(changes) {
        if value.is_null() {
            jwk.remove(&name);
        } else {
            jwk.insert(name, value);
        }
    }
    Value::Object(jwk)
}

/// A verifier whose only provider has `jwks` and every algorithm allowed.
fn verifier_for_jwks(jwks: Value) -> Verifier {
    verifier(&policy_with_provider(provider_json(jwks)))
}

/// A JWKS document's load result for every algorithm.
fn load_jwks(jwks: &Value) -> Result<KeySet, Error> {
    KeySet::from_bytes(jwks.to_string().as_bytes(), &Algorithm::ALL)
}

#[test]
fn now_f_is_now() {
    assert_eq!(json!(NOW_F).as_f64(), json!(NOW).as_f64());
}

// ---- the baseline: what a valid token looks like ----

#[test]
fn valid_tokens_of_every_algorithm_are_accepted() {
    let mut v = default_verifier();
    for alg in Algorithm::ALL {
        let verified = assert_accepted(check(&mut v, &token(key(alg), &claims())));
        assert_eq!(verified.header["alg"], alg.name());
        assert_eq!(verified.claims["sub"], "bot-7");
        assert_eq!(verified.scopes, ["read:orders", "write:order_status"]);
    }
}

// ---- token and encoding ----

#[test]
fn alg_none_is_refused() {
    let mut v = default_verifier();
    let payload = payload_json();
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = format!(r#"{{"alg":"{alg}"}}"#);
        // Unsecured JWS: an empty signature segment …
        let unsecured = format!("{}.{}.", b64(&header), b64(&payload));
        assert_refused(check(&mut v, &unsecured), ALG, None);
        // … or with a real signature over it.
        let signed = raw_token(&keys().es256, &header, &payload);
        assert_refused(check(&mut v, &signed), ALG, None);
    }
    // Two segments (no signature at all) is not even a compact JWS.
    let two = format!("{}.{}", b64(r#"{"alg":"none"}"#), b64(&payload));
    assert_refused(check(&mut v, &two), INVALID, None);
}

#[test]
fn alg_case_variant_is_refused() {
    let mut v = default_verifier();
    for alg in ["es256", "Es256", "eS256", "ES256 ", " ES256", "ES256\u{0000}", "ES-256", "ECDSA", "eddsa", "rs256"] {
        let header = json!({ "alg": alg, "kid": "es256-1" }).to_string();
        let t = raw_token(&keys().es256, &header, &payload_json());
        assert_refused(check(&mut v, &t), ALG, None);
    }
}

#[test]
fn alg_not_on_the_providers_list_is_refused() {
    // The default list is ["ES256"]: a perfectly signed RS256 or EdDSA token is refused, even
    // though its key is in the JWKS.
    let mut provider = provider_json(all_jwks());
    provider.as_object_mut().unwrap().remove("algorithms");
    let mut v = verifier(&policy_with_provider(provider));
    assert_accepted(check(&mut v, &es256_token()));
    for alg in Algorithm::ALL.into_iter().filter(|a| *a != Algorithm::ES256) {
        assert_refused(check(&mut v, &token(key(alg), &claims())), ALG, None);
    }
}

#[test]
fn alg_names_that_are_not_implemented_are_refused() {
    let mut v = default_verifier();
    for alg in ["HS256", "HS384", "HS512", "ES256K", "ES521", "PS1", "RS1", "Ed25519", "Ed448", "RSA-OAEP"] {
        let header = json!({ "alg": alg }).to_string();
        let t = raw_token(&keys().es256, &header, &payload_json());
        assert_refused(check(&mut v, &t), ALG, None);
    }
    // HS256 cannot even be configured.
    let mut policy = policy_json();
    set(&mut policy, &format!("/providers/{PROVIDER}/algorithms"), json!(["HS256"]));
    let err = Verifier::from_json(&policy.to_string()).unwrap_err();
    assert_eq!(err.code(), POLICY_INVALID);
    assert_eq!(err.path(), Some("providers.corp-idp.algorithms[0]"));
}

#[test]
fn hs256_with_public_key_as_secret_is_refused() {
    // Key confusion (CVE-2015-9235 and friends): the attacker MACs the token with the public key
    // a verifier would use, hoping it is taken as an HMAC secret.
    let mut v = default_verifier();
    let payload = payload_json();
    for (key, kid) in [(&keys().rs256, "rs256-1"), (&keys().es256, "es256-1"), (&keys().eddsa, "eddsa-1")] {
        let public_jwk = public(key);
        let mut secrets: Vec<Vec<u8>> = vec![public_jwk.to_string().into_bytes(), all_jwks().to_string().into_bytes()];
        for member in ["n", "x", "y"] {
            if let Some(text) = public_jwk[member].as_str() {
                secrets.push(text.as_bytes().to_vec());
                secrets.push(base64url::decode(text).unwrap());
            }
        }
        for secret in secrets {
            for header in [json!({"alg": "HS256", "kid": kid}), json!({"alg": "HS256"})] {
                let input = format!("{}.{}", b64(&header.to_string()), b64(&payload));
                let t = format!("{input}.{}", base64url::encode(&hmac_sha256(&secret, input.as_bytes())));
                assert_refused(check(&mut v, &t), ALG, None);
            }
        }
    }
}

#[test]
fn jwe_five_segments_refused() {
    let mut v = default_verifier();
    let jwe_header = b64(r#"{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"rs256-1"}"#);
    let jwe = format!("{jwe_header}.{}.{}.{}.{}", b64("cek"), b64("iv-iv-iv-iv"), b64(&payload_json()), b64("tag"));
    let result = check(&mut v, &jwe);
    assert_eq!(result.as_ref().err(), Some(&Error::Malformed(Malformed::Segments)));
    assert_refused(result, INVALID, None);
    let good = es256_token();
    for bad in [
        format!("{good}."),
        format!(".{good}"),
        format!("{good}.{}", segments(&good).2),
        good.replacen('.', "", 1),
        good.replace('.', ""),
        String::new(),
        "..".to_owned(),
        "....".to_owned(),
    ] {
        assert_refused(check(&mut v, &bad), INVALID, None);
    }
}

#[test]
fn base64_padding_refused() {
    let mut v = default_verifier();
    // Pick claims whose segments need padding, so `=` would be meaningful to a lenient decoder.
    let (h, p, s) = segments(&es256_token());
    assert!(s.len() % 4 != 0, "a 64-byte signature takes 86 characters");
    let padding = |seg: &str| "=".repeat((4 - seg.len() % 4) % 4);
    let padded_signature = format!("{h}.{p}.{s}{}", padding(&s));
    assert_refused(check(&mut v, &padded_signature), INVALID, None);
    for extra in ["=", "==", "==="] {
        assert_refused(check(&mut v, &format!("{h}.{p}.{s}{extra}")), INVALID, None);
    }
    // Padding in the header or payload is refused as malformed, not as a bad signature (even
    // when re-signed over the padded text).
    let header = b64(r#"{"alg":"ES256","kid":"es256-1"}"#);
    let payload_text = payload_json();
    let mut payload = b64(&payload_text);
    let mut extra_claim = 0;
    while payload.len().is_multiple_of(4) {
        extra_claim += 1;
        payload = b64(&Value::Object(claims_with(json!({ "pad": "x".repeat(extra_claim) }))).to_string());
    }
    for (hh, pp) in [
        (format!("{header}{}", padding(&header)), payload.clone()),
        (header.clone(), format!("{payload}{}", padding(&payload))),
    ] {
        if hh == header && pp == payload {
            continue;
        }
        let input = format!("{hh}.{pp}");
        let t = format!("{input}.{}", base64url::encode(&keys().es256.sign(input.as_bytes())));
        let result = check(&mut v, &t);
        assert_eq!(result.as_ref().err(), Some(&Error::Malformed(Malformed::Base64)));
    }
}

#[test]
fn standard_alphabet_refused() {
    let mut v = default_verifier();
    // Find a token whose signature uses `-` or `_`, then write it in the standard alphabet.
    let t = (0..200)
        .map(|i| token(&keys().es256, &claims_with(json!({ "jti": format!("j{i}") }))))
        .find(|t| segments(t).2.contains(['-', '_']))
        .expect("some signature uses - or _");
    assert_accepted(check(&mut v, &t));
    let (h, p, s) = segments(&t);
    let standard = s.replace('-', "+").replace('_', "/");
    assert_refused(check(&mut v, &format!("{h}.{p}.{standard}")), INVALID, None);
    // The same in a header: `{"alg":"ES256","kid":"~~~"}` has `~~~` → `fn5-` in base64url.
    let header_text = r#"{"alg":"ES256","kid":"es256-1","x":"~~~~~~"}"#;
    let header_url = b64(header_text);
    assert!(header_url.contains(['-', '_']), "the header encodes to - or _");
    let header_std = header_url.replace('-', "+").replace('_', "/");
    let input = format!("{header_std}.{}", b64(&payload_json()));
    let t = format!("{input}.{}", base64url::encode(&keys().es256.sign(input.as_bytes())));
    assert_refused(check(&mut v, &t), INVALID, None);
}

#[test]
fn whitespace_in_segment_refused() {
    let mut v = default_verifier();
    let good = es256_token();
    let (h, p, s) = segments(&good);
    let mid = |seg: &str, ws: &str| format!("{}{ws}{}", &seg[..seg.len() / 2], &seg[seg.len() / 2..]);
    for ws in [" ", "\t", "\n", "\r\n", "\u{00a0}", "\u{200b}"] {
        for bad in [
            format!("{}.{p}.{s}", mid(&h, ws)),
            format!("{h}.{}.{s}", mid(&p, ws)),
            format!("{h}.{p}.{}", mid(&s, ws)),
            format!("{ws}{good}"),
            format!("{good}{ws}"),
            format!("{h}{ws}.{p}.{s}"),
            format!("{h}.{ws}{p}.{s}"),
        ] {
            assert_refused(check(&mut v, &bad), INVALID, None);
        }
    }
    // The core trims nothing: a "Bearer " prefix left on the token is refused too.
    assert_refused(check(&mut v, &format!("Bearer {good}")), INVALID, None);
}

#[test]
fn nonzero_trailing_bits_refused() {
    // A 64-byte signature is 86 characters: the last one carries 4 bits of data and 2 unused
    // bits. A lenient decoder maps both spellings to the same bytes (a second encoding of the
    // same token); edgeward refuses the non-canonical one.
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut v = default_verifier();
    let good = es256_token();
    let (h, p, s) = segments(&good);
    let last = s.as_bytes()[s.len() - 1];
    let index = ALPHABET.iter().position(|c| *c == last).unwrap();
    assert_eq!(index & 0b11, 0, "the canonical encoding has zero unused bits");
    for low_bits in 1..4 {
        let twin = char::from(ALPHABET[index | low_bits]);
        let bad = format!("{h}.{p}.{}{twin}", &s[..s.len() - 1]);
        let result = check(&mut v, &bad);
        assert_eq!(result.as_ref().err(), Some(&Error::Malformed(Malformed::Base64)));
    }
    // The same in the header and payload segments.
    let header = b64(r#"{"alg":"ES256","kid":"es256-1"}"#); // 31 bytes: 42 characters, 2 unused bits
    assert!(header.len() % 4 == 2 || header.len() % 4 == 3);
    let last = header.as_bytes()[header.len() - 1];
    let index = ALPHABET.iter().position(|c| *c == last).unwrap();
    let unused = if header.len() % 4 == 2 { 0b1111 } else { 0b11 };
    assert_eq!(index & unused, 0);
    let twin = format!("{}{}", &header[..header.len() - 1], char::from(ALPHABET[index | 1]));
    let input = format!("{twin}.{}", b64(&payload_json()));
    let t = format!("{input}.{}", base64url::encode(&keys().es256.sign(input.as_bytes())));
    assert_eq!(check(&mut v, &t).err(), Some(Error::Malformed(Malformed::Base64)));
}

#[test]
fn bom_refused() {
    let mut v = default_verifier();
    let header = br#"{"alg":"ES256","kid":"es256-1"}"#;
    let payload = payload_json();
    let with_bom = |text: &[u8]| [&[0xEF, 0xBB, 0xBF][..], text].concat();
    let t = raw_token_bytes(&keys().es256, &with_bom(header), payload.as_bytes());
    assert_refused(check(&mut v, &t), INVALID, None);
    let t = raw_token_bytes(&keys().es256, header, &with_bom(payload.as_bytes()));
    assert_refused(check(&mut v, &t), INVALID, None);
    // UTF-16 and other non-UTF-8 bytes are refused the same way.
    let utf16: Vec<u8> = String::from_utf8_lossy(header).encode_utf16().flat_map(u16::to_le_bytes).collect();
    let t = raw_token_bytes(&keys().es256, &utf16, payload.as_bytes());
    assert_refused(check(&mut v, &t), INVALID, None);
    let t = raw_token_bytes(&keys().es256, header, b"{\"iss\":\"\xff\"}");
    assert_refused(check(&mut v, &t), INVALID, None);
}

#[test]
fn duplicate_header_member_refused() {
    let mut v = default_verifier();
    let payload = payload_json();
    for header in [
        r#"{"alg":"ES256","kid":"es256-1","alg":"ES256"}"#,
        r#"{"alg":"none","kid":"es256-1","alg":"ES256"}"#,
        r#"{"alg":"ES256","kid":"es256-1","kid":"rs256-1"}"#,
        r#"{"alg":"ES256","kid":"es256-1","typ":"JWT","typ":"at+jwt"}"#,
        // Escapes are decoded before comparing: "\u0061lg" is "alg".
        r#"{"alg":"ES256","kid":"es256-1","\u0061lg":"ES256"}"#,
    ] {
        let result = check(&mut v, &raw_token(&keys().es256, header, &payload));
        assert_eq!(result.as_ref().err(), Some(&Error::Malformed(Malformed::DuplicateMember)), "{header}");
        assert_refused(result, INVALID, None);
    }
}

#[test]
fn duplicate_claim_refused() {
    let mut v = default_verifier();
    let header = r#"{"alg":"ES256","kid":"es256-1"}"#;
    let base = payload_json();
    let body = &base[1..base.len() - 1];
    for extra in [
        r#""sub":"admin""#,
        r#""exp":4000000000"#,
        r#""iss":"https://evil.example""#,
        r#""aud":"orders-api""#,
        r#""scope":"admin""#,
        r#""\u0073cope":"admin""#,
    ] {
        let payload = format!("{{{body},{extra}}}");
        let result = check(&mut v, &raw_token(&keys().es256, header, &payload));
        assert_eq!(result.as_ref().err(), Some(&Error::Malformed(Malformed::DuplicateMember)), "{extra}");
    }
    // Nested objects too.
    let payload = format!(r#"{{{body},"cnf":{{"jkt":"a","jkt":"b"}}}}"#);
    assert_refused(check(&mut v, &raw_token(&keys().es256, header, &payload)), INVALID, None);
}

#[test]
fn deep_json_refused() {
    let mut v = default_verifier();
    let header = r#"{"alg":"ES256","kid":"es256-1"}"#;
    let base = payload_json();
    let body = &base[1..base.len() - 1];
    // The payload object is depth 1; `n` arrays inside a claim make depth n + 1.
    let nested = |n: usize| format!(r#"{{{body},"deep":{}1{}}}"#, "[".repeat(n), "]".repeat(n));
    assert_accepted(check(&mut v, &raw_token(&keys().es256, header, &nested(MAX_JSON_DEPTH - 1))));
    let result = check(&mut v, &raw_token(&keys().es256, header, &nested(MAX_JSON_DEPTH)));
    assert_eq!(result.as_ref().err(), Some(&Error::LimitExceeded(Limit::JsonDepth)));
    assert_refused(result, INVALID, None);
    // Far deeper than any stack would take, within the size limit: refused, no stack overflow.
    let very_deep = nested(8000);
    assert_refused(check(&mut v, &raw_token(&keys().es256, header, &very_deep)), INVALID, None);
    let objects = format!(r#"{{{body},"deep":{}1{}}}"#, r#"{"a":"#.repeat(3000), "}".repeat(3000));
    assert_refused(check(&mut v, &raw_token(&keys().es256, header, &objects)), INVALID, None);
    // In the header as well.
    let deep_header = format!(r#"{{"alg":"ES256","kid":"es256-1","x":{}0{}}}"#, "[".repeat(64), "]".repeat(64));
    assert_refused(check(&mut v, &raw_token(&keys().es256, &deep_header, &base)), INVALID, None);
}

#[test]
fn oversized_token_refused_before_decoding() {
    let mut v = default_verifier();
    // Not even a token: the size check comes before segment splitting and decoding.
    let junk = "%".repeat(DEFAULT_MAX_TOKEN_BYTES + 1);
    let result = check(&mut v, &junk);
    assert_eq!(result.as_ref().err(), Some(&Error::LimitExceeded(Limit::TokenBytes)));
    assert_refused(result, INVALID, None);
    // A properly signed token one byte over the limit, and one exactly at it.
    let sized = |len: usize| {
        let mut pad = 0usize;
        let mut lo = 0usize;
        let mut hi = len;
        // Binary search on the padding claim's length for a token of exactly `len` bytes.
        while lo <= hi {
            pad = (lo + hi) / 2;
            let t = token(&keys().es256, &claims_with(json!({ "pad": "x".repeat(pad) })));
            match t.len().cmp(&len) {
                std::cmp::Ordering::Equal => return Some(t),
                std::cmp::Ordering::Less => lo = pad + 1,
                std::cmp::Ordering::Greater => hi = pad - 1,
            }
        }
        let _ = pad;
        None
    };
    let at_limit = (0..4).find_map(|k| sized(DEFAULT_MAX_TOKEN_BYTES - k)).expect("a token near the limit");
    assert!(at_limit.len() <= DEFAULT_MAX_TOKEN_BYTES);
    assert_accepted(check(&mut v, &at_limit));
    let over = (1..5).find_map(|k| sized(DEFAULT_MAX_TOKEN_BYTES + k)).expect("a token over the limit");
    assert_eq!(check(&mut v, &over).err(), Some(Error::LimitExceeded(Limit::TokenBytes)));
    // The policy can lower the limit.
    let mut policy = policy_json();
    set(&mut policy, "/max_token_bytes", json!(200));
    let mut small = verifier(&policy);
    assert_eq!(check(&mut small, &es256_token()).err(), Some(Error::LimitExceeded(Limit::TokenBytes)));
}

#[test]
fn embedded_jwk_header_ignored() {
    // The attacker signs with their own key and carries it (or where to fetch it) in the header.
    let mut v = default_verifier();
    let attacker = &keys().attacker;
    let attacker_jwk = public(attacker);
    let attacker_jwks_uri = "https://evil.example/jwks.json";
    let embedded = [
        json!({ "jwk": attacker_jwk }),
        json!({ "jku": attacker_jwks_uri }),
        json!({ "x5u": "https://evil.example/cert.pem" }),
        json!({ "x5c": ["MIIBszCCAVmgAwIBAgIUdGVzdA=="] }),
        json!({ "jwk": attacker_jwk, "jku": attacker_jwks_uri, "x5u": "https://evil.example/c", "x5c": ["AA=="] }),
    ];
    for extra in &embedded {
        // With the victim's kid: the provider's key is used, and the signature does not verify.
        let mut header = obj(extra.clone());
        header.insert("kid".into(), json!("es256-1"));
        let t = token_with_header(attacker, Value::Object(header), &claims());
        assert_refused(check(&mut v, &t), BAD_SIG, None);
        // With the attacker's kid: no such key in the provider's JWKS.
        let t = token_with_header(attacker, extra.clone(), &claims());
        assert_refused(check(&mut v, &t), NO_KEY, None);
        // A provider with a single ES256 key and a token without kid: that key, not the embedded one.
        let mut single = verifier_for_jwks(jwks(&[&keys().es256]));
        let mut header = obj(extra.clone());
        header.insert("alg".into(), json!("ES256"));
        let t = raw_token(attacker, &Value::Object(header.clone()).to_string(), &payload_json());
        assert_refused(check(&mut single, &t), BAD_SIG, None);
        // And the same header on a token signed by the real key is simply ignored.
        let t = raw_token(&keys().es256, &Value::Object(header).to_string(), &payload_json());
        assert_accepted(check(&mut single, &t));
    }
}

#[test]
fn crit_unknown_refused() {
    let mut v = default_verifier();
    for header in [
        json!({ "crit": ["http://example.com/ext"], "http://example.com/ext": true }),
        json!({ "crit": ["exp"], "exp": NOW + 600 }),
        json!({ "crit": ["http://example.com/absent"] }),
        // Registered names must not be listed (RFC 7515 §4.1.11): refused too.
        json!({ "crit": ["alg"] }),
        json!({ "crit": ["b64"], "b64": true }),
    ] {
        let result = check(&mut v, &token_with_header(&keys().es256, header.clone(), &claims()));
        assert_eq!(result.as_ref().err(), Some(&Error::NotSupported(Unsupported::Crit)), "{header}");
        assert_refused(result, UNSUPPORTED, None);
    }
}

#[test]
fn crit_empty_refused() {
    let mut v = default_verifier();
    let t = token_with_header(&keys().es256, json!({ "crit": [] }), &claims());
    assert_refused(check(&mut v, &t), UNSUPPORTED, None);
}

#[test]
fn crit_non_array_refused() {
    let mut v = default_verifier();
    for crit in [json!("exp"), json!(null), json!(true), json!(1), json!({}), json!([1]), json!([null])] {
        let t = token_with_header(&keys().es256, json!({ "crit": crit }), &claims());
        assert_refused(check(&mut v, &t), UNSUPPORTED, None);
    }
}

#[test]
fn b64_false_refused() {
    let mut v = default_verifier();
    for header in [json!({ "b64": false, "crit": ["b64"] }), json!({ "b64": false })] {
        let t = token_with_header(&keys().es256, header, &claims());
        assert_refused(check(&mut v, &t), UNSUPPORTED, None);
    }
    let t = token_with_header(&keys().es256, json!({ "b64": false }), &claims());
    assert_eq!(check(&mut v, &t).err(), Some(Error::NotSupported(Unsupported::UnencodedPayload)));
    // `b64: true` is the default and harmless; a non-boolean is malformed.
    assert_accepted(check(&mut v, &token_with_header(&keys().es256, json!({ "b64": true }), &claims())));
    let t = token_with_header(&keys().es256, json!({ "b64": "false" }), &claims());
    assert_refused(check(&mut v, &t), INVALID, None);
}

#[test]
fn header_parameter_types_are_checked() {
    let mut v = default_verifier();
    let payload = payload_json();
    for header in [
        r#"{"kid":"es256-1"}"#,
        r#"{"alg":null,"kid":"es256-1"}"#,
        r#"{"alg":["ES256"],"kid":"es256-1"}"#,
        r#"{"alg":"ES256","kid":1}"#,
        r#"{"alg":"ES256","kid":null}"#,
        r#"{"alg":"ES256","kid":["es256-1"]}"#,
        r#"{"alg":"ES256","kid":"es256-1","typ":1}"#,
        r#"["ES256"]"#,
        r#""ES256""#,
        "null",
        "{}",
        "",
        r#"{"alg":"ES256","kid":"es256-1"} "#,
        r#"{"alg":"ES256","kid":"es256-1"}x"#,
        r#"{"alg":"ES256","kid":"es256-1",}"#,
        "{'alg':'ES256'}",
    ] {
        let result = check(&mut v, &raw_token(&keys().es256, header, &payload));
        // Trailing whitespace after the object is valid JSON; everything else is malformed.
        if header.ends_with("} ") {
            assert_accepted(result);
        } else {
            assert_refused(result, INVALID, None);
        }
    }
}

#[test]
fn payload_must_be_a_json_object() {
    let mut v = default_verifier();
    let header = r#"{"alg":"ES256","kid":"es256-1"}"#;
    for payload in [
        "",
        "null",
        "[]",
        r#""a string""#,
        "42",
        "It’s a dangerous business, Frodo",
        r#"{"iss":"https://idp.example.com""#,
        r#"{"iss":"a\ud800b"}"#,
        "{\"iss\":\"a\u{0001}b\"}",
        r#"{"exp":NaN}"#,
        r#"{"exp":Infinity}"#,
        r#"{"exp":1e400}"#,
    ] {
        assert_refused(check(&mut v, &raw_token(&keys().es256, header, payload)), INVALID, None);
    }
}

// ---- key selection ----

#[test]
fn duplicate_kid_gives_multiple_keys() {
    let k = keys();
    // Two different keys under the same kid: even the one that would verify is not guessed.
    let second = public_with(&k.es256_second, json!({ "kid": "es256-1" }));
    let mut v = verifier_for_jwks(jwks_of(vec![public(&k.es256), second]));
    assert_refused(check(&mut v, &es256_token()), MULTIPLE, None);
    // The same key listed twice is still two candidates.
    let mut v = verifier_for_jwks(jwks_of(vec![public(&k.es256), public(&k.es256)]));
    assert_refused(check(&mut v, &es256_token()), MULTIPLE, None);
    // A duplicated kid on keys of another type does not count: only keys that fit the alg do.
    let rsa_same_kid = public_with(&k.rs256, json!({ "kid": "es256-1" }));
    let mut v = verifier_for_jwks(jwks_of(vec![public(&k.es256), rsa_same_kid]));
    assert_accepted(check(&mut v, &es256_token()));
}

#[test]
fn no_kid_several_keys_gives_multiple_keys() {
    let k = keys();
    let header = r#"{"alg":"ES256"}"#;
    let t = raw_token(&k.es256, header, &payload_json());
    let mut v = verifier_for_jwks(jwks(&[&k.es256, &k.es256_second]));
    assert_refused(check(&mut v, &t), MULTIPLE, None);
    // Keys without kid, too.
    let no_kid = |key: &PrivateJwk| public_with(key, json!({ "kid": null }));
    let mut v = verifier_for_jwks(jwks_of(vec![no_kid(&k.es256), no_kid(&k.es256_second)]));
    assert_refused(check(&mut v, &t), MULTIPLE, None);
    // One key that fits ES256 (others are RSA, OKP, P-384): selected, with or without its kid.
    let mut v = verifier_for_jwks(all_jwks());
    assert_accepted(check(&mut v, &t));
    let mut v = verifier_for_jwks(jwks_of(vec![no_kid(&k.es256), public(&k.rs256)]));
    assert_accepted(check(&mut v, &t));
    // A token kid never matches a key without kid.
    assert_refused(check(&mut v, &es256_token()), NO_KEY, None);
}

#[test]
fn kid_matches_exactly() {
    let mut v = default_verifier();
    let payload = payload_json();
    for kid in ["ES256-1", "es256-1 ", " es256-1", "es256", "es256-10", "es256-1\u{0000}"] {
        let header = json!({ "alg": "ES256", "kid": kid }).to_string();
        assert_refused(check(&mut v, &raw_token(&keys().es256, &header, &payload)), NO_KEY, None);
    }
    // JSON escapes are decoded before comparing.
    let t = raw_token(&keys().es256, r#"{"alg":"ES256","kid":"es256\u002d1"}"#, &payload);
    assert_accepted(check(&mut v, &t));
}

#[test]
fn key_alg_mismatch_not_selected() {
    let k = keys();
    // A P-256 key that says it is for another algorithm is not used for ES256: the token's kid
    // names a key whose `alg` disagrees with the token's, so the algorithm is refused.
    for alg in ["ES384", "RS256", "none", "HS256", "es256"] {
        let mut v = verifier_for_jwks(jwks_of(vec![public_with(&k.es256, json!({ "alg": alg }))]));
        assert_refused(check(&mut v, &es256_token()), ALG, None);
    }
    // An RSA key marked RS256 does not verify PS256 tokens (and the other way round), although
    // its type could serve both.
    let ps_as_rs = public_with(&k.ps256, json!({ "alg": "RS256" }));
    let mut v = verifier_for_jwks(jwks_of(vec![ps_as_rs]));
    assert_refused(check(&mut v, &token(&k.ps256, &claims())), ALG, None);
    // Without `alg` the RSA key may serve both padding schemes.
    let mut v = verifier_for_jwks(jwks_of(vec![public_with(&k.ps256, json!({ "alg": null }))]));
    assert_accepted(check(&mut v, &token(&k.ps256, &claims())));
    // A token whose alg does not fit the kid's key type: ES256 header, kid of the RSA key.
    let mut v = default_verifier();
    let header = r#"{"alg":"ES256","kid":"rs256-1"}"#;
    assert_refused(check(&mut v, &raw_token(&k.es256, header, &payload_json())), ALG, None);
    // ES384 header on the P-256 key's kid: the curve decides.
    let header = r#"{"alg":"ES384","kid":"es256-1"}"#;
    assert_refused(check(&mut v, &raw_token(&k.es384, header, &payload_json())), ALG, None);
    // Without a kid there is no named key to disagree with: no key fits.
    let mut v = verifier_for_jwks(jwks_of(vec![public_with(&k.es256, json!({ "alg": "ES384", "kid": null }))]));
    let header = r#"{"alg":"ES256"}"#;
    assert_refused(check(&mut v, &raw_token(&k.es256, header, &payload_json())), NO_KEY, None);
}

#[test]
fn use_enc_key_not_selected() {
    let k = keys();
    for key_use in ["enc", "SIG", "sig ", ""] {
        let mut v = verifier_for_jwks(jwks_of(vec![public_with(&k.es256, json!({ "use": key_use }))]));
        assert_refused(check(&mut v, &es256_token()), NO_KEY, None);
    }
    let mut v = verifier_for_jwks(jwks_of(vec![public_with(&k.es256, json!({ "use": null }))]));
    assert_accepted(check(&mut v, &es256_token()));
}

#[test]
fn key_ops_without_verify_not_selected() {
    let k = keys();
    for ops in [json!([]), json!(["sign"]), json!(["encrypt", "wrapKey"]), json!(["VERIFY"])] {
        let jwk = public_with(&k.es256, json!({ "key_ops": ops }));
        let mut v = verifier_for_jwks(jwks_of(vec![jwk]));
        assert_refused(check(&mut v, &es256_token()), NO_KEY, None);
    }
    for ops in [json!(["verify"]), json!(["sign", "verify"])] {
        let jwk = public_with(&k.es256, json!({ "key_ops": ops }));
        let mut v = verifier_for_jwks(jwks_of(vec![jwk]));
        assert_accepted(check(&mut v, &es256_token()));
    }
}

#[test]
fn token_of_an_unknown_key_has_no_matching_key() {
    let mut v = default_verifier();
    let t = token(&keys().es256_second, &claims());
    assert_refused(check(&mut v, &t), NO_KEY, None);
}

// ---- bad key material ----

fn assert_jwks_refused(jwks: &Value, path: Option<&str>) {
    // Fetched alone, the bad key leaves nothing usable: the document is refused, and the message
    // says which key was bad and why.
    let result = load_jwks(jwks);
    assert_eq!(code(&result), JWKS_INVALID, "{:?}", result.as_ref().err());
    if let Some(path) = path {
        let message = result.as_ref().err().map(ToString::to_string).unwrap_or_default();
        assert!(message.contains(&format!("{path}:")), "{message}");
    }
    // `keys` itself at fault: the key was skipped (no allowed algorithm uses it), not refused.
    let skipped = path == Some("keys");
    // The same document inline in a policy is refused at load, with the policy's path.
    let err = Verifier::from_json(&policy_with_provider(provider_json(jwks.clone())).to_string()).unwrap_err();
    assert_eq!(err.code(), POLICY_INVALID);
    assert!(err.path().unwrap().starts_with("providers.corp-idp.local_jwks"), "{:?}", err.path());
    // And through set_jwks: refused, and the current keys stay in place.
    let mut v = default_verifier();
    assert_eq!(v.set_jwks(PROVIDER, jwks.to_string().as_bytes()).unwrap_err().code(), JWKS_INVALID);
    assert_accepted(check(&mut v, &es256_token()));
    // Beside a good key, the bad one is left out (never used) and reported with its path; the
    // good key loads.
    let mut beside = jwks.clone();
    let bad = beside["keys"].as_array().map_or(0, Vec::len);
    beside["keys"].as_array_mut().unwrap().push(public(&keys().es256));
    let loaded = v.set_jwks(PROVIDER, beside.to_string().as_bytes()).unwrap();
    assert_eq!(loaded.keys, 1, "only the good key is usable");
    assert_eq!(loaded.refused.len(), if skipped { 0 } else { bad }, "{:?}", loaded.refused);
    if let (Some(path), false) = (path, skipped) {
        assert_eq!(loaded.refused[0].path, path);
    }
    assert_accepted(check(&mut v, &es256_token()));
}

#[test]
fn off_curve_point_refused() {
    // Invalid-curve attack: a point not on P-256 (y changed) could leak the verifier's secrets
    // in ECDH and makes ECDSA meaningless; it is refused when the JWKS loads.
    let k = keys();
    let jwk = public(&k.es256);
    let mut y = base64url::decode(jwk["y"].as_str().unwrap()).unwrap();
    y[31] ^= 1;
    let off = public_with(&k.es256, json!({ "y": base64url::encode(&y) }));
    assert_jwks_refused(&jwks_of(vec![off]), Some("keys[0]"));
    // The all-zero point, and (x, y) = (0, sqrt(b))-like junk, are refused too.
    let zeros = base64url::encode(&[0u8; 32]);
    assert_jwks_refused(&jwks_of(vec![public_with(&k.es256, json!({ "x": zeros, "y": zeros }))]), None);
    // A P-256 point labelled P-384 does not even have the right length.
    let mut relabelled = obj(public_with(&k.es256, json!({ "crv": "P-384", "alg": null })));
    relabelled.remove("alg");
    assert_jwks_refused(&jwks_of(vec![Value::Object(relabelled)]), None);
    // Off-curve P-384 too.
    let jwk = public(&k.es384);
    let mut y = base64url::decode(jwk["y"].as_str().unwrap()).unwrap();
    y[47] ^= 1;
    assert_jwks_refused(&jwks_of(vec![public_with(&k.es384, json!({ "y": base64url::encode(&y) }))]), None);
}

#[test]
fn wrong_coordinate_length_refused() {
    let k = keys();
    let jwk = public(&k.es256);
    let x = base64url::decode(jwk["x"].as_str().unwrap()).unwrap();
    let y = base64url::decode(jwk["y"].as_str().unwrap()).unwrap();
    let longer = |c: &[u8]| base64url::encode(&[&[0u8][..], c].concat());
    let shorter = |c: &[u8]| base64url::encode(&c[1..]);
    for (member, value) in
        [("x", longer(&x)), ("y", longer(&y)), ("x", shorter(&x)), ("y", shorter(&y)), ("x", String::new())]
    {
        let bad = public_with(&k.es256, json!({ member: value }));
        assert_jwks_refused(&jwks_of(vec![bad]), Some(&format!("keys[0].{member}")));
    }
    // Missing members and non-strict base64url.
    for (member, value) in [
        ("x", Value::Null),
        ("y", Value::Null),
        ("x", json!(1)),
        ("x", json!(format!("{}=", jwk["x"].as_str().unwrap()))),
    ] {
        let bad = public_with(&k.es256, json!({ member: value }));
        assert_jwks_refused(&jwks_of(vec![bad]), Some(&format!("keys[0].{member}")));
    }
}

#[test]
fn rsa_1024_refused() {
    let k = keys();
    let n = base64url::decode(public(&k.rs256)["n"].as_str().unwrap()).unwrap();
    assert_eq!(n.len(), 256);
    // A 1024-bit modulus (the top half of a real one, made odd) and a 2047-bit one.
    let mut n1024 = n[..128].to_vec();
    n1024[127] |= 1;
    let mut n2047 = n.clone();
    n2047[0] = (n2047[0] >> 1) | 0x40;
    for modulus in [n1024, n2047, n[..64].to_vec()] {
        let bad = public_with(&k.rs256, json!({ "n": base64url::encode(&modulus) }));
        assert_jwks_refused(&jwks_of(vec![bad]), Some("keys[0].n"));
    }
    // Exactly 2048 bits is the floor and is accepted.
    assert!(load_jwks(&jwks_of(vec![public(&k.rs256)])).is_ok());
    // A leading zero octet is not the canonical encoding.
    let padded = public_with(&k.rs256, json!({ "n": base64url::encode(&[&[0u8][..], &n].concat()) }));
    assert_jwks_refused(&jwks_of(vec![padded]), Some("keys[0].n"));
}

#[test]
fn rsa_degenerate_exponents_refused() {
    // e = 1 makes every "signature" equal to its encoded message; e = 0, even values and
    // empty or padded exponents are not RSA public keys.
    let k = keys();
    for e in [vec![1u8], vec![0u8], vec![], vec![0, 1, 0, 1], vec![2u8]] {
        let bad = public_with(&k.rs256, json!({ "e": base64url::encode(&e) }));
        let result = load_jwks(&jwks_of(vec![bad]));
        assert_eq!(code(&result), JWKS_INVALID, "e = {e:?}");
    }
}

#[test]
fn ed25519_wrong_length_refused() {
    let k = keys();
    let x = base64url::decode(public(&k.eddsa)["x"].as_str().unwrap()).unwrap();
    for bad_x in [x[..31].to_vec(), [&x[..], &[0u8][..]].concat(), vec![], [&x[..], &x[..]].concat()] {
        let bad = public_with(&k.eddsa, json!({ "x": base64url::encode(&bad_x) }));
        assert_jwks_refused(&jwks_of(vec![bad]), Some("keys[0].x"));
    }
    // Small-order points (the identity, and the point of order 2) are not usable keys.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut order2 = [0u8; 32];
    order2[0] = 0xec;
    order2[1..31].fill(0xff);
    order2[31] = 0x7f;
    for weak in [identity, order2] {
        let bad = public_with(&k.eddsa, json!({ "x": base64url::encode(&weak) }));
        assert_jwks_refused(&jwks_of(vec![bad]), Some("keys[0].x"));
    }
    // An OKP key of another curve (X25519, Ed448) is skipped, not used; alone it leaves nothing usable.
    let x25519 = public_with(&k.eddsa, json!({ "crv": "X25519", "alg": null }));
    let set = load_jwks(&jwks_of(vec![x25519.clone(), public(&k.eddsa)])).unwrap();
    assert_eq!((set.keys().len(), set.skipped()), (1, 1));
    assert_jwks_refused(&jwks_of(vec![x25519]), Some("keys"));
}

#[test]
fn jwk_with_private_d_refused() {
    let k = keys();
    for key in [&k.es256, &k.es384, &k.rs256, &k.eddsa] {
        let private = key.to_json();
        assert!(private.get("d").is_some());
        assert_jwks_refused(&jwks_of(vec![private]), Some("keys[0].d"));
        // Even a lone `d` (or RSA's CRT members) on an otherwise public key.
        let with_d = public_with(key, json!({ "d": "AQAB" }));
        assert_jwks_refused(&jwks_of(vec![with_d]), Some("keys[0].d"));
    }
    for member in ["p", "q", "dp", "dq", "qi", "oth"] {
        let bad = public_with(&k.rs256, json!({ member: "AQAB" }));
        assert_jwks_refused(&jwks_of(vec![bad]), Some(&format!("keys[0].{member}")));
    }
    // A symmetric key is never used to verify.
    let oct = json!({ "kty": "oct", "k": "c2VjcmV0", "alg": "HS256", "kid": "es256-1" });
    let mut v = verifier_for_jwks(jwks_of(vec![oct, public(&k.es256)]));
    assert_accepted(check(&mut v, &es256_token()));
    let header = r#"{"alg":"HS256","kid":"es256-1"}"#;
    let input = format!("{}.{}", b64(header), b64(&payload_json()));
    let t = format!("{input}.{}", base64url::encode(&hmac_sha256(b"secret", input.as_bytes())));
    assert_refused(check(&mut v, &t), ALG, None);
}

#[test]
fn jwks_document_limits() {
    // Duplicate members, non-object keys, a missing `keys` array: refused.
    let k = keys();
    let text = public(&k.es256).to_string();
    let dup = format!(r#"{{"keys":[{},"kty":"EC"}}]}}"#, &text[..text.len() - 1]);
    assert_eq!(KeySet::from_bytes(dup.as_bytes(), &Algorithm::ALL).err().map(|e| e.code()), Some(JWKS_INVALID));
    for bad in [json!({}), json!({ "keys": {} }), json!({ "keys": [1] }), json!([]), json!({ "keys": [{ "x": "AA" }] })]
    {
        assert_eq!(code(&load_jwks(&bad)), JWKS_INVALID, "{bad}");
    }
    // Too many keys.
    let many = jwks_of((0..=edgeward::MAX_JWKS_KEYS).map(|_| public(&k.es256)).collect());
    assert_eq!(code(&load_jwks(&many)), JWKS_INVALID);
}

// ---- ECDSA signature encoding ----

#[test]
fn der_ecdsa_signature_refused() {
    let mut v = default_verifier();
    for key in [&keys().es256, &keys().es384] {
        let t = token(key, &claims());
        let der_sig = der(&signature_of(&t));
        assert_refused(check(&mut v, &with_signature(&t, &der_sig)), BAD_SIG, None);
    }
}

#[test]
fn zero_r_or_s_refused() {
    // CVE-2022-21449 ("psychic signatures"): r = s = 0 verified anything in Java 15–18.
    let mut v = default_verifier();
    for (key, size) in [(&keys().es256, 32), (&keys().es384, 48)] {
        let t = token(key, &claims());
        let good = signature_of(&t);
        let zero = vec![0u8; size];
        for sig in [vec![0u8; 2 * size], [&zero[..], &good[size..]].concat(), [&good[..size], &zero[..]].concat()] {
            assert_refused(check(&mut v, &with_signature(&t, &sig)), BAD_SIG, None);
        }
    }
}

#[test]
fn r_or_s_equal_to_n_refused() {
    let mut v = default_verifier();
    for (key, n_hex) in [(&keys().es256, P256_N), (&keys().es384, P384_N)] {
        let n = hex(n_hex);
        let size = n.len();
        let t = token(key, &claims());
        let good = signature_of(&t);
        let (r, s) = good.split_at(size);
        let all_ones = vec![0xffu8; size];
        for sig in [
            [&n[..], s].concat(),
            [r, &n[..]].concat(),
            [&n[..], &n[..]].concat(),
            [&all_ones[..], s].concat(),
            [r, &all_ones[..]].concat(),
        ] {
            assert_refused(check(&mut v, &with_signature(&t, &sig)), BAD_SIG, None);
        }
        // s + n (when it fits) is the same value mod n, but outside 1..n-1: refused.
        let mut s_plus_n = None;
        let mut carry = 0u16;
        let mut sum = vec![0u8; size];
        for i in (0..size).rev() {
            let total = u16::from(s[i]) + u16::from(n[i]) + carry;
            sum[i] = u8::try_from(total & 0xff).unwrap();
            carry = total >> 8;
        }
        if carry == 0 {
            s_plus_n = Some(sum);
        }
        if let Some(big_s) = s_plus_n {
            assert_refused(check(&mut v, &with_signature(&t, &[r, &big_s[..]].concat())), BAD_SIG, None);
        }
    }
}

#[test]
fn high_s_accepted() {
    // (r, n - s) is the other valid signature of the same message: valid ECDSA, accepted.
    for (alg, n_hex) in [(Algorithm::ES256, P256_N), (Algorithm::ES384, P384_N)] {
        let mut v = default_verifier();
        let n = hex(n_hex);
        let size = n.len();
        let t = token(key(alg), &claims());
        let good = signature_of(&t);
        let twin = [&good[..size], &sub_be(&n, &good[size..])[..]].concat();
        assert_ne!(twin, good);
        assert_accepted(check(&mut v, &with_signature(&t, &twin)));
    }
}

#[test]
fn wrong_signature_lengths_refused() {
    let mut v = default_verifier();
    for alg in Algorithm::ALL {
        let t = token(key(alg), &claims());
        let good = signature_of(&t);
        for sig in [
            vec![],
            good[..good.len() - 1].to_vec(),
            [&good[..], &[0u8][..]].concat(),
            [&[0u8][..], &good[..]].concat(),
        ] {
            assert_refused(check(&mut v, &with_signature(&t, &sig)), BAD_SIG, None);
        }
    }
}

#[test]
fn signature_over_exact_bytes() {
    let mut v = default_verifier();
    let good = es256_token();
    let (h, p, s) = segments(&good);
    // The same header JSON with other whitespace or member order: the signature must fail.
    for header in [
        r#"{"alg": "ES256", "kid": "es256-1"}"#,
        r#"{"kid":"es256-1","alg":"ES256"}"#,
        "{\"alg\":\"ES256\",\"kid\":\"es256-1\"}\n",
        r#"{"alg":"ES256","kid":"es256\u002d1"}"#,
    ] {
        let decoded = String::from_utf8(base64url::decode(&h).unwrap()).unwrap();
        assert_ne!(decoded, header);
        let bad = format!("{}.{p}.{s}", b64(header));
        assert_refused(check(&mut v, &bad), BAD_SIG, None);
    }
    // Re-serialised claims with the same meaning: refused.
    let claims_value: Value = serde_json::from_slice(&base64url::decode(&p).unwrap()).unwrap();
    let pretty = serde_json::to_string_pretty(&claims_value).unwrap();
    assert_refused(check(&mut v, &format!("{h}.{}.{s}", b64(&pretty))), BAD_SIG, None);
    // Splicing: a valid signature from another token.
    let other = token(&keys().es256, &claims_with(json!({ "scope": "admin" })));
    let (oh, op, _) = segments(&other);
    assert_refused(check(&mut v, &format!("{oh}.{op}.{s}")), BAD_SIG, None);
    // Stripping: the signature removed.
    assert_refused(check(&mut v, &format!("{h}.{p}.")), BAD_SIG, None);
    // Every signature byte matters.
    let sig = signature_of(&good);
    for i in 0..sig.len() {
        let mut bad = sig.clone();
        bad[i] ^= 0x01;
        assert_refused(check(&mut v, &with_signature(&good, &bad)), BAD_SIG, None);
    }
}

// ---- time ----

#[test]
fn exp_boundary() {
    let mut v = default_verifier();
    let t = token(&keys().es256, &claims_with(json!({ "exp": NOW, "iat": NOW - 100 })));
    // Default skew 30: valid while now < exp + 30.
    assert_accepted(check_at(&mut v, &t, NOW + 29));
    let expired = check_at(&mut v, &t, NOW + 30);
    assert_eq!(expired.as_ref().err(), Some(&Error::Expired));
    assert_refused(expired, EXPIRED, Some("exp"));
    assert_refused(check_at(&mut v, &t, NOW + 1_000_000), EXPIRED, Some("exp"));
    // With no skew the boundary is exp itself.
    let mut v0 = verifier_with(&[(&format!("/providers/{PROVIDER}/clock_skew_seconds"), json!(0))]);
    assert_accepted(check_at(&mut v0, &t, NOW - 1));
    assert_refused(check_at(&mut v0, &t, NOW), EXPIRED, Some("exp"));
    // Fractional exp: valid strictly before it.
    let t = token(&keys().es256, &claims_with(json!({ "exp": NOW_F + 0.5 })));
    assert_accepted(check_at(&mut v0, &t, NOW));
    assert_refused(check_at(&mut v0, &t, NOW + 1), EXPIRED, Some("exp"));
}

#[test]
fn exp_required() {
    let mut v = default_verifier();
    let t = token(&keys().es256, &claims_without(&["exp"]));
    assert_refused(check(&mut v, &t), CLAIM, Some("exp"));
}

#[test]
fn nbf_future() {
    let mut v = default_verifier();
    // Passes when now >= nbf - skew (30).
    let t = token(&keys().es256, &claims_with(json!({ "nbf": NOW + 30 })));
    assert_accepted(check(&mut v, &t));
    let t = token(&keys().es256, &claims_with(json!({ "nbf": NOW + 31 })));
    assert_refused(check(&mut v, &t), CLAIM, Some("nbf"));
    let t = token(&keys().es256, &claims_with(json!({ "nbf": NOW_F + 30.5 })));
    assert_refused(check(&mut v, &t), CLAIM, Some("nbf"));
    let t = token(&keys().es256, &claims_with(json!({ "nbf": NOW - 1_000_000 })));
    assert_accepted(check(&mut v, &t));
}

#[test]
fn iat_future() {
    let mut v = default_verifier();
    let t = token(&keys().es256, &claims_with(json!({ "iat": NOW + 30 })));
    assert_accepted(check(&mut v, &t));
    let t = token(&keys().es256, &claims_with(json!({ "iat": NOW + 31 })));
    assert_refused(check(&mut v, &t), CLAIM, Some("iat"));
    // iat is optional only where the lifetime bound is turned off.
    let t = token(&keys().es256, &claims_without(&["iat"]));
    assert_refused(check(&mut v, &t), LIFETIME, None);
    assert_accepted(check(&mut unbounded_verifier(), &t));
}

/// The default policy with the lifetime bound turned off (`max_lifetime_seconds: null`).
fn unbounded_verifier() -> Verifier {
    verifier_with(&[(&format!("/providers/{PROVIDER}/max_lifetime_seconds"), Value::Null)])
}

/// The default policy accepting wildcard scopes (`deny_wildcard_scopes: false`).
fn wildcard_tolerant_verifier() -> Verifier {
    let mut policy = policy_json();
    set(&mut policy, "/deny_wildcard_scopes", json!(false));
    verifier(&policy)
}

#[test]
fn numeric_date_types() {
    // Tokens without iat below: the lifetime bound is off here (it needs iat).
    let mut v = unbounded_verifier();
    for claim in ["exp", "nbf", "iat"] {
        for value in [json!("2000000600"), json!(true), json!(false), json!(null), json!([NOW + 600]), json!({})] {
            let t = token(&keys().es256, &claims_with(json!({ claim: value })));
            let result = check(&mut v, &t);
            assert_eq!(result.as_ref().err(), Some(&Error::ClaimType { claim: claim.into() }), "{claim}: {value}");
            assert_refused(result, INVALID, Some(claim));
        }
    }
    // Non-integers are NumericDates too.
    let t = token(&keys().es256, &claims_with(json!({ "exp": 2_000_000_600.25, "iat": 1_999_999_999.5, "nbf": 1.5 })));
    assert_accepted(check(&mut v, &t));
    // Exponent notation is a JSON number.
    let header = r#"{"alg":"ES256","kid":"es256-1"}"#;
    let payload = format!(r#"{{"iss":"{ISSUER}","aud":"{AUDIENCE}","exp":2.0000006e9}}"#);
    assert_accepted(check(&mut v, &raw_token(&keys().es256, header, &payload)));
    // Non-finite values cannot be written in JSON; overflowing literals are refused.
    for exp in ["1e400", "-1e400", "NaN", "Infinity", "\"Infinity\"", &"9".repeat(400)] {
        let payload = format!(r#"{{"iss":"{ISSUER}","aud":"{AUDIENCE}","exp":{exp}}}"#);
        assert_refused(check(&mut v, &raw_token(&keys().es256, header, &payload)), INVALID, None);
    }
}

#[test]
fn huge_numeric_dates_do_not_overflow() {
    let mut v = unbounded_verifier();
    let header = r#"{"alg":"ES256","kid":"es256-1"}"#;
    let payload = |exp: &str, nbf: &str, iat: &str| {
        format!(r#"{{"iss":"{ISSUER}","aud":"{AUDIENCE}","exp":{exp},"nbf":{nbf},"iat":{iat}}}"#)
    };
    let big = [
        ("1.7976931348623157e308", "-1.7976931348623157e308", "-1.7976931348623157e308"),
        ("18446744073709551615", "-9223372036854775808", "0"),
        ("9223372036854775807", "-9223372036854775808", "-9223372036854775808"),
        ("1e300", "-1e300", "1"),
    ];
    for (exp, nbf, iat) in big {
        let t = raw_token(&keys().es256, header, &payload(exp, nbf, iat));
        for now in [NOW, 0, i64::MAX, i64::MIN, i64::MAX - 1] {
            let result = check_at(&mut v, &t, now);
            // No panic and no wrap-around: at extreme `now` values the token may be expired, or
            // its iat/nbf in the future, but it is never anything else.
            assert!(matches!(code(&result), "OK" | EXPIRED | CLAIM), "{exp} at {now}: {}", code(&result));
            if now == NOW {
                assert_accepted(result);
            }
        }
    }
    // Far-past values expire or are not yet valid, without wrapping around.
    let t = raw_token(&keys().es256, header, &payload("-1.7976931348623157e308", "0", "0"));
    for now in [NOW, i64::MIN, i64::MAX] {
        assert_refused(check_at(&mut v, &t, now), EXPIRED, Some("exp"));
    }
    let t = raw_token(&keys().es256, header, &payload("1.7976931348623157e308", "1.7976931348623157e308", "0"));
    for now in [NOW, i64::MIN, i64::MAX] {
        assert_refused(check_at(&mut v, &t, now), CLAIM, Some("nbf"));
    }
    let t = raw_token(&keys().es256, header, &payload("1.7976931348623157e308", "0", "1.7976931348623157e308"));
    assert_refused(check_at(&mut v, &t, i64::MAX), CLAIM, Some("iat"));
    // With a lifetime bound, a huge exp - iat is over it, not an overflow.
    let mut limited = verifier_with(&[(&format!("/providers/{PROVIDER}/max_lifetime_seconds"), json!(3600))]);
    let t = raw_token(&keys().es256, header, &payload("1.7976931348623157e308", "0", "-1.7976931348623157e308"));
    assert_refused(check(&mut limited, &t), LIFETIME, None);
}

#[test]
fn max_lifetime() {
    let mut v = verifier_with(&[(&format!("/providers/{PROVIDER}/max_lifetime_seconds"), json!(3600))]);
    let t = token(&keys().es256, &claims_with(json!({ "iat": NOW - 100, "exp": NOW - 100 + 3600 })));
    assert_accepted(check(&mut v, &t));
    let t = token(&keys().es256, &claims_with(json!({ "iat": NOW - 100, "exp": NOW - 100 + 3601 })));
    assert_refused(check(&mut v, &t), LIFETIME, None);
    let t = token(&keys().es256, &claims_with(json!({ "iat": NOW - 100, "exp": NOW_F - 100.0 + 3600.5 })));
    assert_refused(check(&mut v, &t), LIFETIME, None);
    // iat is required while the bound is set.
    let t = token(&keys().es256, &claims_without(&["iat"]));
    assert_refused(check(&mut v, &t), LIFETIME, None);
    // exp is always required.
    let t = token(&keys().es256, &claims_without(&["exp"]));
    assert_refused(check(&mut v, &t), CLAIM, Some("exp"));
    // Without the bound (null), long-lived tokens pass.
    let t = token(&keys().es256, &claims_with(json!({ "iat": NOW - 100, "exp": NOW + 100 * 365 * 86_400 })));
    assert_accepted(check(&mut unbounded_verifier(), &t));
    // By default the bound is one hour, and the refusal says which field changes it.
    let mut v = default_verifier();
    let t = token(&keys().es256, &claims_with(json!({ "iat": NOW - 100, "exp": NOW - 100 + 86_400 })));
    let err = check(&mut v, &t).unwrap_err();
    assert_eq!(err, Error::LifetimeExceeded { lifetime: Some(86_400), max: 3600, default: true });
    assert!(err.to_string().contains("max_lifetime_seconds"), "{err}");
    let t = token(&keys().es256, &claims_with(json!({ "iat": NOW - 100, "exp": NOW - 100 + 3600 })));
    assert_accepted(check(&mut v, &t));
}

#[test]
fn a_lifetime_bound_over_a_day_needs_a_named_opt_in() {
    let field = format!("/providers/{PROVIDER}/max_lifetime_seconds");
    let mut policy = policy_json();
    set(&mut policy, &field, json!(86_401));
    let err = Verifier::from_json(&policy.to_string()).unwrap_err();
    assert_eq!(err.path(), Some(format!("providers.{PROVIDER}.max_lifetime_seconds").as_str()));
    assert!(err.to_string().contains("allow_long_lived_tokens"), "{err}");
    set(&mut policy, &format!("/providers/{PROVIDER}/allow_long_lived_tokens"), json!(true));
    let mut v = verifier(&policy);
    let t = token(&keys().es256, &claims_with(json!({ "iat": NOW - 100, "exp": NOW - 100 + 86_401 })));
    assert_accepted(check(&mut v, &t));
    // One day is allowed without it; zero is not a bound.
    set(&mut policy, &field, json!(86_400));
    set(&mut policy, &format!("/providers/{PROVIDER}/allow_long_lived_tokens"), json!(false));
    assert!(Verifier::from_json(&policy.to_string()).is_ok());
    set(&mut policy, &field, json!(0));
    assert_eq!(Verifier::from_json(&policy.to_string()).unwrap_err().code(), POLICY_INVALID);
}

// ---- claims ----

#[test]
fn iss_exact_after_unescaping() {
    let mut v = default_verifier();
    let header = r#"{"alg":"ES256","kid":"es256-1"}"#;
    let payload = |iss: &str| format!(r#"{{"iss":{iss},"aud":"{AUDIENCE}","iat":{NOW},"exp":{}}}"#, NOW + 600);
    for iss in [r#""https:\/\/idp.example.com""#, r#""\u0068ttps://idp.example.com""#, r#""https://idp.example.com""#] {
        assert_accepted(check(&mut v, &raw_token(&keys().es256, header, &payload(iss))));
    }
    for iss in [
        r#""https://idp.example.com/""#,
        r#""HTTPS://idp.example.com""#,
        r#""https://IDP.example.com""#,
        r#""https://idp.example.com ""#,
        r#""https://idp.example.com\u0000""#,
        r#""https://idp.exаmple.com""#, // Cyrillic а
        r#""https://idp.example.com.evil.example""#,
        r#""""#,
    ] {
        assert_refused(check(&mut v, &raw_token(&keys().es256, header, &payload(iss))), CLAIM, Some("iss"));
    }
    assert_refused(check(&mut v, &token(&keys().es256, &claims_without(&["iss"]))), CLAIM, Some("iss"));
    for iss in ["1", "null", r#"["https://idp.example.com"]"#, "{}"] {
        let result = check(&mut v, &raw_token(&keys().es256, header, &payload(iss)));
        assert_refused(result, INVALID, Some("iss"));
    }
}

#[test]
fn aud_string_array_empty_missing() {
    let mut v = default_verifier();
    for aud in [json!(AUDIENCE), json!([AUDIENCE]), json!(["other", AUDIENCE]), json!([AUDIENCE, AUDIENCE])] {
        assert_accepted(check(&mut v, &token(&keys().es256, &claims_with(json!({ "aud": aud })))));
    }
    for aud in [
        json!([]),
        json!(""),
        json!("other"),
        json!(["other"]),
        json!("Orders-api"),
        json!("orders-api "),
        json!(" orders-api"),
        json!("orders-api other"),
    ] {
        let t = token(&keys().es256, &claims_with(json!({ "aud": aud })));
        assert_refused(check(&mut v, &t), CLAIM, Some("aud"));
    }
    assert_refused(check(&mut v, &token(&keys().es256, &claims_without(&["aud"]))), CLAIM, Some("aud"));
    for aud in [json!(1), json!(null), json!([1]), json!([AUDIENCE, null]), json!({ "aud": AUDIENCE }), json!(true)] {
        let t = token(&keys().es256, &claims_with(json!({ "aud": aud })));
        assert_refused(check(&mut v, &t), INVALID, Some("aud"));
    }
}

#[test]
fn scope_split_on_space_only() {
    let mut v = default_verifier();
    let need = ["read:orders"];
    let granted = |v: &mut Verifier, scope: &str| {
        let t = token(&keys().es256, &claims_with(json!({ "scope": scope })));
        v.verify(&t, Some(PROVIDER), &need, NOW)
    };
    for scope in ["read:orders", "a read:orders b", "  read:orders  ", "x  read:orders"] {
        assert_accepted(granted(&mut v, scope));
    }
    for scope in [
        "read:orders\twrite",
        "read:orders,write",
        "read:orders\nwrite",
        "read:orders\u{00a0}write",
        "write\u{3000}read:orders",
        "read:orders;write",
        "",
    ] {
        assert_refused(granted(&mut v, scope), SCOPE, None);
    }
    // The granted list keeps each word once, in order.
    let t = token(&keys().es256, &claims_with(json!({ "scope": "b a  b\ta" })));
    assert_eq!(assert_accepted(check(&mut v, &t)).scopes, ["b", "a", "b\ta"]);
}

#[test]
fn scp_array_and_string() {
    let mut v = default_verifier();
    let need = ["read:orders", "write:order_status"];
    let base = claims_without(&["scope"]);
    let with = |extra: Value| {
        let mut c = base.clone();
        c.extend(obj(extra));
        token(&keys().es256, &c)
    };
    for grant in [
        json!({ "scp": ["read:orders", "write:order_status"] }),
        json!({ "scp": "read:orders write:order_status" }),
        json!({ "scope": "read:orders", "scp": ["write:order_status"] }),
        json!({ "scope": "write:order_status", "scp": "read:orders" }),
    ] {
        assert_accepted(v.verify(&with(grant), Some(PROVIDER), &need, NOW));
    }
    // An array entry is one scope; it is not split.
    let t = with(json!({ "scp": ["read:orders write:order_status"] }));
    assert_refused(v.verify(&t, Some(PROVIDER), &need, NOW), SCOPE, None);
    for (grant, claim) in [
        (json!({ "scp": [1] }), "scp"),
        (json!({ "scp": {} }), "scp"),
        (json!({ "scp": true }), "scp"),
        (json!({ "scp": ["read:orders", null] }), "scp"),
        (json!({ "scope": ["read:orders"] }), "scope"),
        (json!({ "scope": 1 }), "scope"),
    ] {
        assert_refused(check(&mut v, &with(grant)), INVALID, Some(claim));
    }
}

#[test]
fn scope_exact_case_sensitive() {
    // Wildcards among the cases below: tolerated here, so that the scope check itself is seen.
    let mut v = wildcard_tolerant_verifier();
    for scope in ["READ:ORDERS", "Read:orders", "read:order", "read:orders2", "read", "read:*", "*", "read:orders/x"] {
        let t = token(&keys().es256, &claims_with(json!({ "scope": scope })));
        let result = v.verify(&t, Some(PROVIDER), &["read:orders"], NOW);
        assert_eq!(result.as_ref().err(), Some(&Error::InsufficientScope { needed: vec!["read:orders".into()] }));
        assert_refused(result, SCOPE, None);
    }
    // Every listed scope is needed.
    let t = token(&keys().es256, &claims_with(json!({ "scope": "read:orders" })));
    assert_refused(v.verify(&t, Some(PROVIDER), &["read:orders", "write:order_status"], NOW), SCOPE, None);
}

#[test]
fn wildcard_scope_refused_when_denied() {
    // On by default.
    let mut v = default_verifier();
    for grant in [
        json!({ "scope": "*" }),
        json!({ "scope": "read:orders read:*" }),
        json!({ "scp": ["admin:*"] }),
        json!({ "scp": "x *" }),
    ] {
        let t = token(&keys().es256, &claims_with(grant));
        // Refused even where no scope is needed.
        assert_refused(check(&mut v, &t), WILDCARD, None);
        assert_refused(v.verify(&t, Some(PROVIDER), &["read:orders"], NOW), WILDCARD, None);
    }
    // Turned off, a wildcard grants nothing but itself.
    let mut lenient = wildcard_tolerant_verifier();
    let t = token(&keys().es256, &claims_with(json!({ "scope": "*" })));
    assert_accepted(check(&mut lenient, &t));
    assert_refused(lenient.verify(&t, Some(PROVIDER), &["read:orders"], NOW), SCOPE, None);
}

#[test]
fn typ_checked() {
    let mut v = verifier_with(&[(&format!("/providers/{PROVIDER}/token_types"), json!(["at+jwt"]))]);
    for typ in ["at+jwt", "application/at+jwt", "AT+JWT", "Application/At+Jwt"] {
        assert_accepted(check(&mut v, &token_with_header(&keys().es256, json!({ "typ": typ }), &claims())));
    }
    for typ in ["JWT", "jwt", "at+jwt ", "application/jwt", "at-jwt", "", "text/at+jwt"] {
        let t = token_with_header(&keys().es256, json!({ "typ": typ }), &claims());
        assert_refused(check(&mut v, &t), CLAIM, Some("typ"));
    }
    assert_refused(check(&mut v, &es256_token()), CLAIM, Some("typ"));
    let t = token_with_header(&keys().es256, json!({ "typ": 1 }), &claims());
    assert_refused(check(&mut v, &t), INVALID, None);
    // RFC 7515 §4.1.9: `application/` is implied only when the value has no `/` (as jose does).
    let mut media =
        verifier_with(&[(&format!("/providers/{PROVIDER}/token_types"), json!(["application/text/plain"]))]);
    for typ in ["text/plain", "TEXT/PLAIN", "application/text/plain/x"] {
        let t = token_with_header(&keys().es256, json!({ "typ": typ }), &claims());
        let err = check(&mut media, &t).unwrap_err();
        assert_eq!(err.claim(), Some("typ"), "{typ}");
        assert!(err.to_string().contains("expected \"application/text/plain\""), "{err}");
    }
    assert_accepted(check(
        &mut media,
        &token_with_header(&keys().es256, json!({ "typ": "Application/Text/Plain" }), &claims()),
    ));
    // Without token_types any typ (or none) passes.
    let mut any = default_verifier();
    for typ in ["JWT", "whatever", "at+jwt"] {
        assert_accepted(check(&mut any, &token_with_header(&keys().es256, json!({ "typ": typ }), &claims())));
    }
}

#[test]
fn required_claims() {
    let mut v = verifier_with(&[(&format!("/providers/{PROVIDER}/required_claims"), json!(["sub", "client_id"]))]);
    assert_accepted(check(&mut v, &token(&keys().es256, &claims_with(json!({ "client_id": "bot" })))));
    assert_refused(check(&mut v, &token(&keys().es256, &claims())), CLAIM, Some("client_id"));
    let t = token(&keys().es256, &claims_without(&["sub"]));
    assert_refused(check(&mut v, &t), CLAIM, Some("sub"));
    // null counts as absent; false, 0 and "" are values.
    let t = token(&keys().es256, &claims_with(json!({ "client_id": null })));
    assert_refused(check(&mut v, &t), CLAIM, Some("client_id"));
    for value in [json!(false), json!(0), json!(""), json!([])] {
        assert_accepted(check(&mut v, &token(&keys().es256, &claims_with(json!({ "client_id": value })))));
    }
    // sub and jti are type-checked.
    for claim in ["sub", "jti"] {
        let t = token(&keys().es256, &claims_with(json!({ claim: 7 })));
        assert_refused(check(&mut v, &t), INVALID, Some(claim));
    }
}

#[test]
fn token_from_other_provider_refused() {
    let k = keys();
    let other_issuer = "https://partner.example.com";
    let mut partner = provider_json(jwks(&[&k.es256_second]));
    set(&mut partner, "/issuer", json!(other_issuer));
    let mut policy = policy_json();
    set(&mut policy, "/providers/partner", partner);
    let mut v = verifier(&policy);
    let ours = es256_token();
    let theirs = token(&k.es256_second, &claims_with(json!({ "iss": other_issuer })));
    assert_accepted(v.verify(&ours, Some(PROVIDER), NO_SCOPES, NOW));
    assert_accepted(v.verify(&theirs, Some("partner"), NO_SCOPES, NOW));
    // Each provider only trusts its own keys …
    assert_refused(v.verify(&ours, Some("partner"), NO_SCOPES, NOW), NO_KEY, None);
    assert_refused(v.verify(&theirs, Some(PROVIDER), NO_SCOPES, NOW), NO_KEY, None);
    // … and its own issuer, even when the key is shared.
    let mut shared = provider_json(all_jwks());
    set(&mut shared, "/issuer", json!(other_issuer));
    let mut policy = policy_json();
    set(&mut policy, "/providers/partner", shared);
    let mut v = verifier(&policy);
    assert_refused(v.verify(&ours, Some("partner"), NO_SCOPES, NOW), CLAIM, Some("iss"));
    // Without a provider name, the token's iss picks one; an unknown or missing iss picks none.
    assert_eq!(assert_accepted(v.verify(&ours, None, NO_SCOPES, NOW)).provider, PROVIDER);
    let stranger = token(&k.es256, &claims_with(json!({ "iss": "https://evil.example" })));
    assert_refused(v.verify(&stranger, None, NO_SCOPES, NOW), CLAIM, Some("iss"));
    let anonymous = token(&k.es256, &claims_without(&["iss"]));
    assert_refused(v.verify(&anonymous, None, NO_SCOPES, NOW), CLAIM, Some("iss"));
    // An unknown provider name is a policy error, not a token error.
    assert_eq!(v.verify(&ours, Some("nobody"), NO_SCOPES, NOW).unwrap_err().code(), POLICY_INVALID);
    // A cached verification for one provider is not reused for another.
    assert_accepted(v.verify(&ours, Some(PROVIDER), NO_SCOPES, NOW));
    assert_refused(v.verify(&ours, Some("partner"), NO_SCOPES, NOW), CLAIM, Some("iss"));
}

#[test]
fn jwks_unavailable_until_keys_arrive() {
    let mut provider = provider_json(all_jwks());
    provider.as_object_mut().unwrap().remove("local_jwks");
    set(&mut provider, "/remote_jwks", json!({ "uri": "https://idp.example.com/jwks.json" }));
    let mut v = verifier(&policy_with_provider(provider));
    let t = es256_token();
    let result = check(&mut v, &t);
    assert_refused(result, "ERR_JWKS_UNAVAILABLE", None);
    assert_eq!(check(&mut v, &t).unwrap_err().denial().status, 503);
    // A JWKS with no usable key is refused (it would replace keys with none): still unavailable.
    assert_eq!(v.set_jwks(PROVIDER, br#"{"keys":[]}"#).unwrap_err().code(), JWKS_INVALID);
    assert_refused(check(&mut v, &t), "ERR_JWKS_UNAVAILABLE", None);
    // A usable one makes the token verify.
    assert_eq!(v.set_jwks(PROVIDER, all_jwks().to_string().as_bytes()).unwrap().keys, Algorithm::ALL.len());
    assert_accepted(check(&mut v, &t));
}

// ---- the cache ----

#[test]
fn cache_hit_rechecks_exp() {
    let mut v = default_verifier();
    let t = token(&keys().es256, &claims_with(json!({ "exp": NOW + 10 })));
    assert_accepted(check(&mut v, &t));
    assert_eq!(v.cached_tokens(), 1);
    assert_accepted(check_at(&mut v, &t, NOW + 39));
    assert_refused(check_at(&mut v, &t, NOW + 40), EXPIRED, Some("exp"));
    // nbf and iat are re-checked against this call's `now` too.
    let t = token(&keys().es256, &claims_with(json!({ "nbf": NOW - 10, "iat": NOW - 10 })));
    assert_accepted(check(&mut v, &t));
    assert_refused(check_at(&mut v, &t, NOW - 41), CLAIM, Some("nbf"));
}

#[test]
fn cache_hit_rechecks_scopes() {
    let mut v = default_verifier();
    let t = es256_token();
    assert_accepted(v.verify(&t, Some(PROVIDER), &["read:orders"], NOW));
    assert_eq!(v.cached_tokens(), 1);
    assert_refused(v.verify(&t, Some(PROVIDER), &["admin"], NOW), SCOPE, None);
    assert_accepted(v.verify(&t, Some(PROVIDER), &["write:order_status"], NOW));
    // A token that lacked a scope is cached as verified, and still lacks it next time.
    let narrow = token(&keys().es256, &claims_with(json!({ "scope": "read:orders" })));
    assert_refused(v.verify(&narrow, Some(PROVIDER), &["admin"], NOW), SCOPE, None);
    assert_refused(v.verify(&narrow, Some(PROVIDER), &["admin"], NOW), SCOPE, None);
}

#[test]
fn cache_entry_dropped_when_key_leaves_jwks() {
    let k = keys();
    let mut v = default_verifier();
    let t = es256_token();
    assert_accepted(check(&mut v, &t));
    assert_eq!(v.cached_tokens(), 1);
    // The same keys again: the entry stays.
    v.set_jwks(PROVIDER, all_jwks().to_string().as_bytes()).unwrap();
    assert_eq!(v.cached_tokens(), 1);
    assert_accepted(check(&mut v, &t));
    // The signing key is rotated out: the cached verification must not be used.
    v.set_jwks(PROVIDER, jwks(&[&k.es256_second]).to_string().as_bytes()).unwrap();
    assert_eq!(v.cached_tokens(), 0);
    assert_refused(check(&mut v, &t), NO_KEY, None);
    // Same key material under another kid: also a different key set.
    let renamed = public_with(&k.es256, json!({ "kid": "renamed" }));
    v.set_jwks(PROVIDER, jwks_of(vec![renamed]).to_string().as_bytes()).unwrap();
    assert_refused(check(&mut v, &t), NO_KEY, None);
    // And back: verifies again (fully).
    v.set_jwks(PROVIDER, all_jwks().to_string().as_bytes()).unwrap();
    assert_accepted(check(&mut v, &t));
    // The key narrowed by `use: enc` no longer verifies either.
    let enc = public_with(&k.es256, json!({ "use": "enc" }));
    v.set_jwks(PROVIDER, jwks_of(vec![enc]).to_string().as_bytes()).unwrap();
    assert_refused(check(&mut v, &t), NO_KEY, None);
}

#[test]
fn cache_disabled_with_size_zero() {
    let mut policy = policy_json();
    set(&mut policy, "/token_cache_size", json!(0));
    let mut v = verifier(&policy);
    let t = es256_token();
    assert_accepted(check(&mut v, &t));
    assert_accepted(check(&mut v, &t));
    assert_eq!(v.cached_tokens(), 0);
}

#[test]
fn cache_is_bounded() {
    let mut policy = policy_json();
    set(&mut policy, "/token_cache_size", json!(3));
    let mut v = verifier(&policy);
    for i in 0..10 {
        let t = token(&keys().es256, &claims_with(json!({ "jti": format!("t{i}") })));
        assert_accepted(check(&mut v, &t));
        assert!(v.cached_tokens() <= 3);
    }
    assert_eq!(v.cached_tokens(), 3);
    // Refused tokens are never cached.
    let mut v = default_verifier();
    let expired = token(&keys().es256, &claims_with(json!({ "exp": NOW - 100 })));
    assert_refused(check(&mut v, &expired), EXPIRED, None);
    let bad = with_signature(&es256_token(), &[0u8; 64]);
    assert_refused(check(&mut v, &bad), BAD_SIG, None);
    assert_eq!(v.cached_tokens(), 0);
    // Tokens over the cacheable size are verified every time, not stored.
    let big = token(&keys().es256, &claims_with(json!({ "pad": "x".repeat(edgeward::MAX_CACHED_TOKEN_BYTES) })));
    assert!(big.len() <= DEFAULT_MAX_TOKEN_BYTES);
    assert_accepted(check(&mut v, &big));
    assert_eq!(v.cached_tokens(), 0);
}

#[test]
fn cache_does_not_bypass_alg_or_wildcard_checks() {
    // A token accepted by one verifier is not a way around another verifier's policy: each
    // verifier has its own cache.
    let t = token(&keys().rs256, &claims_with(json!({ "scope": "*" })));
    let mut lenient = wildcard_tolerant_verifier();
    assert_accepted(check(&mut lenient, &t));
    let mut strict_policy = policy_json();
    set(&mut strict_policy, "/deny_wildcard_scopes", json!(true));
    let mut strict = verifier(&strict_policy);
    assert_refused(check(&mut strict, &t), WILDCARD, None);
    assert_refused(check(&mut strict, &t), WILDCARD, None);
}

// ---- what errors say ----

#[test]
fn error_display_never_contains_token() {
    let k = keys();
    let mut v = verifier_with(&[
        (&format!("/providers/{PROVIDER}/token_types"), json!(["at+jwt"])),
        (&format!("/providers/{PROVIDER}/required_claims"), json!(["client_id"])),
    ]);
    let secret_scope = "scope-SECRET-7f3a";
    let failing = vec![
        token(&k.es256, &claims_with(json!({ "iss": "https://SECRET-ISS.example" }))),
        token(&k.es256, &claims_with(json!({ "aud": "SECRET-AUD" }))),
        token(&k.es256, &claims_with(json!({ "exp": NOW - 1000, "scope": secret_scope }))),
        token(&k.es256, &claims_with(json!({ "exp": "SECRET-EXP" }))),
        token_with_header(&k.es256, json!({ "typ": "SECRET-TYP" }), &claims()),
        token_with_header(&k.es256, json!({ "kid": "SECRET-KID" }), &claims()),
        token_with_header(&k.es256, json!({ "alg": "SECRET-ALG" }), &claims()),
        token_with_header(&k.es256, json!({ "crit": ["SECRET-CRIT"] }), &claims()),
        with_signature(&es256_token(), b"SECRET-SIGNATURE-BYTES-0123456789abcdef0123456789abcdef012345678"),
        format!("{}.SECRET", es256_token()),
        format!("SECRET{}", es256_token()),
    ];
    for t in &failing {
        let err = check(&mut v, t).unwrap_err();
        let denial = err.denial();
        let mut texts = vec![denial.body(), denial.www_authenticate.clone().unwrap_or_default()];
        // The message names a missing key's kid (sanitized) to help an operator; nothing else of
        // the token, and the HTTP answer not even that.
        if let Error::NoMatchingKey { kid } = &err {
            assert_eq!(kid.as_deref(), Some("SECRET-KID"));
            assert!(err.to_string().contains("\"SECRET-KID\""), "{err}");
        } else {
            texts.extend([err.to_string(), format!("{err:?}")]);
        }
        for text in &texts {
            assert!(!text.contains(t.as_str()), "{} echoes the token", err.code());
            assert!(!text.contains("SECRET"), "{} echoes token content: {text}", err.code());
            assert!(!text.contains(secret_scope));
            for segment in t.split('.').filter(|s| s.len() > 8) {
                assert!(!text.contains(segment), "{} echoes a token segment", err.code());
            }
        }
    }
    // Key material never appears in JWKS errors either.
    let private = k.es256.to_json();
    let err = load_jwks(&jwks_of(vec![private.clone()])).unwrap_err();
    for member in ["d", "x", "y"] {
        let value = private[member].as_str().unwrap();
        assert!(!err.to_string().contains(value) && !format!("{err:?}").contains(value), "{member}");
    }
    let err = Verifier::from_json(&policy_with_provider(provider_json(jwks_of(vec![private.clone()]))).to_string())
        .unwrap_err();
    assert!(!err.to_string().contains(private["d"].as_str().unwrap()));
}

// ---- RSA-PSS parameters ----

/// A PS256 signature of `input` by the test PS256 key with a chosen salt length.
fn pss_sign_with_salt(input: &[u8], salt_len: usize) -> Vec<u8> {
    use rsa::signature::{RandomizedSigner, SignatureEncoding};
    let jwk = keys().ps256.to_json();
    let uint = |member: &str| {
        rsa::BoxedUint::from_be_slice_vartime(&base64url::decode(jwk[member].as_str().unwrap()).unwrap())
    };
    let private =
        rsa::PrivateKey::from_components(uint("n"), uint("e"), uint("d"), vec![uint("p"), uint("q")]).unwrap();
    let signer = rsa::pss::SigningKey::<sha2::Sha256>::new_with_salt_len(private, salt_len);
    signer.try_sign_with_rng(&mut getrandom::SysRng, input).unwrap().to_vec()
}

#[test]
fn pss_salt_length_is_the_hash_size() {
    // RFC 7518 §3.5: the salt is as long as the hash output (32 bytes for PS256).
    let mut v = default_verifier();
    let t = token(&keys().ps256, &claims());
    let (h, p, _) = segments(&t);
    let input = format!("{h}.{p}");
    assert_accepted(check(&mut v, &with_signature(&t, &pss_sign_with_salt(input.as_bytes(), 32))));
    for salt_len in [0, 20, 31, 33, 64] {
        let sig = pss_sign_with_salt(input.as_bytes(), salt_len);
        assert_refused(check(&mut v, &with_signature(&t, &sig)), BAD_SIG, None);
    }
}

#[test]
fn missing_key_members_refused_or_skipped() {
    let k = keys();
    // Members a usable key type needs: refused, naming the member.
    for (key, member) in [(&k.rs256, "n"), (&k.rs256, "e"), (&k.eddsa, "x"), (&k.es256, "x"), (&k.es256, "y")] {
        let bad = public_with(key, json!({ member: null }));
        assert_jwks_refused(&jwks_of(vec![bad]), Some(&format!("keys[0].{member}")));
    }
    let no_kty = public_with(&k.es256, json!({ "kty": null }));
    assert_jwks_refused(&jwks_of(vec![no_kty]), Some("keys[0].kty"));
    // Without `crv` no algorithm can use an EC or OKP key: it is skipped, never guessed.
    for key in [&k.es256, &k.eddsa] {
        let set = load_jwks(&jwks_of(vec![public_with(key, json!({ "crv": null })), public(&k.rs256)])).unwrap();
        assert_eq!((set.keys().len(), set.skipped()), (1, 1));
        // Alone, such a key leaves the document with nothing usable: refused, never guessed.
        assert_jwks_refused(&jwks_of(vec![public_with(key, json!({ "crv": null }))]), Some("keys"));
    }
}

#[test]
fn a_shared_key_set_is_used_as_given() {
    // Hosts may parse a JWKS once and hand it to several verifiers.
    let k = keys();
    let set = KeySet::from_bytes(jwks(&[&k.es256_second]).to_string().as_bytes(), &[Algorithm::ES256]).unwrap();
    let mut v = default_verifier();
    assert_eq!(v.set_key_set(PROVIDER, set.clone()).unwrap(), 1);
    assert_eq!(v.key_set(PROVIDER).map(|s| s.keys().len()), Some(1));
    assert_refused(check(&mut v, &es256_token()), NO_KEY, None);
    let verified = assert_accepted(check(&mut v, &token(&k.es256_second, &claims())));
    assert_eq!(verified.expires_at(), Some(2_000_000_600.0));
    assert_eq!(v.set_key_set("nobody", set).unwrap_err().code(), POLICY_INVALID);
}

#[test]
fn cache_stats_count_hits_and_misses() {
    let mut v = default_verifier();
    let t = es256_token();
    assert_accepted(check(&mut v, &t));
    assert_accepted(check(&mut v, &t));
    assert_refused(check(&mut v, "not.a.token"), "ERR_JWT_INVALID", None);
    let stats = v.cache_stats();
    assert_eq!((stats.hits, stats.misses), (1, 2));
}

// ---- RS384, RS512, PS384, PS512 and ES512 ----

/// P-521 group order.
const P521_N: &str = "01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409";

/// The test RS256 key's private half re-labelled for another RSA algorithm (same `n`, same `kid`).
fn rsa_key_as(alg: Algorithm) -> PrivateJwk {
    let mut jwk = obj(keys().rs256.to_json());
    jwk.insert("alg".to_owned(), json!(alg.name()));
    PrivateJwk::from_members(&jwk).unwrap()
}

/// A verifier allowing every algorithm whose only key is the RS256 key's public half without
/// `alg`: one RSA key that may verify all six RSA algorithms.
fn one_rsa_key_verifier() -> Verifier {
    verifier_for_jwks(jwks_of(vec![public_with(&keys().rs256, json!({ "alg": null }))]))
}

#[test]
fn one_rsa_key_without_alg_verifies_every_rsa_algorithm() {
    let mut v = one_rsa_key_verifier();
    for alg in Algorithm::RSA {
        let verified = assert_accepted(check(&mut v, &token(&rsa_key_as(alg), &claims())));
        assert_eq!(verified.header["alg"], alg.name());
    }
}

#[test]
fn rsa_alg_confusion_under_one_key_is_refused() {
    // The header says one RSA algorithm; the signature over exactly that header is made with
    // another scheme or hash of the same key (RS256 vs RS384 vs PS384 …): never accepted.
    let mut v = one_rsa_key_verifier();
    let payload = payload_json();
    for claimed in Algorithm::RSA {
        let header = json!({ "alg": claimed.name(), "kid": "rs256-1" }).to_string();
        for signer in Algorithm::RSA {
            let t = raw_token(&rsa_key_as(signer), &header, &payload);
            if signer == claimed {
                assert_accepted(check(&mut v, &t));
            } else {
                assert_refused(check(&mut v, &t), BAD_SIG, None);
            }
        }
    }
}

#[test]
fn rsa_key_alg_limits_it_to_that_algorithm() {
    // An RSA key marked RS384 verifies RS384 only: RS256 and PS384 tokens naming it are refused
    // (the algorithm disagrees with the key), whatever the provider allows.
    let mut v = verifier_for_jwks(jwks_of(vec![public_with(&keys().rs256, json!({ "alg": "RS384" }))]));
    assert_accepted(check(&mut v, &token(&rsa_key_as(Algorithm::RS384), &claims())));
    for alg in Algorithm::RSA.into_iter().filter(|a| *a != Algorithm::RS384) {
        assert_refused(check(&mut v, &token(&rsa_key_as(alg), &claims())), ALG, None);
    }
}

#[test]
fn new_rsa_signatures_of_the_wrong_length_or_not_below_n_are_refused() {
    let mut v = default_verifier();
    for alg in [Algorithm::RS384, Algorithm::RS512, Algorithm::PS384, Algorithm::PS512] {
        let t = token(key(alg), &claims());
        let good = signature_of(&t);
        let n = base64url::decode(public(key(alg))["n"].as_str().unwrap()).unwrap();
        assert_eq!(good.len(), n.len());
        let mut n_minus_one = n.clone();
        *n_minus_one.last_mut().unwrap() -= 1; // n is odd
        let mut above_n = n.clone();
        above_n[0] = above_n[0].saturating_add(1);
        for sig in [
            n.clone(),
            above_n,
            vec![0xff; n.len()],
            vec![0; n.len()],
            n_minus_one,
            good[1..].to_vec(),
            [&good[..], &[0][..]].concat(),
            [&[0][..], &good[..]].concat(),
            good[..good.len() / 2].to_vec(),
        ] {
            assert_refused(check(&mut v, &with_signature(&t, &sig)), BAD_SIG, None);
        }
        // s + n is the same value mod n: out of range (and, with a full-width n, too long).
        let precision = u32::try_from(8 * n.len() + 64).unwrap();
        let sum = BoxedUint::from_be_slice(&good, precision)
            .unwrap()
            .wrapping_add(BoxedUint::from_be_slice(&n, precision).unwrap())
            .to_be_bytes()
            .into_vec();
        let sum = &sum[sum.iter().position(|b| *b != 0).unwrap()..];
        assert_refused(check(&mut v, &with_signature(&t, sum)), BAD_SIG, None);
    }
}

/// A PSS signature of `input` by the test RSA key with a chosen hash and salt length.
fn pss_sign_with(alg: Algorithm, input: &[u8], salt_len: usize) -> Vec<u8> {
    use rsa::signature::{RandomizedSigner, SignatureEncoding};
    let jwk = keys().rs256.to_json();
    let uint = |member: &str| {
        rsa::BoxedUint::from_be_slice_vartime(&base64url::decode(jwk[member].as_str().unwrap()).unwrap())
    };
    let private =
        rsa::PrivateKey::from_components(uint("n"), uint("e"), uint("d"), vec![uint("p"), uint("q")]).unwrap();
    let rng = &mut getrandom::SysRng;
    match alg {
        Algorithm::PS384 => rsa::pss::SigningKey::<sha2::Sha384>::new_with_salt_len(private, salt_len)
            .try_sign_with_rng(rng, input)
            .unwrap()
            .to_vec(),
        _ => rsa::pss::SigningKey::<sha2::Sha512>::new_with_salt_len(private, salt_len)
            .try_sign_with_rng(rng, input)
            .unwrap()
            .to_vec(),
    }
}

#[test]
fn pss384_and_pss512_salts_are_the_hash_size() {
    // RFC 7518 §3.5: 48 bytes for PS384, 64 for PS512; MGF1 with the same hash.
    let mut v = one_rsa_key_verifier();
    for (alg, salt) in [(Algorithm::PS384, 48), (Algorithm::PS512, 64)] {
        let t = token(&rsa_key_as(alg), &claims());
        let (h, p, _) = segments(&t);
        let input = format!("{h}.{p}");
        assert_accepted(check(&mut v, &with_signature(&t, &pss_sign_with(alg, input.as_bytes(), salt))));
        for other in [0, 20, 32, 48, 64, salt - 1, salt + 1].into_iter().filter(|s| *s != salt) {
            let sig = pss_sign_with(alg, input.as_bytes(), other);
            assert_refused(check(&mut v, &with_signature(&t, &sig)), BAD_SIG, None);
        }
    }
}

#[test]
fn es512_signatures_are_raw_132_bytes() {
    let mut v = default_verifier();
    let t = token(&keys().es512, &claims());
    let good = signature_of(&t);
    assert_eq!(good.len(), 132);
    assert_accepted(check(&mut v, &t));
    let (r, s) = good.split_at(66);
    // r and s of 65 bytes (a signer that strips a leading zero), or padded to 67; P-256 and
    // P-384 sizes; the DER encoding.
    let mut sigs = vec![
        [&r[1..], &s[1..]].concat(),
        [&[0][..], r, &[0][..], s].concat(),
        good[..131].to_vec(),
        [&good[..], &[0][..]].concat(),
        good[..64].to_vec(),
        good[..96].to_vec(),
    ];
    let der = {
        let int = |x: &[u8]| {
            let x = &x[x.iter().position(|b| *b != 0).unwrap()..];
            let body = if x[0] & 0x80 != 0 { [&[0][..], x].concat() } else { x.to_vec() };
            [&[0x02, u8::try_from(body.len()).unwrap()][..], &body].concat()
        };
        let body = [int(r), int(s)].concat();
        [&[0x30, 0x81, u8::try_from(body.len()).unwrap()][..], &body].concat()
    };
    sigs.push(der);
    for sig in sigs {
        assert_refused(check(&mut v, &with_signature(&t, &sig)), BAD_SIG, None);
    }
}

#[test]
fn es512_r_and_s_out_of_range_are_refused() {
    let mut v = default_verifier();
    let n = hex(P521_N);
    assert_eq!(n.len(), 66);
    let t = token(&keys().es512, &claims());
    let good = signature_of(&t);
    let (r, s) = good.split_at(66);
    let zero = [0u8; 66];
    let all_ones = [0xffu8; 66];
    let mut top_bits = [0xffu8; 66];
    top_bits[0] = 0x01; // 2^521 − 1, above n, still 521 bits
    // s + n and r + n fit in 66 bytes (n < 2^521 < 2^528): the same values mod n, out of range.
    let plus_n = |x: &[u8]| {
        let sum = BoxedUint::from_be_slice(x, 528).unwrap().wrapping_add(BoxedUint::from_be_slice(&n, 528).unwrap());
        let bytes = sum.to_be_bytes().into_vec();
        let (high, low) = bytes.split_at(bytes.len() - 66);
        assert!(high.iter().all(|b| *b == 0));
        low.to_vec()
    };
    for sig in [
        [&zero[..], &zero[..]].concat(),
        [&zero[..], s].concat(),
        [r, &zero[..]].concat(),
        [&n[..], s].concat(),
        [r, &n[..]].concat(),
        [&all_ones[..], s].concat(),
        [r, &all_ones[..]].concat(),
        [&top_bits[..], s].concat(),
        [r, &top_bits[..]].concat(),
        [r, &plus_n(s)[..]].concat(),
        [&plus_n(r)[..], s].concat(),
    ] {
        assert_refused(check(&mut v, &with_signature(&t, &sig)), BAD_SIG, None);
    }
    // (r, n − s), the other valid signature of the message, is valid ECDSA: accepted.
    let n_minus_s = sub_be(&n, s);
    let twin = [r, &n_minus_s[n_minus_s.len() - 66..]].concat();
    assert_ne!(twin, good);
    assert_accepted(check(&mut v, &with_signature(&t, &twin)));
}

#[test]
fn p521_keys_need_full_66_byte_coordinates() {
    let k = keys();
    let jwk = public(&k.es512);
    assert_eq!(jwk["crv"], "P-521");
    for member in ["x", "y"] {
        let c = base64url::decode(jwk[member].as_str().unwrap()).unwrap();
        assert_eq!(c.len(), 66);
        // 65 bytes: what a library that drops the (often zero) leading byte emits; 67: padded.
        let short = base64url::encode(&c[1..]);
        let long = base64url::encode(&[&[0u8][..], &c[..]].concat());
        for value in [short, long] {
            let bad = public_with(&k.es512, json!({ member: value }));
            assert_jwks_refused(&jwks_of(vec![bad]), Some(&format!("keys[0].{member}")));
        }
    }
    // Off the curve.
    let mut y = base64url::decode(jwk["y"].as_str().unwrap()).unwrap();
    y[65] ^= 1;
    assert_jwks_refused(&jwks_of(vec![public_with(&k.es512, json!({ "y": base64url::encode(&y) }))]), None);
    // A P-384 point labelled P-521 does not have the right length.
    let relabelled = public_with(&k.es384, json!({ "crv": "P-521", "alg": null }));
    assert_jwks_refused(&jwks_of(vec![relabelled]), Some("keys[0].x"));
    // The P-521 key verifies ES512 only: an ES256/ES384 header naming it is refused.
    let mut v = default_verifier();
    for (alg, signer) in [("ES256", &k.es256), ("ES384", &k.es384)] {
        let header = json!({ "alg": alg, "kid": "es512-1" }).to_string();
        assert_refused(check(&mut v, &raw_token(signer, &header, &payload_json())), ALG, None);
    }
    // And a P-256 key's kid under an ES512 header, too.
    let header = r#"{"alg":"ES512","kid":"es256-1"}"#;
    assert_refused(check(&mut v, &raw_token(&k.es512, header, &payload_json())), ALG, None);
}

#[test]
fn new_algorithms_are_configured_by_name_and_never_by_default() {
    // The default list stays ["ES256"] (alg_not_on_the_providers_list_is_refused); each new name
    // is accepted in `algorithms`, exactly.
    for alg in [Algorithm::ES512, Algorithm::RS384, Algorithm::RS512, Algorithm::PS384, Algorithm::PS512] {
        let mut policy = policy_json();
        set(&mut policy, &format!("/providers/{PROVIDER}/algorithms"), json!([alg.name()]));
        let mut v = verifier(&policy);
        assert_accepted(check(&mut v, &token(key(alg), &claims())));
        assert_refused(check(&mut v, &es256_token()), ALG, None);
    }
    // A misspelt name is refused, and the message lists every supported name.
    for name in ["es512", "PS521", "RS384 "] {
        let mut policy = policy_json();
        set(&mut policy, &format!("/providers/{PROVIDER}/algorithms"), json!([name]));
        let err = Verifier::from_json(&policy.to_string()).unwrap_err();
        assert_eq!((err.code(), err.path()), (POLICY_INVALID, Some("providers.corp-idp.algorithms[0]")));
        for alg in Algorithm::ALL {
            assert!(err.to_string().contains(alg.name()), "{err}");
        }
    }
}

#[test]
fn keys_the_allowlist_cannot_use_are_named_at_load() {
    let k = keys();
    let mut minimal = provider_json(jwks(&[&k.rs384]));
    minimal.as_object_mut().unwrap().remove("algorithms");
    // Inline RSA keys under the default ["ES256"]: the policy is refused, naming the key type,
    // the allowlist and what to add.
    let err = Verifier::from_json(&policy_with_provider(minimal.clone()).to_string()).unwrap_err();
    assert_eq!((err.code(), err.path()), (POLICY_INVALID, Some("providers.corp-idp.local_jwks.keys")));
    let message = err.to_string();
    assert!(message.contains("keys are RSA (alg RS384)"), "{message}");
    assert!(message.contains("algorithms allows ES256"), "{message}");
    assert!(message.contains("add RS384 to algorithms"), "{message}");
    // An RSA key without `alg`: RS256 is suggested, and the choice left to the operator.
    set(&mut minimal, "/local_jwks", jwks_of(vec![public_with(&k.rs256, json!({ "alg": null }))]));
    let message = Verifier::from_json(&policy_with_provider(minimal.clone()).to_string()).unwrap_err().to_string();
    assert!(message.contains("keys are RSA;") && message.contains("add RS256"), "{message}");
    // A P-521 key and a P-384 key under ["RS256"].
    set(&mut minimal, "/local_jwks", jwks(&[&k.es512, &k.es384]));
    set(&mut minimal, "/algorithms", json!(["RS256"]));
    let message = Verifier::from_json(&policy_with_provider(minimal).to_string()).unwrap_err().to_string();
    assert!(message.contains("keys are EC P-521 (alg ES512), EC P-384 (alg ES384)"), "{message}");
    assert!(message.contains("algorithms allows RS256: add ES512 or ES384 to algorithms"), "{message}");
    // A fetched document says the same; the current keys stay.
    let mut only_es256 = policy_json();
    set(&mut only_es256, &format!("/providers/{PROVIDER}/algorithms"), json!(["ES256"]));
    let mut v = verifier(&only_es256);
    let message = v.set_jwks(PROVIDER, jwks(&[&k.ps512, &k.eddsa]).to_string().as_bytes()).unwrap_err().to_string();
    assert!(message.contains("keys are RSA (alg PS512), OKP Ed25519 (alg EdDSA)"), "{message}");
    assert!(message.contains("add PS512 or EdDSA to algorithms"), "{message}");
    let err = v.set_jwks(PROVIDER, jwks(&[&k.ps512]).to_string().as_bytes()).unwrap_err();
    assert_eq!((err.code(), err.path()), (JWKS_INVALID, Some("keys")));
    assert_accepted(check(&mut v, &es256_token()));
    // Key types edgeward verifies nothing with are named too.
    let message =
        KeySet::from_bytes(br#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#, &[Algorithm::ES256]).unwrap_err().to_string();
    assert!(
        message.contains("keys are oct") && message.contains("edgeward verifies no algorithm with them"),
        "{message}"
    );
}
