//! The JWS algorithms edgeward verifies, and signature verification with the maintained
//! RustCrypto and dalek crates. Verify only: there is no signing and no symmetric key here.

use crate::error::Error;
use crate::jwk::PublicKey;
use serde::{Deserialize, Serialize};

/// A JWS algorithm (RFC 7518 / RFC 8037) that edgeward can verify.
///
/// Non-exhaustive: the list grows as edgeward verifies more; [`Algorithm::ALL`] has them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Algorithm {
    /// ECDSA with P-256 and SHA-256.
    ES256,
    /// ECDSA with P-384 and SHA-384.
    ES384,
    /// ECDSA with P-521 and SHA-512.
    ES512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt.
    PS256,
    /// RSASSA-PSS with SHA-384, MGF1-SHA-384 and a 48-byte salt.
    PS384,
    /// RSASSA-PSS with SHA-512, MGF1-SHA-512 and a 64-byte salt.
    PS512,
    /// Ed25519 (RFC 8037).
    EdDSA,
}

impl Algorithm {
    /// Every supported algorithm.
    pub const ALL: [Algorithm; 10] = [
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::ES512,
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::EdDSA,
    ];

    /// The RSA algorithms (every one an RSA key may verify, subject to its JWK `alg`).
    pub const RSA: [Algorithm; 6] =
        [Algorithm::RS256, Algorithm::RS384, Algorithm::RS512, Algorithm::PS256, Algorithm::PS384, Algorithm::PS512];

    /// The `alg` header value, exactly (case-sensitive).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::ES512 => "ES512",
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
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
            Algorithm::ES256 | Algorithm::ES384 | Algorithm::ES512 => "EC",
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => "RSA",
            Algorithm::EdDSA => "OKP",
        }
    }

    /// The JWK `crv` of keys for this algorithm, where keys have one.
    pub fn curve(self) -> Option<&'static str> {
        match self {
            Algorithm::ES256 => Some("P-256"),
            Algorithm::ES384 => Some("P-384"),
            Algorithm::ES512 => Some("P-521"),
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => None,
            Algorithm::EdDSA => Some("Ed25519"),
        }
    }

    /// Verifies `signature` over the exact `signing_input` bytes with `key`.
    ///
    /// ECDSA signatures must be raw `r‖s` of exactly twice the field size (64, 96 and 132 bytes
    /// for ES256, ES384, ES512) with `1 ≤ r, s < n`
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
            // P-521's signature is 132 bytes, r and s of 66 each; SHA-512 is not truncated (512 < 521 bits).
            (Algorithm::ES512, PublicKey::P521(key)) => {
                p521::ecdsa::Signature::from_slice(signature).is_ok_and(|sig| key.verify(signing_input, &sig).is_ok())
            }
            // The `rsa` crate's key and Montgomery parameters, square-and-multiply for the exponent.
            #[cfg(not(feature = "crate-verify"))]
            (Algorithm::RS256, PublicKey::Rsa(key)) => key.verify_pkcs1v15_sha256(signing_input, signature),
            #[cfg(not(feature = "crate-verify"))]
            (Algorithm::RS384, PublicKey::Rsa(key)) => key.verify_pkcs1v15_sha384(signing_input, signature),
            #[cfg(not(feature = "crate-verify"))]
            (Algorithm::RS512, PublicKey::Rsa(key)) => key.verify_pkcs1v15_sha512(signing_input, signature),
            #[cfg(not(feature = "crate-verify"))]
            (Algorithm::PS256, PublicKey::Rsa(key)) => key.verify_pss_sha256(signing_input, signature),
            #[cfg(not(feature = "crate-verify"))]
            (Algorithm::PS384, PublicKey::Rsa(key)) => key.verify_pss_sha384(signing_input, signature),
            #[cfg(not(feature = "crate-verify"))]
            (Algorithm::PS512, PublicKey::Rsa(key)) => key.verify_pss_sha512(signing_input, signature),
            #[cfg(feature = "crate-verify")]
            (Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512, PublicKey::Rsa(key)) => {
                rsa::pkcs1v15::Signature::try_from(signature).is_ok_and(|sig| {
                    let v = key.crate_verifiers();
                    match self {
                        Algorithm::RS256 => v.rs256.verify(signing_input, &sig).is_ok(),
                        Algorithm::RS384 => v.rs384.verify(signing_input, &sig).is_ok(),
                        _ => v.rs512.verify(signing_input, &sig).is_ok(),
                    }
                })
            }
            #[cfg(feature = "crate-verify")]
            (Algorithm::PS256 | Algorithm::PS384 | Algorithm::PS512, PublicKey::Rsa(key)) => {
                rsa::pss::Signature::try_from(signature).is_ok_and(|sig| {
                    let v = key.crate_verifiers();
                    match self {
                        Algorithm::PS256 => v.ps256.verify(signing_input, &sig).is_ok(),
                        Algorithm::PS384 => v.ps384.verify(signing_input, &sig).is_ok(),
                        _ => v.ps512.verify(signing_input, &sig).is_ok(),
                    }
                })
            }
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
