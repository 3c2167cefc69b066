//! JWK and JWKS (RFC 7517) parsed into validated public keys, and key selection.
//!
//! A key is only ever a *public* verification key of a fixed type; its type decides which
//! algorithms it may verify. Private material, short RSA moduli, off-curve points and wrong
//! lengths make the document invalid; keys of a type no allowed algorithm uses are skipped.

use crate::algorithm::Algorithm;
use crate::base64url;
use crate::error::{ConfigError, Error};
use crate::host_crypto::HostKey;
use crate::json;
use crate::p256_fast::P256Key;
use crate::rsa_fast::RsaKey;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Largest JWKS document accepted, in bytes.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;
/// Most keys one JWKS may hold (counting skipped ones).
pub const MAX_JWKS_KEYS: usize = 64;
/// Smallest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 2048;
/// Largest RSA modulus accepted by default, in bits: a bogus RS256 token against an 8192-bit key
/// costs ~16× the work of one against a 2048-bit key, so larger keys need the provider's
/// `allow_large_rsa_keys: true`.
pub const DEFAULT_MAX_RSA_BITS: usize = 4096;
/// Largest RSA modulus accepted at all (with `allow_large_rsa_keys`), in bits.
pub const MAX_RSA_BITS: usize = 8192;
const MAX_JWKS_DEPTH: usize = 8;

/// A validated public key.
#[derive(Clone)]
pub enum PublicKey {
    /// P-256 (ES256), with its verification table.
    P256(P256Key),
    /// P-384 (ES384).
    P384(p384::ecdsa::VerifyingKey),
    /// P-521 (ES512).
    P521(p521::ecdsa::VerifyingKey),
    /// RSA (RS256, RS384, RS512, PS256, PS384, PS512), modulus of at least 2048 bits.
    Rsa(Box<RsaKey>),
    /// Ed25519 (EdDSA).
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl PublicKey {
    /// Whether this key's type can verify `alg`.
    pub fn fits(&self, alg: Algorithm) -> bool {
        matches!(
            (self, alg),
            (PublicKey::P256(_), Algorithm::ES256)
                | (PublicKey::P384(_), Algorithm::ES384)
                | (PublicKey::P521(_), Algorithm::ES512)
                | (
                    PublicKey::Rsa(_),
                    Algorithm::RS256
                        | Algorithm::RS384
                        | Algorithm::RS512
                        | Algorithm::PS256
                        | Algorithm::PS384
                        | Algorithm::PS512
                )
                | (PublicKey::Ed25519(_), Algorithm::EdDSA)
        )
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Public, but still not printed: a key is named by its thumbprint, not its bytes.
        f.write_str(match self {
            PublicKey::P256(_) => "PublicKey::P256",
            PublicKey::P384(_) => "PublicKey::P384",
            PublicKey::P521(_) => "PublicKey::P521",
            PublicKey::Rsa(_) => "PublicKey::Rsa",
            PublicKey::Ed25519(_) => "PublicKey::Ed25519",
        })
    }
}

/// One usable key of a JWKS with the parameters that constrain its use.
#[derive(Debug, Clone)]
pub struct Jwk {
    /// `kid`, if the key has one.
    pub kid: Option<String>,
    /// `alg`, if the key names one: it may then verify only that algorithm.
    pub alg: Option<String>,
    /// `use`, if present (only `sig` keys are used).
    pub key_use: Option<String>,
    /// `key_ops`, if present (only keys allowing `verify` are used).
    pub key_ops: Option<Vec<String>>,
    /// The key itself.
    pub key: PublicKey,
    /// RFC 7638 SHA-256 thumbprint (base64url).
    pub thumbprint: String,
    /// The key as a host verifies it natively (RSA keys), built once at load.
    host_key: Option<HostKey>,
}

impl Jwk {
    /// The key and every parameter that affects its selection, as one comparable string.
    fn identity(&self) -> String {
        format!("{}|{:?}|{:?}|{:?}|{:?}", self.thumbprint, self.kid, self.alg, self.key_use, self.key_ops)
    }

    /// Whether this key may verify a token with `alg` and `kid` (docs/policy.md, "Key selection").
    pub fn selectable(&self, alg: Algorithm, kid: Option<&str>) -> bool {
        self.key.fits(alg)
            && self.alg.as_deref().is_none_or(|a| a == alg.name())
            && self.usable_for_signatures()
            && kid.is_none_or(|kid| self.kid.as_deref() == Some(kid))
    }

