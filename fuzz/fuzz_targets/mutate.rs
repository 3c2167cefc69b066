//! Structure-aware: start from a valid token and let the input choose mutations of header and
//! claim fields, of the JSON text, of the signature bytes and of the compact form; sign with the
//! provider's keys (or an attacker's), then verify. An accepted token must satisfy every rule an
//! independent model of docs/policy.md checks here; an untouched token must be accepted; every refusal
//! has a known code and never quotes the token.
#![no_main]
use crypto_bigint::BoxedUint;
use edgeward::issuer::{PrivateJwk, jwks};
use edgeward::{ALL_CODES, Policy, Verifier, base64url};
use libfuzzer_sys::arbitrary::{Result as Parsed, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};
use std::sync::OnceLock;

const ISSUER: &str = "https://idp.fuzz";
const AUDIENCE: &str = "api";
const NOW: i64 = 2_000_000_000;
const SKEW: f64 = 30.0;
const MAX_LIFETIME: f64 = 3600.0;
/// The P-256 group order n, big-endian.
const ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa,
    0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

// Fuzz-only keys, fixed so that every input reproduces exactly.
const ES_KEY: &str = r#"{"kty":"EC","crv":"P-256","kid":"es","alg":"ES256","x":"nVlCPl8ugQfkFru1RCQHLyao1szpVfb69sA-yXTQD_I","y":"pr78uKimuWOhHazGdmMnM2frJel-0fQ1Ammk2kXFzc0","d":"-WUGe9z7CJCL2UpT1BUuV1PXUA_IWkz-K4tYAgIITw4"}"#;
const ED_KEY: &str = r#"{"kty":"OKP","crv":"Ed25519","kid":"ed","alg":"EdDSA","x":"59FuiPZp3QJVyxbEaCEz-ebiFKYZdLDBVYH6ked9c3o","d":"ANIYs-d0VBnpNQbGXpkaIGawOvc0uWjxx5deJTEU9nY"}"#;
const ATTACKER_KEY: &str = r#"{"kty":"EC","crv":"P-256","kid":"es","alg":"ES256","x":"EDgY7F6gX7uIrm0_jvOBwMcxoFjswh2COVkF6f__9uQ","y":"x7AH6ssmtTfhKMbBNRzYsDubBxY8P9ExiLTrMojzzXk","d":"5bUmJvvMzeQQZ0rcSLKF0cVacl5KomZudEGhINqMdX8"}"#;

struct Fixture {
    /// Loaded once: its keys (and their P-256 tables) are shared by every run's verifier.
    policy: Policy,
    keys: [PrivateJwk; 3],
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let key = |text: &str| PrivateJwk::from_json(text).expect("fixed fuzz key");
        let keys = [key(ES_KEY), key(ED_KEY), key(ATTACKER_KEY)];
        let policy = json!({
            "providers": { "p": {
                "issuer": ISSUER, "audiences": [AUDIENCE], "algorithms": ["ES256", "EdDSA"],
                "local_jwks": jwks(&[&keys[0], &keys[1]]),
                "max_lifetime_seconds": 3600, "required_claims": ["sub"], "token_types": ["at+jwt", "JWT"]
            }},
            "deny_wildcard_scopes": true,
            "token_cache_size": 8
        })
        .to_string();
        Fixture { policy: Policy::from_json(&policy).expect("fixed policy loads"), keys }
    })
}

const HEADER_NAMES: &[&str] = &["alg", "typ", "kid", "crit", "b64", "jwk", "jku", "x5u", "x5c", "cty", "zip", "enc"];
const CLAIM_NAMES: &[&str] = &["iss", "aud", "sub", "exp", "nbf", "iat", "scope", "scp", "jti", "cnf", "typ"];
const STRINGS: &[&str] = &[
    "ES256",
    "EdDSA",
    "none",
    "None",
    "HS256",
    "RS256",
    "es256",
    "at+jwt",
    "application/at+jwt",
    "JWT",
    "jwt",
    "JOSE",
    "es",
    "ed",
    "attacker",
    "",
    ISSUER,
    "https://idp.fuzz/",
    "https://IDP.fuzz",
    AUDIENCE,
    "API",
    "read",
    "write",
    "read write",
    "read  write",
    "read:*",
    "*",
    "read\twrite",
    "bot-1",
    "\u{0}",
    "é",
    "b64",
];

