//! The issuer's side, for development and tests (feature `issuer`): key generation, private
//! JWKs and signing. Not part of the verifier.
//!
//! ```text
//! PrivateJwk::generate(alg, kid) ─► to_json()          (the private JWK, to keep)
//!                                └► public_jwk() / jwks(&[&key])   (what verifiers get)
//!                                └► sign_token(&key, &header, &claims) ─► compact JWS
//! ```
//!
//! Key material comes from the operating system (`getrandom`). ECDSA signatures are raw `r‖s`
//! (RFC 7518 §3.4), deterministic (RFC 6979); RSA uses blinding, and PSS a random salt as long as the hash (RFC 7518 §3.5).
//! Errors are [`Error::Jwks`] with the offending member's name; they never carry key material,
//! and neither does `Debug`.

use crate::algorithm::Algorithm;
use crate::base64url;
use crate::error::Error;
use crate::jwk::MIN_RSA_BITS;
use getrandom::SysRng;
use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use serde_json::{Map, Value, json};
use sha2::{Sha256, Sha384, Sha512};

/// RSA modulus size of generated keys, in bits.
pub const GENERATED_RSA_BITS: usize = 2048;
/// How many times a random scalar is drawn before giving up (each draw fails with p < 2^-32).
const SCALAR_ATTEMPTS: usize = 8;

/// A private signing key for one [`Algorithm`], with an optional `kid`.
pub struct PrivateJwk {
    alg: Algorithm,
    kid: Option<String>,
    secret: Secret,
}

enum Secret {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    P521(p521::ecdsa::SigningKey),
    /// One RSA key for any RS*/PS* algorithm: the key's `alg` picks the scheme and hash.
    Rsa(Box<rsa::PrivateKey>),
    Ed25519(ed25519_dalek::SigningKey),
}

impl std::fmt::Debug for PrivateJwk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key itself: only what names it.
        f.debug_struct("PrivateJwk").field("alg", &self.alg.name()).field("kid", &self.kid).finish_non_exhaustive()
    }
}

fn invalid(member: &str, message: &str) -> Error {
    Error::jwks(member, message)
}

fn rng_failure() -> Error {
    invalid("", "the system random number generator failed")
}

/// Big-endian bytes without leading zero octets (RFC 7518 §2 `Base64urlUInt`).
fn minimal(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len().saturating_sub(1));
    bytes.get(start..).unwrap_or_default()
}

fn uint(bytes: &[u8]) -> String {
    base64url::encode(minimal(bytes))
}

fn random_bytes<const N: usize>() -> Result<[u8; N], Error> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|_| rng_failure())?;
    Ok(bytes)
}

impl PrivateJwk {
    /// Generates a fresh key for `alg` (RSA: 2048 bits, exponent 65537) from the system's
    /// random number generator.
    pub fn generate(alg: Algorithm, kid: Option<&str>) -> Result<PrivateJwk, Error> {
        let secret = match alg {
            Algorithm::ES256 => {
                Secret::P256(random_scalar(|b: &[u8; 32]| p256::ecdsa::SigningKey::from_slice(b).ok())?)
            }
            Algorithm::ES384 => {
                Secret::P384(random_scalar(|b: &[u8; 48]| p384::ecdsa::SigningKey::from_slice(b).ok())?)
            }
            // 521 bits in 66 bytes: the top 7 bits are cleared, so almost every draw is below n.
            Algorithm::ES512 => Secret::P521(random_scalar(|b: &[u8; 66]| {
                let mut bytes = *b;
                bytes[0] &= 0x01;
                p521::ecdsa::SigningKey::from_slice(&bytes).ok()
            })?),
            Algorithm::EdDSA => Secret::Ed25519(ed25519_dalek::SigningKey::from_bytes(&random_bytes::<32>()?)),
            _ => {
                let key = rsa::PrivateKey::new(&mut SysRng, GENERATED_RSA_BITS)
                    .map_err(|_| invalid("", "RSA key generation failed"))?;
                rsa_secret(key)
            }
        };
        Ok(PrivateJwk { alg, kid: kid.map(str::to_owned), secret })
    }

