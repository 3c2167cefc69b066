//! The functions the Node timing script calls: load a JWKS (tables built here), verify with
//! edgeward's `Algorithm::verify`, and verify ES256 with plain `p256` on the same key.
#![forbid(unsafe_code)]

use edgeward::{Algorithm, KeySet, P256Key, PublicKey};
use p256::ecdsa::signature::Verifier as _;
use wasm_bindgen::prelude::*;

/// A loaded key set and, for ES256, the same key as `p256` holds it.
#[wasm_bindgen]
pub struct Harness {
    keys: KeySet,
}

#[wasm_bindgen]
impl Harness {
    /// Loads a JWKS for every algorithm edgeward has.
    #[wasm_bindgen(constructor)]
    pub fn new(jwks: &str) -> Result<Harness, JsError> {
        let keys = KeySet::from_bytes(jwks.as_bytes(), &Algorithm::ALL).map_err(|e| JsError::new(&e.to_string()))?;
        Ok(Harness { keys })
    }

    /// Verifies with edgeward (`alg` by name, the key by `kid`).
    pub fn verify(&self, alg: &str, kid: &str, message: &[u8], signature: &[u8]) -> bool {
        let Some(alg) = Algorithm::from_name(alg) else { return false };
        let Ok(key) = self.keys.select(alg, Some(kid)) else { return false };
        alg.verify(&key.key, message, signature).is_ok()
    }

    /// Verifies ES256 with plain `p256::ecdsa::VerifyingKey::verify` (the old path).
    pub fn verify_p256(&self, kid: &str, message: &[u8], signature: &[u8]) -> bool {
        let Ok(key) = self.keys.select(Algorithm::ES256, Some(kid)) else { return false };
        let PublicKey::P256(key) = &key.key else { return false };
        p256::ecdsa::Signature::from_slice(signature).is_ok_and(|sig| key.verifying_key().verify(message, &sig).is_ok())
    }

    /// Table bytes of an ES256 key.
    pub fn table_bytes(&self, kid: &str) -> usize {
        match self.keys.select(Algorithm::ES256, Some(kid)).map(|k| &k.key) {
            Ok(PublicKey::P256(key)) => key.table_bytes(),
            _ => 0,
        }
    }
}

/// An ES256 key with a table of a chosen window width (for the window trade-off).
#[wasm_bindgen]
pub struct WindowKey {
    key: P256Key,
}

#[wasm_bindgen]
impl WindowKey {
    /// Builds the key from uncompressed SEC1 bytes with `window_bits`.
    #[wasm_bindgen(constructor)]
    pub fn new(sec1: &[u8], window_bits: u32) -> Result<WindowKey, JsError> {
        let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(sec1).map_err(|_| JsError::new("not a P-256 point"))?;
        Ok(WindowKey { key: P256Key::with_window_bits(key, window_bits) })
    }

    /// Verifies with the fast path.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.key.verify(message, signature)
    }

    /// Table bytes.
    pub fn table_bytes(&self) -> usize {
        self.key.table_bytes()
    }
}

/// Bytes of the generator's table (built on first use; this call builds it).
#[wasm_bindgen]
pub fn generator_table_bytes() -> usize {
    P256Key::generator_table_bytes()
}

/// The RSA public-key operation s^e mod n two ways, to see what the `rsa` crate's generic
/// constant-time exponentiation (4-bit windows: 14 multiplications for its table, then 16
/// squarings and 5 multiplications for e = 65537) costs against plain square-and-multiply over
/// the same cached Montgomery parameters (16 squarings and 1 multiplication).
#[wasm_bindgen]
pub struct RsaPow {
    key: rsa::PublicKey,
}

#[wasm_bindgen]
impl RsaPow {
    /// From the big-endian modulus and exponent.
    #[wasm_bindgen(constructor)]
    pub fn new(n: &[u8], e: &[u8]) -> Result<RsaPow, JsError> {
        let key = rsa::PublicKey::new(
            rsa::BoxedUint::from_be_slice_vartime(n),
            rsa::BoxedUint::from_be_slice_vartime(e),
        )
        .map_err(|e| JsError::new(&e.to_string()))?;
        Ok(RsaPow { key })
    }

    /// `rsa::hazmat::rsa_encrypt` (what RS256/PS256 verification runs).
    pub fn crate_pow(&self, signature: &[u8]) -> Vec<u8> {
        use rsa::traits::PublicKeyParts as _;
        let Ok(s) = rsa::BoxedUint::from_be_slice(signature, self.key.n_bits_precision()) else { return vec![] };
        rsa::hazmat::rsa_encrypt(&self.key, &s).map(|m| m.to_be_bytes().into_vec()).unwrap_or_default()
    }

    /// Left-to-right square-and-multiply, variable time (public data only).
    pub fn direct_pow(&self, signature: &[u8]) -> Vec<u8> {
        use crypto_bigint::modular::BoxedMontyForm;
        use rsa::traits::PublicKeyParts as _;
        let Ok(s) = rsa::BoxedUint::from_be_slice(signature, self.key.n_bits_precision()) else { return vec![] };
        let base = BoxedMontyForm::new(s, self.key.n_params());
        let e = self.key.e();
        let mut acc = base.clone();
        for bit in (0..e.bit_width_vartime().saturating_sub(1)).rev() {
            acc = acc.square();
            if e.bit_vartime(bit) {
                acc = acc.mul(&base);
            }
        }
        acc.retrieve().to_be_bytes().into_vec()
    }
}
