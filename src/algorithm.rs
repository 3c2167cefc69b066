//! The JWS algorithms edgeward verifies, and signature verification with the maintained
//! RustCrypto and dalek crates. Verify only: there is no signing and no symmetric key here.

use crate::error::Error;
use crate::jwk::PublicKey;
use serde::{Deserialize, Serialize};

/// A JWS algorithm (RFC 7518 / RFC 8037) that edgeward can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Algorithm {
    /// ECDSA with P-256 and SHA-256.
    ES256,
    /// ECDSA with P-384 and SHA-384.
    ES384,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt.
    PS256,
    /// Ed25519 (RFC 8037).
    EdDSA,
}

impl Algorithm {
    /// Every supported algorithm.
    pub const ALL: [Algorithm; 5] =
        [Algorithm::ES256, Algorithm::ES384, Algorithm::RS256, Algorithm::PS256, Algorithm::EdDSA];

    /// The `alg` header value, exactly (case-sensitive).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::RS256 => "RS256",
            Algorithm::PS256 => "PS256",
            Algorithm::EdDSA => "EdDSA",
        }
    }

    /// Looks up an `alg` header value; exact and case-sensitive.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The JWK `kty` of keys for this algorithm.
    pub fn key_type(self) -> &'static str {
        match self {
            Algorithm::ES256 | Algorithm::ES384 => "EC",
            Algorithm::RS256 | Algorithm::PS256 => "RSA",
            Algorithm::EdDSA => "OKP",
        }
    }

    /// The JWK `crv` of keys for this algorithm, where keys have one.
    pub fn curve(self) -> Option<&'static str> {
        match self {
            Algorithm::ES256 => Some("P-256"),
            Algorithm::ES384 => Some("P-384"),
            Algorithm::RS256 | Algorithm::PS256 => None,
            Algorithm::EdDSA => Some("Ed25519"),
        }
    }

    /// Verifies `signature` over the exact `signing_input` bytes with `key`.
    ///
    /// ECDSA signatures must be raw `r‖s` of exactly twice the field size with `1 ≤ r, s < n`
    /// (DER and zero values are refused, CVE-2022-21449); high-S values are valid ECDSA.
    /// Ed25519 uses strict verification (canonical `S`, no small-order `R` or key).
    pub fn verify(self, key: &PublicKey, signing_input: &[u8], signature: &[u8]) -> Result<(), Error> {
        use signature_traits::Verifier as _;
        let ok = match (self, key) {
            // Tables built when the key loaded; the same checks as `p256`'s verify.
            #[cfg(not(feature = "crate-verify"))]
            (Algorithm::ES256, PublicKey::P256(key)) => key.verify(signing_input, signature),
            #[cfg(feature = "crate-verify")]
            (Algorithm::ES256, PublicKey::P256(key)) => p256::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|sig| key.verifying_key().verify(signing_input, &sig).is_ok()),
            (Algorithm::ES384, PublicKey::P384(key)) => {
                p384::ecdsa::Signature::from_slice(signature).is_ok_and(|sig| key.verify(signing_input, &sig).is_ok())
            }
            // The `rsa` crate's key and Montgomery parameters, square-and-multiply for the exponent.
            #[cfg(not(feature = "crate-verify"))]
            (Algorithm::RS256, PublicKey::Rsa(key)) => key.verify_pkcs1v15_sha256(signing_input, signature),
            #[cfg(not(feature = "crate-verify"))]
            (Algorithm::PS256, PublicKey::Rsa(key)) => key.verify_pss_sha256(signing_input, signature),
            #[cfg(feature = "crate-verify")]
            (Algorithm::RS256, PublicKey::Rsa(key)) => rsa::pkcs1v15::Signature::try_from(signature)
                .is_ok_and(|sig| key.crate_verifiers().0.verify(signing_input, &sig).is_ok()),
            #[cfg(feature = "crate-verify")]
            (Algorithm::PS256, PublicKey::Rsa(key)) => rsa::pss::Signature::try_from(signature)
                .is_ok_and(|sig| key.crate_verifiers().1.verify(signing_input, &sig).is_ok()),
            (Algorithm::EdDSA, PublicKey::Ed25519(key)) => <[u8; 64]>::try_from(signature)
                .is_ok_and(|raw| key.verify_strict(signing_input, &ed25519_dalek::Signature::from_bytes(&raw)).is_ok()),
            // Key selection only hands over keys that fit; this arm keeps a mismatch fail-closed.
            _ => return Err(Error::AlgorithmNotAllowed),
        };
        if ok { Ok(()) } else { Err(Error::BadSignature) }
    }
}

/// The `signature` crate's traits, re-exported by the key crates.
mod signature_traits {
    pub use p256::ecdsa::signature::Verifier;
}