    /// Reads a private JWK: `alg` is required and decides the key type; EC and OKP keys need
    /// `d` (and the public `x`/`y`, which must match it); RSA keys need `n`, `e`, `d`, and `p`,
    /// `q` (recovered from `d` when both are absent), with `dp`, `dq`, `qi` checked if present.
    pub fn from_json(text: &str) -> Result<PrivateJwk, Error> {
        let value: Value = serde_json::from_str(text)
            .map_err(|_| invalid("", "not a JSON document (expected a private JWK object)"))?;
        let Value::Object(members) = value else {
            return Err(invalid("", "expected a JSON object (a private JWK)"));
        };
        PrivateJwk::from_members(&members)
    }

    /// Reads a private JWK from an already-parsed JSON object (see [`PrivateJwk::from_json`]).
    pub fn from_members(members: &Map<String, Value>) -> Result<PrivateJwk, Error> {
        let reader = Members(members);
        let alg_name =
            reader.text("alg")?.ok_or_else(|| invalid("alg", "missing (the key's algorithm is required)"))?;
        let alg = Algorithm::from_name(&alg_name).ok_or_else(|| {
            let names: Vec<&str> = Algorithm::ALL.iter().map(|a| a.name()).collect();
            invalid("alg", &format!("not a supported algorithm ({})", names.join(", ")))
        })?;
        let kty = reader.text("kty")?.ok_or_else(|| invalid("kty", "missing"))?;
        if kty != alg.key_type() {
            return Err(invalid("kty", "does not fit the key's alg"));
        }
        if let Some(curve) = alg.curve() {
            if reader.text("crv")?.as_deref() != Some(curve) {
                return Err(invalid("crv", "missing or does not fit the key's alg"));
            }
        }
        if let Some(key_use) = reader.text("use")? {
            if key_use != "sig" {
                return Err(invalid("use", "a signing key must have use \"sig\""));
            }
        }
        let kid = reader.text("kid")?;
        let secret = match alg {
            Algorithm::ES256 => {
                let key = p256::ecdsa::SigningKey::from_slice(&reader.fixed("d", 32)?)
                    .map_err(|_| invalid("d", "not a valid P-256 private scalar"))?;
                reader.check_point(key.verifying_key().to_sec1_point(false).as_bytes(), 32)?;
                Secret::P256(key)
            }
            Algorithm::ES384 => {
                let key = p384::ecdsa::SigningKey::from_slice(&reader.fixed("d", 48)?)
                    .map_err(|_| invalid("d", "not a valid P-384 private scalar"))?;
                reader.check_point(key.verifying_key().to_sec1_point(false).as_bytes(), 48)?;
                Secret::P384(key)
            }
            Algorithm::ES512 => {
                let key = p521::ecdsa::SigningKey::from_slice(&reader.fixed("d", 66)?)
                    .map_err(|_| invalid("d", "not a valid P-521 private scalar"))?;
                reader.check_point(key.verifying_key().to_sec1_point(false).as_bytes(), 66)?;
                Secret::P521(key)
            }
            Algorithm::EdDSA => {
                let d: [u8; 32] = reader.fixed("d", 32)?.try_into().map_err(|_| invalid("d", "expected 32 bytes"))?;
                let key = ed25519_dalek::SigningKey::from_bytes(&d);
                if reader.bytes("x")? != key.verifying_key().to_bytes() {
                    return Err(invalid("x", "does not match the private key"));
                }
                Secret::Ed25519(key)
            }
            _ => rsa_secret(reader.rsa_key()?),
        };
        Ok(PrivateJwk { alg, kid, secret })
    }

    /// The private JWK: `kty`, `crv`, `x`, `y`, `d` (EC, OKP) or `n`, `e`, `d`, `p`, `q`, `dp`,
    /// `dq`, `qi` (RSA), plus `kid` (if any), `alg` and `use: "sig"`. Treat it as a secret.
    pub fn to_json(&self) -> Value {
        let mut jwk = self.public_jwk();
        let Value::Object(members) = &mut jwk else { return jwk };
        let mut put = |name: &str, value: String| {
            members.insert(name.to_owned(), Value::String(value));
        };
        match &self.secret {
            Secret::P256(key) => put("d", base64url::encode(&key.to_bytes())),
            Secret::P384(key) => put("d", base64url::encode(&key.to_bytes())),
            Secret::P521(key) => put("d", base64url::encode(&key.to_bytes())),
            Secret::Rsa(key) => rsa_private_members(key, &mut put),
            Secret::Ed25519(key) => put("d", base64url::encode(key.as_bytes())),
        }
        jwk
    }

