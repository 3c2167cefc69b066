//! DPoP proofs (RFC 9449) through `Verifier::decide`, structure-aware: a valid DPoP-bound access
//! token and a proof signed by the bot's key whose header and claims the input changes (members
//! left out, replaced by any JSON value, `typ`/`alg`/`jwk` swapped, private members added, times
//! near `now`), or any bytes as the proof; the method, scheme, authority, the number of `DPoP`
//! headers and the `Bearer`/`DPoP` scheme chosen too. Invariants: no panic; a request is allowed
//! only if an independent model of RFC 9449 §4.3 says the proof is good; an allowed request names
//! the proof to record; a refusal has a known code and never quotes the token or the proof.
#![no_main]
use edgeward::issuer::{PrivateJwk, jwks, sign_token};
use edgeward::{ALL_CODES, Connection, Request, Verifier, base64url};
use libfuzzer_sys::arbitrary::{Result as Parsed, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

const NOW: i64 = 2_000_000_000;
const IDP_KEY: &str = r#"{"kty":"EC","crv":"P-256","kid":"es","alg":"ES256","x":"nVlCPl8ugQfkFru1RCQHLyao1szpVfb69sA-yXTQD_I","y":"pr78uKimuWOhHazGdmMnM2frJel-0fQ1Ammk2kXFzc0","d":"-WUGe9z7CJCL2UpT1BUuV1PXUA_IWkz-K4tYAgIITw4"}"#;
const BOT_KEY: &str = r#"{"alg":"ES256","crv":"P-256","d":"sZutUyY_QPA5-l7A22iH-G4oDS7C5UKMzLGTqwgECus","kty":"EC","x":"yVY_zLugNhBAJHqQWJ4Jr9ZOrFVECzlcu-13pB_AoM4","y":"43vSk53WJ7CIL_nuhDClH8BD8p0wjOyH3_CBjnX8EbE"}"#;
const ORIGIN: &str = "https://api.example.com";

struct Fixture {
    policy: String,
    bot: PrivateJwk,
    token: String,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let idp = PrivateJwk::from_json(IDP_KEY).expect("fixed key");
        let bot = PrivateJwk::from_json(BOT_KEY).expect("fixed key");
        let policy = json!({
            "providers": { "idp": { "issuer": "https://idp", "audiences": ["api"], "local_jwks": jwks(&[&idp]),
                                    "dpop_algorithms": ["ES256", "EdDSA"] } },
            "rules": [ { "match": { "prefix": "/orders" }, "requires": { "provider_name": "idp" } } ]
        })
        .to_string();
        let claims = json!({ "iss": "https://idp", "aud": "api", "sub": "bot", "iat": NOW - 60, "exp": NOW + 600,
                             "cnf": { "jkt": bot.thumbprint() } });
        let token = sign_token(&idp, &Map::new(), claims.as_object().expect("object"));
        Fixture { policy, bot, token }
    })
}

/// The members a valid proof has, as the model checks them.
fn good_header(bot: &PrivateJwk) -> Map<String, Value> {
    let mut jwk = bot.public_jwk();
    for member in ["alg", "use", "kid"] {
        jwk.as_object_mut().expect("object").remove(member);
    }
    json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": jwk }).as_object().expect("object").clone()
}

fn good_claims(token: &str) -> Map<String, Value> {
    json!({ "jti": "j-1", "htm": "GET", "htu": format!("{ORIGIN}/orders/1"), "iat": NOW,
            "ath": base64url::encode(&Sha256::digest(token.as_bytes())) })
    .as_object()
    .expect("object")
    .clone()
}

fn value(u: &mut Unstructured<'_>) -> Parsed<Value> {
    Ok(match u.int_in_range(0..=9)? {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => json!(NOW + i64::from(u.int_in_range(-400..=400)?)),
        3 => json!(f64::from(u.int_in_range(-1000..=1000)?) / 3.0 + 2e9),
        4 => json!(u.arbitrary::<String>()?),
        5 => json!(["GET"]),
        6 => json!({}),
        7 => json!(*u.choose(&["GET", "POST", "get", "https://api.example.com/orders/1", "https://API.example.com:443/orders/1?x", "http://api.example.com/orders/1", "https://api.example.com/orders/2", "dpop+jwt", "application/dpop+jwt", "JWT", "HS256", "none", "ES384", "EdDSA", ""])?),
        8 => json!("x".repeat(usize::from(u.int_in_range(0u16..=300)?))),
        _ => json!(u.arbitrary::<i64>()?),
    })
}

fn mutate(u: &mut Unstructured<'_>, map: &mut Map<String, Value>, names: &[&str]) -> Parsed<()> {
    for _ in 0..u.int_in_range(0..=3)? {
        let name = (*u.choose(names)?).to_owned();
        if u.arbitrary()? {
            map.remove(&name);
        } else {
            map.insert(name, value(u)?);
        }
    }
    Ok(())
}

