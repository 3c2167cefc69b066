//! Published JWS test vectors, checked at the key and signature level (`KeySet` +
//! `Algorithm::verify`): the RFC examples carry no `aud` and expired long ago, so they are not
//! run through `Verifier`. Every vector must verify, and a copy with one bit flipped must not.
//!
//! Sources (values copied from the RFC texts; they are data, not code):
//! - RFC 7515 A.2 (RS256) and A.3 (ES256, a high-S signature).
//! - RFC 7520 §4.1 (RS256), §4.2 (PS384) and §4.3 (ES512). PS256 is covered by Wycheproof
//!   (`tests/wycheproof.rs`).
//! - RFC 8037 A.4 (Ed25519).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use edgeward::{Algorithm, Error, KeySet, base64url};

/// RFC 7515 A.1–A.3 payload: `{"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}`.
const RFC7515_PAYLOAD: &str =
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";

/// RFC 7515 A.2.1: the RSA public key.
const RFC7515_A2_JWKS: &str = r#"{"keys":[{"kty":"RSA",
 "n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ",
 "e":"AQAB"}]}"#;
/// RFC 7515 A.2: header `{"alg":"RS256"}`.
const RFC7515_A2_HEADER: &str = "eyJhbGciOiJSUzI1NiJ9";
const RFC7515_A2_SIGNATURE: &str = "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

/// RFC 7515 A.3.1: the P-256 public key.
const RFC7515_A3_JWKS: &str = r#"{"keys":[{"kty":"EC","crv":"P-256",
 "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
 "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#;
/// RFC 7515 A.3: header `{"alg":"ES256"}`.
const RFC7515_A3_HEADER: &str = "eyJhbGciOiJFUzI1NiJ9";
/// The published signature has S above n/2 (high-S), which is valid ECDSA.
const RFC7515_A3_SIGNATURE: &str =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

/// RFC 7520 §3.3 (Figure 3): the public part of bilbo.baggins' RSA key.
const RFC7520_RSA_JWKS: &str = r#"{"keys":[{"kty":"RSA","kid":"bilbo.baggins@hobbiton.example","use":"sig",
 "n":"n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw",
 "e":"AQAB"}]}"#;
/// RFC 7520 Figure 8: "It’s a dangerous business, Frodo, going out your door. …".
const RFC7520_PAYLOAD: &str = "SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4";
/// RFC 7520 §4.1: header `{"alg":"RS256","kid":"bilbo.baggins@hobbiton.example"}`.
const RFC7520_4_1_HEADER: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9";
const RFC7520_4_1_SIGNATURE: &str = "MRjdkly7_-oTPTS3AXP41iQIGKa80A0ZmTuV5MEaHoxnW2e5CZ5NlKtainoFmKZopdHM1O2U4mwzJdQx996ivp83xuglII7PNDi84wnB-BDkoBwA78185hX-Es4JIwmDLJK3lfWRa-XtL0RnltuYv746iYTh_qHRD68BNt1uSNCrUCTJDt5aAE6x8wW1Kt9eRo4QPocSadnHXFxnt8Is9UzpERV0ePPQdLuW3IS_de3xyIrDaLGdjluPxUAhb6L2aXic1U12podGU0KLUQSE_oI-ZnmKJ3F4uOZDnd6QZWJushZ41Axf_fcIe8u9ipH84ogoree7vjbU5y18kDquDg";
/// RFC 7520 §4.2: header `{"alg":"PS384","kid":"bilbo.baggins@hobbiton.example"}`.
const RFC7520_4_2_HEADER: &str = "eyJhbGciOiJQUzM4NCIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9";
const RFC7520_4_2_SIGNATURE: &str = "cu22eBqkYDKgIlTpzDXGvaFfz6WGoz7fUDcfT0kkOy42miAh2qyBzk1xEsnk2IpN6-tPid6VrklHkqsGqDqHCdP6O8TTB5dDDItllVo6_1OLPpcbUrhiUSMxbbXUvdvWXzg-UD8biiReQFlfz28zGWVsdiNAUf8ZnyPEgVFn442ZdNqiVJRmBqrYRXe8P_ijQ7p8Vdz0TTrxUeT3lm8d9shnr2lfJT8ImUjvAA2Xez2Mlp8cBE5awDzT0qI0n6uiP1aCN_2_jLAeQTlqRHtfa64QQSUmFAAjVKPbByi7xho0uTOcbH510a6GYmJUAfmWjwZ6oD4ifKo8DYM-X72Eaw";
/// RFC 7520 §3.2 (Figure 1): bilbo.baggins' P-521 public key (used by §4.3, ES512).
const RFC7520_P521_JWKS: &str = r#"{"keys":[{"kty":"EC","kid":"bilbo.baggins@hobbiton.example","use":"sig","crv":"P-521",
 "x":"AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Kt",
 "y":"AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1"}]}"#;