    /// The public JWK (no private members), with `kid` (if any), `alg` and `use: "sig"`.
    pub fn public_jwk(&self) -> Value {
        let mut jwk = Map::new();
        let mut put = |name: &str, value: String| {
            jwk.insert(name.to_owned(), Value::String(value));
        };
        put("kty", self.alg.key_type().to_owned());
        if let Some(curve) = self.alg.curve() {
            put("crv", curve.to_owned());
        }
        match &self.secret {
            Secret::P256(key) => ec_point(key.verifying_key().to_sec1_point(false).as_bytes(), &mut put),
            Secret::P384(key) => ec_point(key.verifying_key().to_sec1_point(false).as_bytes(), &mut put),
            Secret::P521(key) => ec_point(key.verifying_key().to_sec1_point(false).as_bytes(), &mut put),
            Secret::Rsa(key) => rsa_public_members(key, &mut put),
            Secret::Ed25519(key) => put("x", base64url::encode(&key.verifying_key().to_bytes())),
        }
        if let Some(kid) = &self.kid {
            put("kid", kid.clone());
        }
        put("alg", self.alg.name().to_owned());
        put("use", "sig".to_owned());
        Value::Object(jwk)
    }

    /// The RFC 7638 SHA-256 thumbprint of the public key (base64url): what a token bound to it
    /// carries as `cnf.jkt`.
    pub fn thumbprint(&self) -> String {
        let public = self.public_jwk();
        let members = public.as_object().cloned().unwrap_or_default();
        crate::jwk::thumbprint_of(&members).unwrap_or_default()
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The key's `kid`, if it has one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Sets (or, with `None`, removes) the key's `kid`.
    pub fn set_kid(&mut self, kid: Option<&str>) {
        self.kid = kid.map(str::to_owned);
    }

    /// The raw JWS signature of `signing_input` (`r‖s` for ECDSA, PSS with a salt as long as the hash).
    ///
    /// Only RSA signing can fail (the system random number generator, used for blinding and
    /// the PSS salt); then the signature is empty, which no verifier accepts. Use
    /// [`PrivateJwk::try_sign`] to see that error.
    pub fn sign(&self, signing_input: &[u8]) -> Vec<u8> {
        self.try_sign(signing_input).unwrap_or_default()
    }

    /// The raw JWS signature of `signing_input`, or why it could not be made.
    pub fn try_sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, Error> {
        let failed = |_| invalid("", "signing failed (the system random number generator may have failed)");
        Ok(match &self.secret {
            Secret::P256(key) => {
                Signer::<p256::ecdsa::Signature>::try_sign(key, signing_input).map_err(failed)?.to_bytes().to_vec()
            }
            Secret::P384(key) => {
                Signer::<p384::ecdsa::Signature>::try_sign(key, signing_input).map_err(failed)?.to_bytes().to_vec()
            }
            Secret::P521(key) => {
                Signer::<p521::ecdsa::Signature>::try_sign(key, signing_input).map_err(failed)?.to_bytes().to_vec()
            }
            Secret::Rsa(key) => rsa_sign(self.alg, key, signing_input).map_err(failed)?,
            Secret::Ed25519(key) => {
                Signer::<ed25519_dalek::Signature>::try_sign(key, signing_input).map_err(failed)?.to_bytes().to_vec()
            }
        })
    }
}

/// Draws random scalars until one is a valid private key (values ≥ the group order are redrawn).
fn random_scalar<const N: usize, K>(make: impl Fn(&[u8; N]) -> Option<K>) -> Result<K, Error> {
    for _ in 0..SCALAR_ATTEMPTS {
        if let Some(key) = make(&random_bytes::<N>()?) {
            return Ok(key);
        }
    }
    Err(rng_failure())
}

fn rsa_secret(key: rsa::PrivateKey) -> Secret {
    Secret::Rsa(Box::new(key))
}

/// RSASSA-PKCS1-v1_5 or RSASSA-PSS (salt as long as the hash) with the hash `alg` names.
fn rsa_sign(alg: Algorithm, key: &rsa::PrivateKey, input: &[u8]) -> Result<Vec<u8>, rsa::signature::Error> {
    use rsa::{pkcs1v15, pss};
    let key = key.clone();
    let rng = &mut SysRng;
    Ok(match alg {
        Algorithm::RS384 => pkcs1v15::SigningKey::<Sha384>::new(key).try_sign_with_rng(rng, input)?.to_vec(),
        Algorithm::RS512 => pkcs1v15::SigningKey::<Sha512>::new(key).try_sign_with_rng(rng, input)?.to_vec(),
        Algorithm::PS256 => {
            pss::SigningKey::<Sha256>::new_with_salt_len(key, 32).try_sign_with_rng(rng, input)?.to_vec()
        }
        Algorithm::PS384 => {
            pss::SigningKey::<Sha384>::new_with_salt_len(key, 48).try_sign_with_rng(rng, input)?.to_vec()
        }
        Algorithm::PS512 => {
            pss::SigningKey::<Sha512>::new_with_salt_len(key, 64).try_sign_with_rng(rng, input)?.to_vec()
        }
        _ => pkcs1v15::SigningKey::<Sha256>::new(key).try_sign_with_rng(rng, input)?.to_vec(),
    })
}

fn ec_point(sec1_uncompressed: &[u8], put: &mut impl FnMut(&str, String)) {
    // 0x04 ‖ x ‖ y, both coordinates of the same (full) length.
    let coordinates = sec1_uncompressed.get(1..).unwrap_or_default();
    let (x, y) = coordinates.split_at(coordinates.len() / 2);
    put("x", base64url::encode(x));
    put("y", base64url::encode(y));
}

fn rsa_public_members(key: &rsa::PrivateKey, put: &mut impl FnMut(&str, String)) {
    put("n", uint(&key.n_bytes()));
    put("e", uint(&key.e_bytes()));
}

/// `d`, and the CRT members when the key has them (RFC 7518 §6.3.2: all of them or none).
fn rsa_private_members(key: &rsa::PrivateKey, put: &mut impl FnMut(&str, String)) {
    put("d", uint(&key.d().to_be_bytes()));
    let primes = key.primes();
    if let ([p, q], Some(dp), Some(dq), Some(qi)) = (primes, key.dp(), key.dq(), key.crt_coefficient()) {
        put("p", uint(&p.as_ref().to_be_bytes()));
        put("q", uint(&q.as_ref().to_be_bytes()));
        put("dp", uint(&dp.to_be_bytes()));
        put("dq", uint(&dq.to_be_bytes()));
        put("qi", uint(&qi.to_be_bytes()));
    }
}

/// Typed access to the members of a private JWK; errors name the member, never its value.
struct Members<'a>(&'a Map<String, Value>);