    /// The key as a host verifies it natively (src/host_crypto.rs), for RSA keys.
    pub fn host_key(&self) -> Option<&HostKey> {
        self.host_key.as_ref()
    }

    /// `use` (if present) is `sig` and `key_ops` (if present) include `verify`.
    fn usable_for_signatures(&self) -> bool {
        self.key_use.as_deref().is_none_or(|u| u == "sig")
            && self.key_ops.as_ref().is_none_or(|ops| ops.iter().any(|op| op == "verify"))
    }
}

/// The usable keys of one JWKS document.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<Arc<Jwk>>,
    skipped: usize,
    refused: Vec<ConfigError>,
}

impl KeySet {
    /// Parses a fetched JWKS document, keeping the keys that one of `allowed` can use. A key that
    /// is unusable (off the curve, too short, private, …) is left out and reported in
    /// [`KeySet::refused`]; the others load. A document without a single usable key is refused.
    pub fn from_bytes(bytes: &[u8], allowed: &[Algorithm]) -> Result<KeySet, Error> {
        KeySet::from_bytes_with(bytes, allowed, DEFAULT_MAX_RSA_BITS)
    }

    /// [`KeySet::from_bytes`] with RSA moduli up to `max_rsa_bits` (at most [`MAX_RSA_BITS`]).
    pub fn from_bytes_with(bytes: &[u8], allowed: &[Algorithm], max_rsa_bits: usize) -> Result<KeySet, Error> {
        if bytes.len() > MAX_JWKS_BYTES {
            return Err(Error::jwks("", format!("document is larger than {MAX_JWKS_BYTES} bytes")));
        }
        let value = json::parse(bytes, MAX_JWKS_DEPTH).map_err(|e| e.into_error(Error::Jwks))?;
        KeySet::read(&value, allowed, "", false, max_rsa_bits.min(MAX_RSA_BITS))
    }

    /// Reads keys written into a policy (`local_jwks`): every key must be usable, and the first
    /// that is not refuses the document (an operator's mistake, reported at load with its path).
    pub fn from_value(value: &Value, allowed: &[Algorithm], path: &str) -> Result<KeySet, Error> {
        KeySet::read(value, allowed, path, true, DEFAULT_MAX_RSA_BITS)
    }

    /// [`KeySet::from_value`] with RSA moduli up to `max_rsa_bits` (at most [`MAX_RSA_BITS`]).
    pub fn from_value_with(
        value: &Value,
        allowed: &[Algorithm],
        path: &str,
        max_rsa_bits: usize,
    ) -> Result<KeySet, Error> {
        KeySet::read(value, allowed, path, true, max_rsa_bits.min(MAX_RSA_BITS))
    }

    /// `path` prefixes error paths (e.g. `providers.a.local_jwks`); `strict` refuses the
    /// document for one bad key instead of leaving the key out.
    fn read(
        value: &Value,
        allowed: &[Algorithm],
        path: &str,
        strict: bool,
        max_rsa_bits: usize,
    ) -> Result<KeySet, Error> {
        let at = |member: &str| join(path, member);
        let Value::Object(doc) = value else {
            return Err(Error::jwks(path, "expected an object with a \"keys\" array"));
        };
        let Some(keys) = doc.get("keys") else {
            return Err(Error::jwks(at("keys"), "missing"));
        };
        let Value::Array(keys) = keys else {
            return Err(Error::jwks(at("keys"), "expected an array"));
        };
        if keys.len() > MAX_JWKS_KEYS {
            return Err(Error::jwks(at("keys"), format!("more than {MAX_JWKS_KEYS} keys")));
        }
        let mut set = KeySet::default();
        // The type (and `alg`) of each skipped key, to say at load what the allowlist misses.
        let mut skipped_kinds: Vec<SkippedKind> = Vec::new();
        for (index, key) in keys.iter().enumerate() {
            let key_path = format!("{}[{index}]", at("keys"));
            let Value::Object(members) = key else {
                return Err(Error::jwks(key_path, "expected an object"));
            };
            match parse_jwk(members, allowed, &key_path, max_rsa_bits) {
                Ok(Some(jwk)) => set.keys.push(Arc::new(jwk)),
                Ok(None) => {
                    set.skipped += 1;
                    let kind = SkippedKind::of(members);
                    if !skipped_kinds.contains(&kind) {
                        skipped_kinds.push(kind);
                    }
                }
                Err(Error::Jwks(refused)) if !strict => set.refused.push(refused),
                Err(e) => return Err(e),
            }
        }
        // A document with nothing usable is refused rather than loaded: replacing good keys with
        // none would turn an IdP hiccup (or a rotation to an algorithm the policy does not allow)
        // into an outage, and a refused document keeps the current keys.
        if set.keys.is_empty() {
            let names: Vec<&str> = allowed.iter().map(|a| a.name()).collect();
            let names = names.join(", ");
            let mut message = format!("no key usable with the allowed algorithms ({names})");
            if !skipped_kinds.is_empty() {
                message.push_str(&skipped_message(&skipped_kinds, &names));
            }
            if let Some(refused) = set.refused.first() {
                message.push_str(&format!("; {}: {}", refused.path, refused.message));
            }
            return Err(Error::jwks(at("keys"), message));
        }
        Ok(set)
    }