/// RFC 9449 §4.3 as the fuzz target reads it, for a proof of `header` and `claims` signed by the
/// bot's key: whether edgeward must accept it for a GET to ORIGIN/orders/1.
fn model_accepts(header: &Map<String, Value>, claims: &Map<String, Value>, good: &Map<String, Value>, token: &str, method: &str) -> bool {
    let text = |m: &Map<String, Value>, k: &str| m.get(k).and_then(Value::as_str).map(str::to_owned);
    let typ_ok = text(header, "typ").is_some_and(|t| matches!(t.to_ascii_lowercase().as_str(), "dpop+jwt" | "application/dpop+jwt"));
    let jwk_ok = header.get("jwk") == good.get("jwk");
    let alg_ok = text(header, "alg").as_deref() == Some("ES256");
    let htu_ok = text(claims, "htu").is_some_and(|h| {
        let lower = h.to_ascii_lowercase();
        let path = lower.split(['?', '#']).next().unwrap_or_default().to_owned();
        path == "https://api.example.com/orders/1" || path == "https://api.example.com:443/orders/1"
    }) && text(claims, "htu").is_some_and(|h| h.split(['?', '#']).next().unwrap_or_default().ends_with("/orders/1"));
    let iat_ok = claims.get("iat").and_then(Value::as_f64).is_some_and(|iat| {
        let now = 2_000_000_000.0;
        iat <= now + 30.0 && now - iat <= 330.0
    });
    let jti_ok = text(claims, "jti").is_some_and(|j| !j.is_empty() && j.len() <= 256);
    let ath_ok = text(claims, "ath") == Some(base64url::encode(&Sha256::digest(token.as_bytes())));
    typ_ok && jwk_ok && alg_ok && text(claims, "htm").as_deref() == Some(method) && htu_ok && iat_ok && jti_ok && ath_ok
        && !header.contains_key("crit")
        // `b64: true` is the default (RFC 7797); `false` (or another type) is refused.
        && header.get("b64").is_none_or(|b64| *b64 == Value::Bool(true))
        // Header parameters have their JOSE types (a `kid` is a string when present), and a
        // registered claim its JWT type (`exp` a NumericDate).
        && header.get("kid").is_none_or(Value::is_string)
        && claims.get("exp").is_none_or(Value::is_number)
}

fn run(u: &mut Unstructured<'_>) -> Parsed<()> {
    let f = fixture();
    // One verifier for every run (its token and proof-key caches warm, as a host's are): the core
    // keeps no proof, so runs cannot affect each other's answers.
    static VERIFIER: OnceLock<std::sync::Mutex<Verifier>> = OnceLock::new();
    let mut verifier = VERIFIER
        .get_or_init(|| std::sync::Mutex::new(Verifier::from_json(&f.policy).expect("fixed policy")))
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let good = good_header(&f.bot);
    let (mut header, mut claims) = (good.clone(), good_claims(&f.token));
    mutate(u, &mut header, &["typ", "alg", "jwk", "crit", "b64", "kid"])?;
    mutate(u, &mut claims, &["jti", "htm", "htu", "iat", "ath", "nonce", "exp"])?;
    if u.arbitrary()? {
        // Private material beside the public key.
        if let Some(Value::Object(jwk)) = header.get_mut("jwk") {
            jwk.insert((*u.choose(&["d", "p", "k"])?).to_owned(), json!("AAAA"));
        }
    }
    let structured = u.int_in_range(0..=9)? > 0;
    let proof = if structured {
        let input = format!(
            "{}.{}",
            base64url::encode(Value::Object(header.clone()).to_string().as_bytes()),
            base64url::encode(Value::Object(claims.clone()).to_string().as_bytes())
        );
        format!("{input}.{}", base64url::encode(&f.bot.sign(input.as_bytes())))
    } else {
        u.arbitrary::<String>()?
    };
    let method = *u.choose(&["GET", "POST", "get"])?;
    let scheme = if u.arbitrary()? { "DPoP" } else { "Bearer" };
    let proofs = u.int_in_range(0..=2)?;
    let authorization = format!("{scheme} {}", f.token);
    let mut headers = vec![("authorization", authorization.as_str())];
    for _ in 0..proofs {
        headers.push(("dpop", proof.as_str()));
    }
    let connection = Connection { scheme: Some("https"), authority: Some("api.example.com"), ..Connection::default() };
    let decision = verifier.decide(&Request { connection, ..Request::new(method, "/orders/1", &headers) }, NOW);
    let must_accept = structured && scheme == "DPoP" && proofs == 1 && model_accepts(&header, &claims, &good, &f.token, method);
    match &decision.outcome {
        Ok(allowed) => {
            assert!(must_accept, "accepted a proof the model refuses: {method} {scheme} ×{proofs} (header {header:?}, claims {claims:?}, structured {structured})");
            assert!(allowed.proof.is_some(), "an accepted proof must be recorded");
        }
        Err(error) => {
            assert!(!must_accept, "refused a proof the model accepts: {error} (header {header:?}, claims {claims:?})");
            assert!(ALL_CODES.contains(&error.code()));
            let message = error.to_string();
            assert!(!message.contains(&f.token) && (proof.len() < 16 || !message.contains(&proof)));
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