impl Members<'_> {
    fn text(&self, member: &str) -> Result<Option<String>, Error> {
        match self.0.get(member) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(invalid(member, "expected a string")),
        }
    }

    fn optional_bytes(&self, member: &str) -> Result<Option<Vec<u8>>, Error> {
        self.text(member)?
            .map(|text| base64url::decode(&text).ok_or_else(|| invalid(member, "not strict base64url")))
            .transpose()
    }

    fn bytes(&self, member: &str) -> Result<Vec<u8>, Error> {
        self.optional_bytes(member)?.ok_or_else(|| invalid(member, "missing"))
    }

    fn fixed(&self, member: &str, len: usize) -> Result<Vec<u8>, Error> {
        let bytes = self.bytes(member)?;
        if bytes.len() == len { Ok(bytes) } else { Err(invalid(member, &format!("expected exactly {len} bytes"))) }
    }

    /// `x` and `y` must be given and match the point derived from `d`.
    fn check_point(&self, sec1_uncompressed: &[u8], size: usize) -> Result<(), Error> {
        let x = self.fixed("x", size)?;
        let y = self.fixed("y", size)?;
        let coordinates = sec1_uncompressed.get(1..).unwrap_or_default();
        let (derived_x, derived_y) = coordinates.split_at(coordinates.len() / 2);
        if x != derived_x {
            return Err(invalid("x", "does not match the private key"));
        }
        if y != derived_y {
            return Err(invalid("y", "does not match the private key"));
        }
        Ok(())
    }

    fn rsa_key(&self) -> Result<rsa::PrivateKey, Error> {
        let n = self.bytes("n")?;
        let e = self.bytes("e")?;
        let d = self.bytes("d")?;
        let bits = minimal(&n).len().saturating_mul(8);
        if bits < MIN_RSA_BITS {
            return Err(invalid("n", &format!("RSA modulus is shorter than {MIN_RSA_BITS} bits")));
        }
        let primes = match (self.optional_bytes("p")?, self.optional_bytes("q")?) {
            (Some(p), Some(q)) => vec![uint_from(&p), uint_from(&q)],
            (None, None) => Vec::new(),
            (Some(_), None) => return Err(invalid("q", "missing (p is given)")),
            (None, Some(_)) => return Err(invalid("p", "missing (q is given)")),
        };
        let key = rsa::PrivateKey::from_components(uint_from(&n), uint_from(&e), uint_from(&d), primes)
            .map_err(|_| invalid("", "not a consistent RSA private key (n, e, d, p, q)"))?;
        // The CRT members are derived from p, q and d; given ones must agree with them.
        let derived: [(&str, Option<Box<[u8]>>); 3] = [
            ("dp", key.dp().map(|v| v.to_be_bytes())),
            ("dq", key.dq().map(|v| v.to_be_bytes())),
            ("qi", key.crt_coefficient().map(|v| v.to_be_bytes())),
        ];
        for (member, value) in derived {
            if let (Some(given), Some(value)) = (self.optional_bytes(member)?, value) {
                if minimal(&given) != minimal(&value) {
                    return Err(invalid(member, "does not match the key's other members"));
                }
            }
        }
        Ok(key)
    }
}