/// RFC 7520 §4.3: header `{"alg":"ES512","kid":"bilbo.baggins@hobbiton.example"}`.
const RFC7520_4_3_HEADER: &str = "eyJhbGciOiJFUzUxMiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9";
/// RFC 7520 §4.3.3 (Figure 26).
const RFC7520_4_3_SIGNATURE: &str = concat!(
    "AE_R_YZCChjn4791jSQCrdPZCNYqHXCTZH0-JZGYNlaAjP2kqaluUIIUnC9qvb",
    "u9Plon7KRTzoNEuT4Va2cmL1eJAQy3mtPBu_u_sDDyYjnAMDxXPn7XrT0lw-kv",
    "AD890jl8e2puQens_IEKBpHABlsbEPX6sFY8OcGDqoRuBomu9xQ2"
);

/// RFC 8037 A.1/A.2: the Ed25519 public key.
const RFC8037_JWKS: &str =
    r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
/// RFC 8037 A.4: header `{"alg":"EdDSA"}`, payload "Example of Ed25519 signing".
const RFC8037_A4_SIGNING_INPUT: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
const RFC8037_A4_SIGNATURE: &str =
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

/// Checks one published vector: it verifies, and flipping any one of a spread of bits in the
/// signing input or the signature makes it fail.
fn check_vector(jwks: &str, alg: Algorithm, signing_input: &str, signature_b64: &str) {
    let set =
        KeySet::from_bytes(jwks.as_bytes(), &[alg]).unwrap_or_else(|e| panic!("{}: key refused: {e}", alg.name()));
    assert_eq!(set.keys().len(), 1, "{}: one usable key", alg.name());
    let key = &set.keys()[0].key;
    let signature = base64url::decode(signature_b64).expect("published signature is strict base64url");
    assert_eq!(
        alg.verify(key, signing_input.as_bytes(), &signature),
        Ok(()),
        "{}: the published vector must verify (a failure here is a transcription error)",
        alg.name()
    );

    // Tampered copies: one bit flipped in the signed bytes, or in the signature.
    let input = signing_input.as_bytes();
    for position in [0, input.len() / 2, input.len() - 1] {
        let mut tampered = input.to_vec();
        tampered[position] ^= 0x01;
        assert_eq!(alg.verify(key, &tampered, &signature), Err(Error::BadSignature), "{}: input bit", alg.name());
    }
    for position in [0, signature.len() / 2, signature.len() - 1] {
        let mut tampered = signature.clone();
        tampered[position] ^= 0x80;
        assert_eq!(alg.verify(key, input, &tampered), Err(Error::BadSignature), "{}: signature bit", alg.name());
    }
    // Truncated and extended signatures are refused, never a panic.
    assert_eq!(alg.verify(key, input, &signature[..signature.len() - 1]), Err(Error::BadSignature));
    let mut longer = signature.clone();
    longer.push(0);
    assert_eq!(alg.verify(key, input, &longer), Err(Error::BadSignature));
    assert_eq!(alg.verify(key, input, &[]), Err(Error::BadSignature));
}

#[test]
fn rfc7515_a2_rs256() {
    let input = format!("{RFC7515_A2_HEADER}.{RFC7515_PAYLOAD}");
    check_vector(RFC7515_A2_JWKS, Algorithm::RS256, &input, RFC7515_A2_SIGNATURE);
}

#[test]
fn rfc7515_a2_key_does_not_verify_the_same_signature_as_ps256() {
    // A key's type allows RS256 and PS256; the padding still has to match the alg.
    let set = KeySet::from_bytes(RFC7515_A2_JWKS.as_bytes(), &[Algorithm::PS256]).unwrap();
    let signature = base64url::decode(RFC7515_A2_SIGNATURE).unwrap();
    let input = format!("{RFC7515_A2_HEADER}.{RFC7515_PAYLOAD}");
    assert_eq!(Algorithm::PS256.verify(&set.keys()[0].key, input.as_bytes(), &signature), Err(Error::BadSignature));
}

#[test]
fn rfc7515_a3_es256_high_s() {
    let input = format!("{RFC7515_A3_HEADER}.{RFC7515_PAYLOAD}");
    check_vector(RFC7515_A3_JWKS, Algorithm::ES256, &input, RFC7515_A3_SIGNATURE);
}

#[test]
fn rfc7515_a3_es256_low_s_twin_also_verifies() {
    // s' = n - s is the other valid signature of the same (r, message): ECDSA is malleable and
    // edgeward accepts both (docs/policy.md: high-S signatures are valid ECDSA).
    let set = KeySet::from_bytes(RFC7515_A3_JWKS.as_bytes(), &[Algorithm::ES256]).unwrap();
    let mut signature = base64url::decode(RFC7515_A3_SIGNATURE).unwrap();
    let s = negate_mod_p256_n(&signature[32..]);
    signature[32..].copy_from_slice(&s);
    let input = format!("{RFC7515_A3_HEADER}.{RFC7515_PAYLOAD}");
    assert_eq!(Algorithm::ES256.verify(&set.keys()[0].key, input.as_bytes(), &signature), Ok(()));
}