fn value(u: &mut Unstructured, depth: u32) -> Parsed<Value> {
    Ok(match u.int_in_range(0..=10u8)? {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => json!(u.arbitrary::<i64>()?),
        3 => {
            let f: f64 = u.arbitrary()?;
            if f.is_finite() { json!(f) } else { json!(1e308) }
        }
        4 | 5 => json!(*u.choose(STRINGS)?),
        6 => json!(u.arbitrary::<String>()?),
        7 => json!(NOW + i64::from(u.arbitrary::<i16>()?)),
        8 => json!(f64::from(u.arbitrary::<i16>()?).mul_add(0.25, 2_000_000_000.0)),
        9 if depth < 3 => {
            Value::Array((0..u.int_in_range(0..=3u8)?).map(|_| value(u, depth + 1)).collect::<Parsed<_>>()?)
        }
        10 if depth < 3 => {
            let mut map = Map::new();
            for _ in 0..u.int_in_range(0..=3u8)? {
                map.insert((*u.choose(STRINGS)?).to_owned(), value(u, depth + 1)?);
            }
            Value::Object(map)
        }
        _ => json!(*u.choose(STRINGS)?),
    })
}

fn mutate_object(u: &mut Unstructured, object: &mut Map<String, Value>, names: &[&str]) -> Parsed<bool> {
    let mut changed = false;
    for _ in 0..u.int_in_range(0..=3u8)? {
        let name = if u.ratio(1, 8)? { u.arbitrary::<String>()? } else { (*u.choose(names)?).to_owned() };
        if u.ratio(1, 3)? {
            changed |= object.remove(&name).is_some();
        } else {
            object.insert(name, value(u, 0)?);
            changed = true;
        }
    }
    Ok(changed)
}

/// Edits of the JSON text that keep it the same object (whitespace) or make it one the strict
/// reader must refuse (a BOM, a duplicated member).
#[derive(Clone, Copy, PartialEq, Debug)]
enum TextEdit {
    None,
    Whitespace,
    Bom,
    Duplicate,
}