    /// The keys left out because they are unusable, with the member at fault and why (for a
    /// warning: the document loaded without them).
    pub fn refused(&self) -> &[ConfigError] {
        &self.refused
    }

    /// The usable keys.
    pub fn keys(&self) -> &[Arc<Jwk>] {
        &self.keys
    }

    /// How many keys were skipped because no allowed algorithm can use them.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// Whether the set has no usable key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Selects the one key that may verify a token with `alg` and `kid`.
    pub fn select(&self, alg: Algorithm, kid: Option<&str>) -> Result<&Arc<Jwk>, Error> {
        let mut candidates = self.keys.iter().filter(|k| k.selectable(alg, kid));
        match (candidates.next(), candidates.next()) {
            (Some(key), None) => Ok(key),
            (Some(_), Some(_)) => Err(Error::MultipleMatchingKeys),
            // The token names a signing key that exists, but whose type or `alg` does not fit
            // the token's `alg`: the algorithm disagrees with the key.
            (None, _)
                if kid.is_some() && self.keys.iter().any(|k| k.kid.as_deref() == kid && k.usable_for_signatures()) =>
            {
                Err(Error::AlgorithmNotAllowed)
            }
            (None, _) => Err(Error::no_matching_key(kid)),
        }
    }

    /// Adds `other`'s keys after this set's (a provider's inline keys beside its fetched ones).
    pub fn add_keys(&mut self, other: &KeySet) {
        self.keys.extend(other.keys.iter().cloned());
    }

    /// Takes over from `old` every key that is the same (key and parameters) in this set, so a
    /// reload keeps the work a kept key has earned (a P-256 key's table) and builds nothing for it.
    pub fn keep_unchanged_from(&mut self, old: &KeySet) {
        // Each identity once (a 64-key reload compared 64 × 64 freshly built strings).
        let kept: std::collections::HashMap<String, &Arc<Jwk>> = old.keys.iter().map(|k| (k.identity(), k)).collect();
        for key in &mut self.keys {
            if let Some(kept) = kept.get(&key.identity()) {
                *key = Arc::clone(kept);
            }
        }
    }

    /// Whether both sets hold the same keys with the same parameters (order ignored).
    pub fn same_keys(&self, other: &KeySet) -> bool {
        let identities = |set: &KeySet| {
            let mut ids: Vec<String> = set.keys.iter().map(|k| k.identity()).collect();
            ids.sort_unstable();
            ids
        };
        identities(self) == identities(other)
    }
}

/// What a skipped key is: its `kty`, `crv` and `alg` as the document gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SkippedKind {
    kty: String,
    crv: Option<String>,
    alg: Option<String>,
}

impl SkippedKind {
    fn of(members: &Map<String, Value>) -> SkippedKind {
        let text = |member: &str| members.get(member).and_then(Value::as_str).map(str::to_owned);
        SkippedKind { kty: text("kty").unwrap_or_default(), crv: text("crv"), alg: text("alg") }
    }

    /// `RSA`, `EC P-521`, `RSA (alg RS384)`.
    fn describe(&self) -> String {
        let mut text = self.kty.clone();
        if let Some(crv) = &self.crv {
            text.push(' ');
            text.push_str(crv);
        }
        if let Some(alg) = &self.alg {
            text.push_str(&format!(" (alg {alg})"));
        }
        text
    }

    /// The algorithm to add to `algorithms` for this key: its `alg` if edgeward verifies it
    /// with a key of this type, else the one algorithm of its curve, else (RSA) RS256.
    fn suggestion(&self) -> Option<&'static str> {
        let fits = |a: &Algorithm| a.key_type() == self.kty && a.curve().is_none_or(|c| self.crv.as_deref() == Some(c));
        match &self.alg {
            Some(alg) => Algorithm::from_name(alg).filter(fits).map(Algorithm::name),
            None if self.kty == "RSA" => Some("RS256 (or the RSA algorithm the provider signs with)"),
            None => Algorithm::ALL.iter().find(|a| fits(a)).map(|a| a.name()),
        }
    }
}