/// `n - s` for the P-256 group order `n` (big-endian, 32 bytes, `0 < s < n`).
fn negate_mod_p256_n(s: &[u8]) -> Vec<u8> {
    const N: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6,
        0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
    ];
    let mut out = vec![0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = i16::from(N[i]) - i16::from(s[i]) - borrow;
        borrow = 0;
        if d < 0 {
            d += 256;
            borrow = 1;
        }
        out[i] = u8::try_from(d).unwrap();
    }
    assert_eq!(borrow, 0, "s < n");
    out
}

#[test]
fn rfc7520_4_1_rs256() {
    let input = format!("{RFC7520_4_1_HEADER}.{RFC7520_PAYLOAD}");
    check_vector(RFC7520_RSA_JWKS, Algorithm::RS256, &input, RFC7520_4_1_SIGNATURE);
}

#[test]
fn rfc7520_4_2_ps384() {
    let input = format!("{RFC7520_4_2_HEADER}.{RFC7520_PAYLOAD}");
    check_vector(RFC7520_RSA_JWKS, Algorithm::PS384, &input, RFC7520_4_2_SIGNATURE);
    // The same key under another RSA algorithm does not accept the PS384 signature.
    let set = KeySet::from_bytes(RFC7520_RSA_JWKS.as_bytes(), &Algorithm::RSA).unwrap();
    let signature = base64url::decode(RFC7520_4_2_SIGNATURE).unwrap();
    for alg in Algorithm::RSA.into_iter().filter(|a| *a != Algorithm::PS384) {
        assert_eq!(alg.verify(&set.keys()[0].key, input.as_bytes(), &signature), Err(Error::BadSignature), "{alg:?}");
    }
}

#[test]
fn rfc7520_4_3_es512() {
    let header = String::from_utf8(base64url::decode(RFC7520_4_3_HEADER).unwrap()).unwrap();
    assert!(header.contains(r#""alg":"ES512""#));
    let input = format!("{RFC7520_4_3_HEADER}.{RFC7520_PAYLOAD}");
    check_vector(RFC7520_P521_JWKS, Algorithm::ES512, &input, RFC7520_4_3_SIGNATURE);
    // Without ES512 allowed the P-521 key is skipped: alone it leaves nothing usable, so the
    // document is refused, naming the key type and what to allow …
    let others: Vec<Algorithm> = Algorithm::ALL.into_iter().filter(|a| *a != Algorithm::ES512).collect();
    let err = KeySet::from_bytes(RFC7520_P521_JWKS.as_bytes(), &others).unwrap_err();
    assert_eq!((err.code(), err.path()), ("ERR_JWKS_INVALID", Some("keys")));
    assert!(err.to_string().contains("EC P-521") && err.to_string().contains("add ES512"), "{err}");
    // … and beside a usable key it is skipped, not used.
    let p521: serde_json::Value = serde_json::from_str(RFC7520_P521_JWKS).unwrap();
    let ec: serde_json::Value = serde_json::from_str(RFC7515_A3_JWKS).unwrap();
    let both = serde_json::json!({ "keys": [p521["keys"][0].clone(), ec["keys"][0].clone()] });
    let set = KeySet::from_bytes(both.to_string().as_bytes(), &others).unwrap();
    assert_eq!((set.keys().len(), set.skipped()), (1, 1));
    let set = KeySet::from_bytes(both.to_string().as_bytes(), &Algorithm::ALL).unwrap();
    assert_eq!((set.keys().len(), set.skipped()), (2, 0));
}

#[test]
fn rfc8037_a4_ed25519() {
    check_vector(RFC8037_JWKS, Algorithm::EdDSA, RFC8037_A4_SIGNING_INPUT, RFC8037_A4_SIGNATURE);
}

#[test]
fn rfc_keys_verify_only_their_own_algorithm() {
    // The key type decides: an EC key cannot verify an RSA signature and so on (fail closed).
    let ec = KeySet::from_bytes(RFC7515_A3_JWKS.as_bytes(), &Algorithm::ALL).unwrap();
    let rsa = KeySet::from_bytes(RFC7515_A2_JWKS.as_bytes(), &Algorithm::ALL).unwrap();
    let ed = KeySet::from_bytes(RFC8037_JWKS.as_bytes(), &Algorithm::ALL).unwrap();
    let rs_sig = base64url::decode(RFC7515_A2_SIGNATURE).unwrap();
    let input = format!("{RFC7515_A2_HEADER}.{RFC7515_PAYLOAD}");
    for (set, alg) in
        [(&ec, Algorithm::RS256), (&ed, Algorithm::RS256), (&rsa, Algorithm::ES256), (&rsa, Algorithm::EdDSA)]
    {
        assert!(!set.keys()[0].key.fits(alg), "{}", alg.name());
        assert!(alg.verify(&set.keys()[0].key, input.as_bytes(), &rs_sig).is_err(), "{}", alg.name());
    }
}