fn text(u: &mut Unstructured, object: &Map<String, Value>, names: &[&str]) -> Parsed<(Vec<u8>, TextEdit)> {
    let json = Value::Object(object.clone()).to_string();
    let edit = if u.ratio(3, 4)? {
        TextEdit::None
    } else {
        *u.choose(&[TextEdit::Whitespace, TextEdit::Bom, TextEdit::Duplicate])?
    };
    let bytes = match edit {
        TextEdit::None => json.into_bytes(),
        TextEdit::Whitespace => format!(" {}\n", json.replacen(':', " : ", 1)).into_bytes(),
        TextEdit::Bom => [&[0xef, 0xbb, 0xbf][..], json.as_bytes()].concat(),
        TextEdit::Duplicate => {
            let name = Value::from(*u.choose(names)?).to_string();
            let rest = &json[1..];
            let twice = if object.contains_key(&name[1..name.len() - 1]) {
                format!("{{{name}:{},{rest}", value(u, 0)?)
            } else if rest == "}" {
                format!("{{{name}:1,{name}:2}}")
            } else {
                format!("{{{name}:1,{name}:2,{rest}")
            };
            twice.into_bytes()
        }
    };
    Ok((bytes, edit))
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum SignatureEdit {
    None,
    /// s → n − s: the other valid ECDSA signature (high-S is accepted).
    NegateS,
    FlipBit,
    Truncate,
    Extend,
    Zero,
    Empty,
    ROrder,
    SwapRS,
}

/// `a − b` for equal-length big-endian numbers (`n − s`: the high-S twin), by crypto-bigint.
fn sub_be(a: &[u8], b: &[u8]) -> Vec<u8> {
    let bits = u32::try_from(a.len() * 8).unwrap_or(0);
    match (BoxedUint::from_be_slice(a, bits), BoxedUint::from_be_slice(b, bits)) {
        (Ok(a), Ok(b)) => a.wrapping_sub(&b).to_be_bytes().into_vec(),
        _ => a.to_vec(),
    }
}

fn edit_signature(u: &mut Unstructured, signature: &mut Vec<u8>, es: bool) -> Parsed<SignatureEdit> {
    use SignatureEdit::*;
    let edit = if u.ratio(2, 3)? {
        None
    } else {
        *u.choose(&[NegateS, FlipBit, Truncate, Extend, Zero, Empty, ROrder, SwapRS])?
    };
    let len = signature.len();
    match edit {
        None => {}
        NegateS if es && len == 64 => {
            let s = sub_be(&ORDER, &signature[32..]);
            signature[32..].copy_from_slice(&s);
        }
        FlipBit if len > 0 => {
            let bit = u.int_in_range(0..=len * 8 - 1)?;
            signature[bit / 8] ^= 1 << (bit % 8);
        }
        Truncate if len > 0 => signature.truncate(u.int_in_range(0..=len - 1)?),
        Extend => signature.push(u.arbitrary()?),
        Zero => signature.iter_mut().for_each(|b| *b = 0),
        Empty => signature.clear(),
        ROrder if len == 64 => signature[..32].copy_from_slice(&ORDER),
        SwapRS if len == 64 && signature[..32] != signature[32..] => {
            let (r, s) = signature.split_at_mut(32);
            r.swap_with_slice(s);
        }
        _ => return Ok(None),
    }
    Ok(edit)
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum FormEdit {
    None,
    Pad,
    Char,
    ExtraSegment,
    DropLast,
    Space,
}

fn edit_form(u: &mut Unstructured, token: &mut String) -> Parsed<FormEdit> {
    let edit = if u.ratio(4, 5)? {
        FormEdit::None
    } else {
        *u.choose(&[FormEdit::Pad, FormEdit::Char, FormEdit::ExtraSegment, FormEdit::DropLast, FormEdit::Space])?
    };
    match edit {
        FormEdit::None => {}
        FormEdit::Pad => token.push('='),
        FormEdit::Char => {
            let at = u.int_in_range(0..=token.len().saturating_sub(1))?;
            let with = *u.choose(&['+', '/', '=', '.', ' ', '\n', '!'])?;
            token.replace_range(at..=at, &with.to_string());
        }
        FormEdit::ExtraSegment => token.push_str(".x"),
        FormEdit::DropLast => {
            token.pop();
        }
        FormEdit::Space => token.insert(0, ' '),
    }
    Ok(edit)
}

fn as_number(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::as_f64)
}

/// What docs/policy.md says an accepted token must be; panics with the rule it breaks.
fn check_accepted(header: &Map<String, Value>, claims: &Map<String, Value>, signer: usize, now: i64, scopes: &[&str]) {
    let now = now as f64;
    let alg = if signer == 1 { "EdDSA" } else { "ES256" };
    assert_eq!(header.get("alg"), Some(&json!(alg)), "alg must be the signing key's");
    if let Some(kid) = header.get("kid") {
        assert_eq!(kid, &json!(if signer == 1 { "ed" } else { "es" }), "kid must be the signing key's");
    }
    assert!(!header.contains_key("crit"), "crit is never accepted");
    assert_ne!(header.get("b64"), Some(&json!(false)), "b64: false is unsupported");
    if let Some(typ) = header.get("typ") {
        let typ = typ.as_str().expect("typ is a string").to_ascii_lowercase();
        let typ = typ.strip_prefix("application/").unwrap_or(&typ);
        assert!(typ == "at+jwt" || typ == "jwt", "typ {typ}");
    }
    assert_eq!(claims.get("iss"), Some(&json!(ISSUER)), "iss");
    match claims.get("aud") {
        Some(Value::String(aud)) => assert_eq!(aud, AUDIENCE),
        Some(Value::Array(auds)) => assert!(auds.contains(&json!(AUDIENCE)), "aud"),
        other => panic!("aud {other:?}"),
    }
    let exp = as_number(claims.get("exp")).expect("exp is required and a number");
    assert!(now < exp + SKEW, "expired");
    if let Some(nbf) = claims.get("nbf") {
        assert!(now >= nbf.as_f64().expect("nbf is a number") - SKEW, "nbf");
    }
    let iat = as_number(claims.get("iat")).expect("iat is required with max_lifetime_seconds");
    assert!(iat <= now + SKEW, "iat in the future");
    assert!(exp - iat <= MAX_LIFETIME, "lifetime");
    assert!(claims.get("sub").is_some_and(|s| !s.is_null()), "sub is required");
    let mut granted: Vec<&str> = Vec::new();
    if let Some(Value::String(scope)) = claims.get("scope") {
        granted.extend(scope.split(' ').filter(|w| !w.is_empty()));
    }
    match claims.get("scp") {
        Some(Value::String(scp)) => granted.extend(scp.split(' ').filter(|w| !w.is_empty())),
        Some(Value::Array(items)) => granted.extend(items.iter().filter_map(Value::as_str)),
        _ => {}
    }
    assert!(!granted.iter().any(|s| s.contains('*')), "wildcard scope accepted");
    for scope in scopes {
        assert!(granted.contains(scope), "scope {scope} was not granted");
    }
}

fn run(u: &mut Unstructured) -> Parsed<()> {
    let fixture = fixture();
    // 0: the provider's ES256 key, 1: its EdDSA key, 2: an attacker's ES256 key with the same kid,
    // 3: no signature at all.
    let signer = *u.choose(&[0usize, 0, 0, 1, 2, 3])?;
    let mut header = Map::new();
    header.insert("alg".into(), json!(if signer == 1 { "EdDSA" } else { "ES256" }));
    header.insert("typ".into(), json!("at+jwt"));
    header.insert("kid".into(), json!(if signer == 1 { "ed" } else { "es" }));
    let mut claims = json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "bot-1", "iat": NOW - 60, "exp": NOW + 600, "scope": "read write"
    })
    .as_object()
    .cloned()
    .unwrap_or_default();
    let header_changed = mutate_object(u, &mut header, HEADER_NAMES)?;
    let claims_changed = mutate_object(u, &mut claims, CLAIM_NAMES)?;
    let (header_text, header_edit) = text(u, &header, HEADER_NAMES)?;
    let (claims_text, claims_edit) = text(u, &claims, CLAIM_NAMES)?;
    let input = format!("{}.{}", base64url::encode(&header_text), base64url::encode(&claims_text));
    let mut signature = match fixture.keys.get(signer) {
        Some(key) => key.sign(input.as_bytes()),
        None => Vec::new(),
    };
    // The token as signed, and its high-S twin (also valid ECDSA): the only ones that may pass.
    let pristine = format!("{input}.{}", base64url::encode(&signature));
    let twin = (signer != 1 && signature.len() == 64).then(|| {
        let mut negated = signature.clone();
        negated[32..].copy_from_slice(&sub_be(&ORDER, &signature[32..]));
        format!("{input}.{}", base64url::encode(&negated))
    });
    let signature_edit = edit_signature(u, &mut signature, signer != 1)?;
    let mut token = format!("{input}.{}", base64url::encode(&signature));
    let form_edit = edit_form(u, &mut token)?;
    let now = match u.int_in_range(0..=5u8)? {
        0 => NOW + 599,
        1 => NOW + 600 + 29,
        2 => NOW + 630,
        3 => u.arbitrary()?,
        _ => NOW,
    };
    let scopes: &[&str] =
        u.choose(&[&[][..], &["read"][..], &["write"][..], &["read", "write"][..], &["admin"][..]])?;

    let mut verifier = Verifier::new(fixture.policy.clone());
    let first = verifier.verify(&token, None, scopes, now);
    let again = verifier.verify(&token, None, scopes, now);
    assert_eq!(first.as_ref().map(|t| &t.claims), again.as_ref().map(|t| &t.claims), "the cache changed the verdict");
    match &first {
        Ok(verified) => {
            // Edits may cancel out (a byte appended to the signature, then the last character
            // dropped, gives the original text back): what counts is the text that was accepted.
            assert!(token == pristine || twin.as_ref() == Some(&token), "{signature_edit:?}/{form_edit:?} accepted");
            assert!(signer < 2, "a token not signed by the provider's keys was accepted");
            assert!(!matches!(header_edit, TextEdit::Bom | TextEdit::Duplicate), "header {header_edit:?} accepted");
            assert!(!matches!(claims_edit, TextEdit::Bom | TextEdit::Duplicate), "claims {claims_edit:?} accepted");
            check_accepted(&header, &claims, signer, now, scopes);
            assert_eq!(verified.claims.get("sub"), claims.get("sub"));
        }
        Err(error) => {
            assert!(ALL_CODES.contains(&error.code()), "unknown code {}", error.code());
            let message = error.to_string();
            for segment in token.split('.').filter(|s| s.len() >= 16) {
                assert!(!message.contains(segment), "the error quotes the token");
            }
            let untouched = !header_changed
                && !claims_changed
                && header_edit == TextEdit::None
                && claims_edit == TextEdit::None
                && matches!(signature_edit, SignatureEdit::None | SignatureEdit::NegateS)
                && form_edit == FormEdit::None
                && signer < 2
                && now == NOW
                && scopes.iter().all(|s| ["read", "write"].contains(s));
            assert!(!untouched, "a valid token was refused: {}", error.code());
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
