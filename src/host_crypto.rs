//! Signature verification by the host, for the algorithms it does natively: Envoy's
//! `verify_signature` foreign function (BoringSSL) and Node's `node:crypto` (OpenSSL) verify RSA
//! several times faster than any code compiled to wasm.
//!
//! The seam is deliberately narrow. The core still parses the token, selects the key, checks the
//! algorithm against the provider's allowlist, and checks every claim; it also makes every check a
//! host may be laxer about *before* asking the host: the key is one the core validated at load
//! (RSA modulus of 2048 bits or more, within the provider's `allow_large_rsa_keys` bound, a sane
//! exponent), the hash is the one the JWS algorithm names (never SHA-1), and the signature is
//! exactly as long as the modulus and below it. The host answers one question: does this
//! signature verify over these bytes with this key under this scheme? An answer other than yes
//! or no (the host call failed) refuses the request with [`Error::HostCrypto`]: fail closed,
//! never a silent pass and never a silent fallback.
//!
//! A host hands the core a [`HostCrypto`] with [`crate::Verifier::set_host_crypto`]; a verifier
//! without one (browsers, the CLI) verifies everything itself.

use crate::algorithm::Algorithm;
use crate::error::Error;
use crate::jwk::{Jwk, KeySet, MAX_RSA_BITS, PublicKey};
use std::sync::atomic::{AtomicU64, Ordering};

/// A key as a host needs it: the SubjectPublicKeyInfo DER of a key the core validated, and a
/// number that names this key (this loaded key object) for as long as the process lives, so a host
/// may keep its own prepared form of it (Node keeps a `KeyObject` per number).
#[derive(Clone)]
pub struct HostKey {
    id: u64,
    spki_der: Vec<u8>,
    /// An RSA key's modulus, big-endian without leading zeros (k octets); empty for EC keys.
    modulus: Vec<u8>,
}

/// Numbers for [`HostKey::id`]; 0 is never given out.
static NEXT_HOST_KEY_ID: AtomicU64 = AtomicU64::new(1);

impl HostKey {
    /// The host form of `key`, for the key types a host may verify faster than the core (RSA,
    /// P-384, P-521); `None` for the others (P-256 and Ed25519 are as fast here).
    pub(crate) fn of(key: &PublicKey) -> Option<HostKey> {
        use p384::pkcs8::EncodePublicKey as _;
        let (spki_der, modulus) = match key {
            PublicKey::Rsa(rsa) => {
                use rsa::traits::PublicKeyParts as _;
                let public = rsa.public_key();
                (
                    public.to_public_key_der().ok()?.into_vec(),
                    public.n().as_ref().to_be_bytes_trimmed_vartime().into_vec(),
                )
            }
            PublicKey::P384(key) => (key.to_public_key_der().ok()?.into_vec(), Vec::new()),
            PublicKey::P521(key) => (key.to_public_key_der().ok()?.into_vec(), Vec::new()),
            _ => return None,
        };
        Some(HostKey { id: NEXT_HOST_KEY_ID.fetch_add(1, Ordering::Relaxed), spki_der, modulus })
    }

    /// The number naming this key.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The key's SubjectPublicKeyInfo, DER.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// RFC 8017 §8.1.2 / §8.2.2 step 1 and RSAVP1's range: exactly k octets, and below n.
    fn signature_in_range(&self, signature: &[u8]) -> bool {
        // Same length, so big-endian byte order is numeric order.
        signature.len() == self.modulus.len() && signature < self.modulus.as_slice()
    }
}

impl std::fmt::Debug for HostKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Named by its number, never printed.
        write!(f, "HostKey({})", self.id)
    }
}

/// What a host said about one signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostVerdict {
    /// The signature verifies.
    Valid,
    /// The signature does not verify.
    Invalid,
    /// The host could not answer (the call failed); the reason is for logs, not for callers.
    Failed(String),
}

/// Signature verification a host does natively, for the algorithms it names.
pub trait HostCrypto: Send + Sync {
    /// Whether the host verifies `alg` (the core keeps the others).
    fn supports(&self, alg: Algorithm) -> bool;

    /// Called once for each key the verifier newly loads whose type the host may verify, so the
    /// host can prepare its own form of it ahead of the first token. Optional.
    fn prepare(&self, _key: &HostKey) {}