fn uint_from(bytes: &[u8]) -> rsa::BoxedUint {
    rsa::BoxedUint::from_be_slice_vartime(bytes)
}

/// Signs a JWT: `header` gets `alg` (the key's) and `kid` (if the key has one) unless it already
/// has them; the result is `base64url(header) . base64url(claims) . base64url(signature)`.
///
/// The signature is empty if signing fails (see [`PrivateJwk::sign`]); [`try_sign_token`]
/// reports that instead.
pub fn sign_token(key: &PrivateJwk, header: &Map<String, Value>, claims: &Map<String, Value>) -> String {
    let signing_input = signing_input(key, header, claims);
    let signature = key.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", base64url::encode(&signature))
}

/// Like [`sign_token`], but reports a signing failure.
pub fn try_sign_token(
    key: &PrivateJwk,
    header: &Map<String, Value>,
    claims: &Map<String, Value>,
) -> Result<String, Error> {
    let signing_input = signing_input(key, header, claims);
    let signature = key.try_sign(signing_input.as_bytes())?;
    Ok(format!("{signing_input}.{}", base64url::encode(&signature)))
}

fn signing_input(key: &PrivateJwk, header: &Map<String, Value>, claims: &Map<String, Value>) -> String {
    let mut header = header.clone();
    header.entry("alg").or_insert_with(|| Value::String(key.alg.name().to_owned()));
    if let Some(kid) = &key.kid {
        header.entry("kid").or_insert_with(|| Value::String(kid.clone()));
    }
    format!(
        "{}.{}",
        base64url::encode(Value::Object(header).to_string().as_bytes()),
        base64url::encode(Value::Object(claims.clone()).to_string().as_bytes())
    )
}