/// `: the keys are RSA; algorithms allows ES256: add RS256 to algorithms`.
fn skipped_message(kinds: &[SkippedKind], allowed: &str) -> String {
    let described: Vec<String> = kinds.iter().map(SkippedKind::describe).collect();
    let mut suggestions: Vec<&str> = Vec::new();
    for suggestion in kinds.iter().filter_map(SkippedKind::suggestion) {
        if !suggestions.contains(&suggestion) {
            suggestions.push(suggestion);
        }
    }
    let advice = if suggestions.is_empty() {
        "edgeward verifies no algorithm with them".to_owned()
    } else {
        format!("add {} to algorithms", suggestions.join(" or "))
    };
    format!(": the keys are {}; algorithms allows {allowed}: {advice}", described.join(", "))
}

fn join(path: &str, member: &str) -> String {
    if path.is_empty() { member.to_owned() } else { format!("{path}.{member}") }
}

/// Parses one JWK; `Ok(None)` when no allowed algorithm can use its type (skipped).
/// Members a public key never has: a JWK holding one is private (or symmetric) key material.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Whether a JWK holds private (or symmetric) key material.
pub(crate) fn has_private_members(members: &Map<String, Value>) -> bool {
    PRIVATE_MEMBERS.iter().any(|m| members.contains_key(*m))
}