    /// Verifies `signature` over `signing_input` with `key` under `alg`'s scheme and hash
    /// (RS256: RSASSA-PKCS1-v1_5 with SHA-256; PS256: RSASSA-PSS with SHA-256, MGF1-SHA-256 and
    /// a 32-byte salt; likewise for 384 and 512; ES384 and ES512: ECDSA with SHA-384 and SHA-512
    /// over raw `r‖s`). The core has checked everything else.
    fn verify(&self, alg: Algorithm, key: &HostKey, signing_input: &[u8], signature: &[u8]) -> HostVerdict;
}

/// The hash a JWS algorithm signs with, by the name OpenSSL and BoringSSL give it.
pub fn hash_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::ES256 | Algorithm::RS256 | Algorithm::PS256 => "sha256",
        Algorithm::ES384 | Algorithm::RS384 | Algorithm::PS384 => "sha384",
        Algorithm::ES512 | Algorithm::RS512 | Algorithm::PS512 | Algorithm::EdDSA => "sha512",
    }
}

/// An ECDSA JWS signature (raw `r‖s`, ES384 or ES512) as DER, for hosts that take only DER
/// (Envoy's `verify_signature`); `None` for other algorithms or a signature that is not one.
pub fn der_signature(alg: Algorithm, raw: &[u8]) -> Option<Vec<u8>> {
    match alg {
        Algorithm::ES384 => Some(p384::ecdsa::Signature::from_slice(raw).ok()?.to_der().as_bytes().to_vec()),
        Algorithm::ES512 => Some(p521::ecdsa::Signature::from_slice(raw).ok()?.to_der().as_bytes().to_vec()),
        _ => None,
    }
}

/// Verifies `signature` over `signing_input` with `jwk` under `alg` exactly as [`crate::Verifier`]
/// does for a token (exported as `edgeward::verify_signature`): through `host` when it supports
/// `alg` and the key has a host form (after the core's own checks of the signature's length and
/// range), else in the core. `BadSignature` when it does not verify, `HostCrypto` when the host
/// could not answer. For hosts' self-tests and differential tests.
pub fn verify(
    host: Option<&dyn HostCrypto>,
    alg: Algorithm,
    jwk: &Jwk,
    signing_input: &[u8],
    signature: &[u8],
) -> Result<(), Error> {
    let (Some(host), Some(host_key)) = (host, jwk.host_key()) else {
        return alg.verify(&jwk.key, signing_input, signature);
    };
    if !host.supports(alg) {
        return alg.verify(&jwk.key, signing_input, signature);
    }
    // The checks the host may skip, made here: RFC 8017 §8.1.2 / §8.2.2 step 1 and RSAVP1's range
    // for RSA; for ECDSA raw `r‖s` of exactly twice the field size with 1 ≤ r, s < n (what the
    // core's own verify requires). Key selection already matched the key's type to `alg`.
    let shaped = match &jwk.key {
        PublicKey::Rsa(_) => host_key.signature_in_range(signature),
        PublicKey::P384(_) => p384::ecdsa::Signature::from_slice(signature).is_ok(),
        PublicKey::P521(_) => p521::ecdsa::Signature::from_slice(signature).is_ok(),
        _ => return Err(Error::AlgorithmNotAllowed),
    };
    if !shaped {
        return Err(Error::BadSignature);
    }
    match host.verify(alg, host_key, signing_input, signature) {
        HostVerdict::Valid => Ok(()),
        HostVerdict::Invalid => Err(Error::BadSignature),
        HostVerdict::Failed(reason) => Err(Error::HostCrypto { reason }),
    }
}

/// [`verify`] with one key given as JWK text, loaded as a provider allowing only `alg` loads it
/// (RSA moduli up to [`MAX_RSA_BITS`]): for differential tests of the hosts' paths with vectors
/// that are not tokens (Wycheproof). A key the core refuses gives `ERR_JWKS_INVALID`.
pub fn verify_with_jwk(
    host: Option<&dyn HostCrypto>,
    alg: Algorithm,
    jwk: &str,
    signing_input: &[u8],
    signature: &[u8],
) -> Result<(), Error> {
    let keys = KeySet::from_bytes_with(format!(r#"{{"keys":[{jwk}]}}"#).as_bytes(), &[alg], MAX_RSA_BITS)?;
    let key = keys.keys().first().ok_or(Error::JwksUnavailable)?;
    verify(host, alg, key, signing_input, signature)
}