/// A DPoP proof (RFC 9449 §4.2) by `key` for a `method` request to `url` carrying `access_token`:
/// header `typ: dpop+jwt`, `alg` and the public `jwk`; claims `jti`, `htm`, `htu` (without query
/// and fragment), `iat` = `now` and `ath`.
pub fn dpop_proof(
    key: &PrivateJwk,
    method: &str,
    url: &str,
    access_token: &str,
    now: i64,
    jti: &str,
) -> Result<String, Error> {
    let mut jwk = key.public_jwk();
    if let Value::Object(members) = &mut jwk {
        for member in ["kid", "alg", "use"] {
            members.remove(member);
        }
    }
    // No `kid`: the key is the `jwk` itself.
    let header = json!({ "typ": "dpop+jwt", "alg": key.alg.name(), "jwk": jwk });
    let htu = url.split(['?', '#']).next().unwrap_or_default();
    let ath = base64url::encode(&<Sha256 as sha2::Digest>::digest(access_token.as_bytes()));
    let claims = json!({ "jti": jti, "htm": method, "htu": htu, "iat": now, "ath": ath });
    let signing_input = format!(
        "{}.{}",
        base64url::encode(header.to_string().as_bytes()),
        base64url::encode(claims.to_string().as_bytes())
    );
    let signature = key.try_sign(signing_input.as_bytes())?;
    Ok(format!("{signing_input}.{}", base64url::encode(&signature)))
}