/// The RFC 7638 SHA-256 thumbprint of a JWK's members as sent, without building the key (a
/// lookup key for keys already built): `None` unless its required members are base64url text.
pub fn thumbprint_of(members: &Map<String, Value>) -> Option<String> {
    let text = |name: &str| {
        let value = members.get(name)?.as_str()?;
        value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.').then_some(value)
    };
    let input = match text("kty")? {
        "EC" => format!(r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#, text("crv")?, text("x")?, text("y")?),
        "RSA" => format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, text("e")?, text("n")?),
        "OKP" => format!(r#"{{"crv":"{}","kty":"OKP","x":"{}"}}"#, text("crv")?, text("x")?),
        _ => return None,
    };
    Some(base64url::encode(&Sha256::digest(input.as_bytes())))
}

/// A DPoP proof's `jwk` as a key for `alg`, checked as a JWKS key is (public, on the curve, RSA
/// of 2048 to 4096 bits); a P-256 key's table `window_bits` wide. `None` when it is not one.
pub(crate) fn proof_key(members: &Map<String, Value>, alg: Algorithm, window_bits: u32) -> Option<Jwk> {
    let mut jwk = parse_jwk(members, &[alg], "jwk", DEFAULT_MAX_RSA_BITS).ok()??;
    if let PublicKey::P256(key) = &jwk.key {
        jwk.key = PublicKey::P256(P256Key::with_window_bits(*key.verifying_key(), window_bits));
    }
    Some(jwk)
}

fn parse_jwk(
    members: &Map<String, Value>,
    allowed: &[Algorithm],
    path: &str,
    max_rsa_bits: usize,
) -> Result<Option<Jwk>, Error> {
    let at = |member: &str| join(path, member);
    let text = |member: &str| -> Result<Option<String>, Error> {
        match members.get(member) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(Error::jwks(at(member), "expected a string")),
        }
    };
    let kty = text("kty")?.ok_or_else(|| Error::jwks(at("kty"), "missing"))?;
    let kid = text("kid")?;
    let alg = text("alg")?;
    let key_use = text("use")?;
    let key_ops = match members.get("key_ops") {
        None => None,
        Some(Value::Array(ops)) => Some(
            ops.iter()
                .enumerate()
                .map(|(i, op)| {
                    op.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| Error::jwks(format!("{}[{i}]", at("key_ops")), "expected a string"))
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(_) => return Err(Error::jwks(at("key_ops"), "expected an array of strings")),
    };

    // Which algorithms could this key type serve, among those allowed?
    let crv = text("crv")?;
    let usable_by: Vec<Algorithm> = allowed
        .iter()
        .copied()
        .filter(|a| a.key_type() == kty && a.curve().is_none_or(|c| crv.as_deref() == Some(c)))
        .collect();
    if usable_by.is_empty() {
        return Ok(None);
    }
    // A symmetric or private key is never used to verify: refuse the document rather than
    // quietly serving a key set that leaks signing material.
    for private in PRIVATE_MEMBERS {
        if members.contains_key(private) {
            return Err(Error::jwks(at(private), "private key material is not allowed in a JWKS"));
        }
    }
    let bytes = |member: &str| -> Result<Vec<u8>, Error> {
        let value = text(member)?.ok_or_else(|| Error::jwks(at(member), "missing"))?;
        base64url::decode(&value).ok_or_else(|| Error::jwks(at(member), "not strict base64url"))
    };
    let fixed = |member: &str, len: usize| -> Result<Vec<u8>, Error> {
        let b = bytes(member)?;
        if b.len() == len { Ok(b) } else { Err(Error::jwks(at(member), format!("expected exactly {len} bytes"))) }
    };

    let (key, thumbprint_input) = match kty.as_str() {
        "EC" => {
            let crv = crv.unwrap_or_default();
            // RFC 7518 §6.2.1.2: the full size of a field element (P-521: 66 bytes, never 65).
            let size = match crv.as_str() {
                "P-256" => 32,
                "P-384" => 48,
                _ => 66,
            };
            let (x, y) = (fixed("x", size)?, fixed("y", size)?);
            let mut sec1 = Vec::with_capacity(1 + 2 * size);
            sec1.push(0x04);
            sec1.extend_from_slice(&x);
            sec1.extend_from_slice(&y);
            let off_curve = || Error::jwks(path, "the point is not on the curve");
            let key = match crv.as_str() {
                "P-256" => PublicKey::P256(P256Key::new(
                    p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).map_err(|_| off_curve())?,
                )),
                "P-384" => PublicKey::P384(p384::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).map_err(|_| off_curve())?),
                _ => PublicKey::P521(p521::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).map_err(|_| off_curve())?),
            };
            let input = format!(
                r#"{{"crv":"{crv}","kty":"EC","x":"{}","y":"{}"}}"#,
                base64url::encode(&x),
                base64url::encode(&y)
            );
            (key, input)
        }
        "RSA" => {
            let (n, e) = (bytes("n")?, bytes("e")?);
            // Canonical big-endian: no leading zero octets (RFC 7518 §6.3.1.1).
            if n.first() == Some(&0) {
                return Err(Error::jwks(at("n"), "has leading zero octets"));
            }
            if e.is_empty() || e.first() == Some(&0) || e.len() > 8 {
                return Err(Error::jwks(at("e"), "not a valid public exponent"));
            }
            let bits = n
                .len()
                .saturating_mul(8)
                .saturating_sub(n.first().map_or(8, |b| usize::try_from(b.leading_zeros()).unwrap_or(8)));
            if bits < MIN_RSA_BITS {
                return Err(Error::jwks(at("n"), format!("RSA modulus is shorter than {MIN_RSA_BITS} bits")));
            }
            if bits > max_rsa_bits {
                let how = if max_rsa_bits < MAX_RSA_BITS { " (allow_large_rsa_keys: true allows 8192)" } else { "" };
                return Err(Error::jwks(at("n"), format!("RSA modulus is longer than {max_rsa_bits} bits{how}")));
            }
            let key = rsa::PublicKey::new_with_size_limits(
                rsa::BoxedUint::from_be_slice_vartime(&n),
                rsa::BoxedUint::from_be_slice_vartime(&e),
                MIN_RSA_BITS..=max_rsa_bits,
            )
            .map_err(|_| Error::jwks(path, "not a valid RSA public key"))?;
            let input = format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, base64url::encode(&e), base64url::encode(&n));
            (PublicKey::Rsa(Box::new(RsaKey::new(key))), input)
        }
        "OKP" => {
            let x = fixed("x", 32)?;
            let mut raw = [0u8; 32];
            raw.copy_from_slice(&x);
            let key = ed25519_dalek::VerifyingKey::from_bytes(&raw)
                .map_err(|_| Error::jwks(at("x"), "not a valid Ed25519 point"))?;
            if key.is_weak() {
                return Err(Error::jwks(at("x"), "a small-order Ed25519 point is not a usable key"));
            }
            (PublicKey::Ed25519(key), format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, base64url::encode(&x)))
        }
        _ => return Ok(None),
    };
    let thumbprint = base64url::encode(&Sha256::digest(thumbprint_input.as_bytes()));
    let host_key = HostKey::of(&key);
    Ok(Some(Jwk { kid, alg, key_use, key_ops, key, thumbprint, host_key }))
}