/// A JWKS document holding the public JWKs of `keys`: `{"keys": [...]}`.
pub fn jwks(keys: &[&PrivateJwk]) -> Value {
    json!({ "keys": keys.iter().map(|k| k.public_jwk()).collect::<Vec<_>>() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KeySet, Verifier};
    use std::sync::OnceLock;

    const NOW: i64 = 1_900_000_000;

    /// One generated key per algorithm, shared by the tests (RSA generation takes a while).
    fn key(alg: Algorithm) -> &'static PrivateJwk {
        static KEYS: OnceLock<Vec<PrivateJwk>> = OnceLock::new();
        let keys = KEYS.get_or_init(|| {
            Algorithm::ALL
                .iter()
                .map(|alg| PrivateJwk::generate(*alg, Some(&format!("k-{}", alg.name()))).unwrap())
                .collect()
        });
        keys.iter().find(|k| k.algorithm() == alg).unwrap()
    }

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => panic!("expected an object"),
        }
    }

    fn claims() -> Map<String, Value> {
        object(json!({
            "iss": "https://idp.example.com", "aud": "orders-api", "sub": "bot-7",
            "scope": "read:orders", "iat": NOW - 10, "exp": NOW + 900
        }))
    }

    fn verifier(keys: &Value, alg: Algorithm) -> Verifier {
        let policy = json!({
            "providers": { "idp": {
                "issuer": "https://idp.example.com", "audiences": ["orders-api"],
                "algorithms": [alg.name()], "local_jwks": keys
            }},
            "rules": []
        });
        Verifier::from_json(&policy.to_string()).unwrap()
    }

    #[test]
    fn every_algorithm_round_trips_through_the_verifier() {
        for alg in Algorithm::ALL {
            let key = key(alg);
            let token = sign_token(key, &Map::new(), &claims());
            let mut verifier = verifier(&jwks(&[key]), alg);
            let verified = verifier.verify(&token, None, &["read:orders"], NOW).unwrap();
            assert_eq!(verified.header.get("alg"), Some(&json!(alg.name())), "{alg:?}");
            assert_eq!(verified.header.get("kid"), Some(&json!(format!("k-{}", alg.name()))));
            assert_eq!(verified.claims.get("sub"), Some(&json!("bot-7")));
        }
    }

    #[test]
    fn another_key_of_the_same_algorithm_does_not_verify() {
        for alg in [Algorithm::ES256, Algorithm::ES384, Algorithm::ES512, Algorithm::EdDSA] {
            let other = PrivateJwk::generate(alg, Some(&format!("k-{}", alg.name()))).unwrap();
            let token = sign_token(&other, &Map::new(), &claims());
            let err = verifier(&jwks(&[key(alg)]), alg).verify(&token, None, &["read:orders"], NOW).unwrap_err();
            assert_eq!(err.code(), "ERR_JWS_SIGNATURE_VERIFICATION_FAILED", "{alg:?}");
        }
    }

    #[test]
    fn private_json_round_trips_to_the_same_key() {
        for alg in Algorithm::ALL {
            let key = key(alg);
            let text = key.to_json().to_string();
            let again = PrivateJwk::from_json(&text).unwrap();
            assert_eq!(again.algorithm(), alg);
            assert_eq!(again.kid(), key.kid());
            assert_eq!(again.public_jwk(), key.public_jwk(), "{alg:?}");
            // Not assert_eq: a failure must not print the private key.
            assert!(again.to_json() == key.to_json(), "{alg:?}: private members differ");
            // The re-read key signs tokens the original's public key verifies.
            let token = sign_token(&again, &Map::new(), &claims());
            verifier(&jwks(&[key]), alg).verify(&token, None, &["read:orders"], NOW).unwrap();
        }
    }

    #[test]
    fn exported_members_are_the_expected_ones() {
        let members = |value: Value| {
            let mut names: Vec<String> = object(value).keys().cloned().collect();
            names.sort();
            names
        };
        let rsa = key(Algorithm::PS256);
        assert_eq!(members(rsa.public_jwk()), ["alg", "e", "kid", "kty", "n", "use"]);
        assert_eq!(members(rsa.to_json()), ["alg", "d", "dp", "dq", "e", "kid", "kty", "n", "p", "q", "qi", "use"]);
        assert_eq!(members(key(Algorithm::ES384).to_json()), ["alg", "crv", "d", "kid", "kty", "use", "x", "y"]);
        assert_eq!(members(key(Algorithm::EdDSA).public_jwk()), ["alg", "crv", "kid", "kty", "use", "x"]);
        let es512 = key(Algorithm::ES512).to_json();
        assert_eq!(es512["crv"], "P-521");
        for member in ["x", "y", "d"] {
            let len = es512[member].as_str().map(|v| base64url::decode(v).unwrap().len());
            assert_eq!(len, Some(66), "P-521 {member} is the full 66 bytes");
        }
        let n = rsa.public_jwk()["n"].as_str().map(|n| base64url::decode(n).unwrap().len());
        assert_eq!(n, Some(GENERATED_RSA_BITS / 8));
    }

    #[test]
    fn public_jwks_is_accepted_by_the_core_and_carries_no_private_member() {
        let all: Vec<&PrivateJwk> = Algorithm::ALL.iter().map(|a| key(*a)).collect();
        let document = jwks(&all).to_string();
        let set = KeySet::from_bytes(document.as_bytes(), &Algorithm::ALL).unwrap();
        assert_eq!(set.keys().len(), Algorithm::ALL.len());
        assert_eq!(set.skipped(), 0);
        // The private JWK itself is refused as a JWKS member.
        let leaked = json!({ "keys": [key(Algorithm::ES256).to_json()] }).to_string();
        assert_eq!(KeySet::from_bytes(leaked.as_bytes(), &Algorithm::ALL).unwrap_err().code(), "ERR_JWKS_INVALID");
    }

    #[test]
    fn rsa_keys_without_crt_members_are_recovered() {
        let key = key(Algorithm::RS256);
        let mut members = object(key.to_json());
        for name in ["p", "q", "dp", "dq", "qi"] {
            members.remove(name);
        }
        let again = object(PrivateJwk::from_members(&members).unwrap().to_json());
        let original = object(key.to_json());
        // Recovery may name the primes in either order; every other member is the same.
        let same = |name: &str| again[name] == original[name];
        assert!(["n", "e", "d", "kid", "alg"].iter().all(|name| same(name)), "public and private exponents differ");
        let primes = |jwk: &Map<String, Value>| {
            let mut pair = [jwk["p"].to_string(), jwk["q"].to_string()];
            pair.sort();
            pair
        };
        assert!(primes(&again) == primes(&original), "recovered primes differ");
    }

    #[test]
    fn header_values_given_by_the_caller_are_kept() {
        let key = key(Algorithm::ES256);
        let header = object(json!({ "typ": "at+jwt", "kid": "other" }));
        let token = sign_token(key, &header, &claims());
        let first = token.split('.').next().unwrap();
        let decoded: Value = serde_json::from_slice(&base64url::decode(first).unwrap()).unwrap();
        assert_eq!(decoded, json!({ "alg": "ES256", "typ": "at+jwt", "kid": "other" }));
        let mut unnamed = PrivateJwk::from_json(&key.to_json().to_string()).unwrap();
        unnamed.set_kid(None);
        let token = sign_token(&unnamed, &Map::new(), &claims());
        let first = token.split('.').next().unwrap();
        assert_eq!(base64url::decode(first).unwrap(), br#"{"alg":"ES256"}"#);
    }

    #[test]
    fn ecdsa_signatures_are_raw_and_fixed_size() {
        assert_eq!(key(Algorithm::ES256).sign(b"input").len(), 64);
        assert_eq!(key(Algorithm::ES384).sign(b"input").len(), 96);
        assert_eq!(key(Algorithm::ES512).sign(b"input").len(), 132);
        for alg in Algorithm::RSA {
            assert_eq!(key(alg).sign(b"input").len(), GENERATED_RSA_BITS / 8, "{alg:?}");
        }
        assert_eq!(key(Algorithm::EdDSA).sign(b"input").len(), 64);
        assert_eq!(key(Algorithm::PS256).sign(b"input").len(), GENERATED_RSA_BITS / 8);
    }

    #[test]
    fn bad_private_jwks_are_refused_without_echoing_key_material() {
        let es = object(key(Algorithm::ES256).to_json());
        let d = es["d"].as_str().unwrap().to_owned();
        let with = |name: &str, value: Value| {
            let mut members = es.clone();
            members.insert(name.to_owned(), value);
            PrivateJwk::from_json(&Value::Object(members).to_string()).unwrap_err()
        };
        let without = |name: &str| {
            let mut members = es.clone();
            members.remove(name);
            PrivateJwk::from_json(&Value::Object(members).to_string()).unwrap_err()
        };
        let cases = [
            (without("alg"), "alg"),
            (without("d"), "d"),
            (without("x"), "x"),
            (with("alg", json!("HS256")), "alg"),
            (with("alg", json!("ES384")), "crv"),
            (with("alg", json!("RS256")), "kty"),
            (with("kty", json!("OKP")), "kty"),
            (with("use", json!("enc")), "use"),
            (with("d", json!("AAAA")), "d"),
            (with("d", json!(format!("{d}="))), "d"),
            (with("x", key(Algorithm::ES256).public_jwk()["y"].clone()), "x"),
            (with("kid", json!(7)), "kid"),
        ];
        for (err, member) in cases {
            assert_eq!(err.code(), "ERR_JWKS_INVALID");
            assert_eq!(err.path(), Some(member), "{err}");
            assert!(!err.to_string().contains(&d), "the error must not echo d");
        }
        for text in ["", "[]", "{", "null"] {
            assert_eq!(PrivateJwk::from_json(text).unwrap_err().code(), "ERR_JWKS_INVALID");
        }
        let mut rsa = object(key(Algorithm::RS256).to_json());
        let dq = rsa["dq"].clone();
        rsa.insert("dp".to_owned(), dq);
        assert_eq!(PrivateJwk::from_members(&rsa).unwrap_err().path(), Some("dp"));
        rsa.remove("q");
        assert_eq!(PrivateJwk::from_members(&rsa).unwrap_err().path(), Some("q"));
    }

    #[test]
    fn ecdsa_and_ed25519_signatures_are_deterministic_rsa_pss_is_salted() {
        for alg in [
            Algorithm::ES256,
            Algorithm::ES384,
            Algorithm::ES512,
            Algorithm::EdDSA,
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
        ] {
            assert!(key(alg).sign(b"same input") == key(alg).sign(b"same input"), "{alg:?}");
        }
        for alg in [Algorithm::PS256, Algorithm::PS384, Algorithm::PS512] {
            let pss = key(alg);
            assert!(pss.sign(b"same input") != pss.sign(b"same input"), "PSS draws a fresh salt");
        }
    }

    #[test]
    fn short_rsa_keys_are_refused() {
        let short = rsa::PrivateKey::new(&mut SysRng, 1024).unwrap();
        let key = PrivateJwk { alg: Algorithm::RS256, kid: None, secret: rsa_secret(short) };
        let err = PrivateJwk::from_json(&key.to_json().to_string()).unwrap_err();
        assert_eq!(err.path(), Some("n"));
        assert!(err.to_string().contains("2048"), "{err}");
    }

    #[test]
    fn debug_names_the_key_but_prints_no_material() {
        let key = key(Algorithm::EdDSA);
        let debug = format!("{key:?}");
        assert!(debug.contains("EdDSA") && debug.contains("k-EdDSA"));
        let d = key.to_json()["d"].as_str().unwrap().to_owned();
        assert!(!debug.contains(&d));
    }
}
