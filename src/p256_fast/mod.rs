//! Fast ES256 verification: `u₁·G + u₂·Q` as additions from precomputed tables.
//!
//! A table of signed-digit windows for each public key, built on the key's first verification
//! (so loading a JWKS of 64 keys never stalls requests; a key kept across reloads keeps its
//! table), and one for the generator, built once per process when the first P-256 key loads. A verification is then about 2·⌈256/w⌉ mixed Jacobian additions and no doubling.
//! `x(R) mod n = r` is checked without an inversion: `X = r·Z²`, or `X = (r+n)·Z²` when
//! `r + n < p`. The checks on the signature are the ones `p256`'s own verify makes.
//!
//! Verification handles only public data, so all of this is variable time.

mod field;
#[cfg(any(test, target_arch = "wasm32"))]
mod field32;
mod point;

use field::Field;
#[cfg(not(target_arch = "wasm32"))]
use field::P256Field;
use p256::elliptic_curve::ops::{Invert as _, Reduce as _};
use point::{Affine, Jacobian, Limbs, Table};
use sha2::{Digest as _, Sha256};
use std::sync::{Arc, OnceLock};

/// The field the tables use on this target: `p256`'s own (64-bit limbs, Montgomery form)
/// natively; on wasm32, which has no 64×64→128-bit multiply, 32-bit limbs with p's special
/// form for reduction (see `field32`).
#[cfg(not(target_arch = "wasm32"))]
type Fe = P256Field;
#[cfg(target_arch = "wasm32")]
type Fe = field32::Fe32;

/// Window width of a key's table, in bits: ⌈256/w⌉ windows of 2^(w−1) affine points.
/// See `perf/README.md` for the measurements behind the choice.
pub const KEY_WINDOW_BITS: u32 = 7;
/// Window width of the generator's table, in bits (one table per process).
pub const GENERATOR_WINDOW_BITS: u32 = 8;

/// n, the order of the group, big-endian.
const ORDER: [u8; 32] = hex32("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
/// p − n, big-endian: r + n < p exactly when r < p − n.
const P_MINUS_N: [u8; 32] = hex32("000000000000000000000000000000004319055358e8617b0c46353d039cdaae");
/// The generator G.
const GENERATOR_X: [u8; 32] = hex32("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296");
const GENERATOR_Y: [u8; 32] = hex32("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5");

/// A 64-digit hex constant as bytes, at compile time.
const fn hex32(text: &str) -> [u8; 32] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not a lowercase hex digit"),
        }
    }
    let text = text.as_bytes();
    assert!(text.len() == 64, "expected 64 hex digits");
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nibble(text[2 * i]) << 4) | nibble(text[2 * i + 1]);
        i += 1;
    }
    out
}

/// The generator's table, built on first use (once per process).
fn generator_table() -> &'static Table<Fe> {
    static TABLE: OnceLock<Table<Fe>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let g = affine_from_bytes(&GENERATOR_X, &GENERATOR_Y);
        match g.and_then(|g| Table::new(&g, GENERATOR_WINDOW_BITS)) {
            Some(table) => table,
            // G is a constant point of order n: building its table cannot fail.
            None => unreachable!("the P-256 generator table"),
        }
    })
}

fn affine_from_bytes<F: Field>(x: &[u8; 32], y: &[u8; 32]) -> Option<Affine<F>> {
    Some(Affine { x: F::from_be_bytes(x)?, y: F::from_be_bytes(y)? })
}

/// A P-256 public key with its verification table, built on first use and shared by clones.
#[derive(Clone)]
pub struct P256Key {
    key: p256::ecdsa::VerifyingKey,
    window_bits: u32,
    table: Arc<OnceLock<Table<Fe>>>,
}

impl P256Key {
    /// Wraps a validated key ([`KEY_WINDOW_BITS`]); its table is built on its first
    /// verification. Makes sure the generator's table exists, so that no verification pays for it.
    pub fn new(key: p256::ecdsa::VerifyingKey) -> P256Key {
        P256Key::with_window_bits(key, KEY_WINDOW_BITS)
    }

    /// Like [`P256Key::new`] with another window width (clamped to 2 ..= 8 bits): a smaller
    /// window makes a smaller table (`⌈256/w⌉·2^(w−1)·64` bytes) and a slower verification.
    pub fn with_window_bits(key: p256::ecdsa::VerifyingKey, window_bits: u32) -> P256Key {
        let _ = generator_table();
        P256Key { key, window_bits: window_bits.clamp(2, 8), table: Arc::new(OnceLock::new()) }
    }

    fn table(&self) -> &Table<Fe> {
        self.table.get_or_init(|| {
            let sec1 = self.key.to_sec1_point(false);
            let bytes = sec1.as_bytes();
            let coordinate = |range: std::ops::Range<usize>| -> [u8; 32] {
                let mut out = [0u8; 32];
                if let Some(slice) = bytes.get(range) {
                    out.copy_from_slice(slice);
                }
                out
            };
            let (x, y) = (coordinate(1..33), coordinate(33..65));
            // A `VerifyingKey` is a finite point on the curve, so it has an uncompressed encoding
            // with coordinates below p, and every multiple in its table is finite.
            match affine_from_bytes(&x, &y).and_then(|q| Table::new(&q, self.window_bits)) {
                Some(table) => table,
                None => unreachable!("a validated P-256 key"),
            }
        })
    }

    /// Whether the table has been built (by a verification, or [`P256Key::table_bytes`]).
    pub fn has_table(&self) -> bool {
        self.table.get().is_some()
    }

    /// The key as `p256` holds it.
    pub fn verifying_key(&self) -> &p256::ecdsa::VerifyingKey {
        &self.key
    }

    /// Bytes of this key's table (building it if it is not yet).
    pub fn table_bytes(&self) -> usize {
        self.table().bytes()
    }

    /// Bytes of the generator's table (once per process).
    pub fn generator_table_bytes() -> usize {
        generator_table().bytes()
    }

    /// The window width of this key's table, in bits.
    pub fn window_bits(&self) -> u32 {
        self.window_bits
    }

    /// Verifies an ES256 signature (raw `r‖s`, 64 bytes, `1 ≤ r, s < n`, high-S allowed) over
    /// the exact `message` bytes. Agrees with `p256::ecdsa::VerifyingKey::verify`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        verify_with(generator_table(), self.table(), message, signature)
    }
}

impl From<p256::ecdsa::VerifyingKey> for P256Key {
    fn from(key: p256::ecdsa::VerifyingKey) -> P256Key {
        P256Key::new(key)
    }
}

/// ECDSA verification (SEC 1 §4.1.4) with both multiplications from tables.
fn verify_with<F: Field>(generator: &Table<F>, key: &Table<F>, message: &[u8], signature: &[u8]) -> bool {
    // Exactly 64 bytes, and 1 ≤ r, s < n (CVE-2022-21449): `p256`'s own parser decides.
    let Ok(signature) = p256::ecdsa::Signature::from_slice(signature) else {
        return false;
    };
    let (r, s) = signature.split_scalars();
    // e = SHA-256(message) as an integer, reduced mod n (the digest is exactly n's 256 bits).
    let digest: [u8; 32] = Sha256::digest(message).into();
    let e = p256::Scalar::reduce(&p256::U256::from_be_slice(&digest));
    let s_inv = *s.invert_vartime();
    let u1 = e * s_inv;
    let u2 = *r * s_inv;
    let mut sum = Jacobian::<F>::INFINITY;
    generator.add_multiple(&mut sum, &Limbs::from_be_bytes(&u1.to_bytes().into()));
    key.add_multiple(&mut sum, &Limbs::from_be_bytes(&u2.to_bytes().into()));
    if sum.is_infinity() {
        return false;
    }
    let r_bytes: [u8; 32] = r.to_bytes().into();
    x_matches(&sum, &r_bytes)
}

/// Whether x(R) mod n = r, where R = (X/Z², …) is finite and 1 ≤ r < n.
fn x_matches<F: Field>(point: &Jacobian<F>, r: &[u8; 32]) -> bool {
    // r < n < p, so it is a field element; x(R) < p, so x(R) mod n = r means x(R) = r or
    // x(R) = r + n, and the second is only possible when r + n < p.
    let (Some(r_field), Some(n_field)) = (F::from_be_bytes(r), F::from_be_bytes(&ORDER)) else {
        return false;
    };
    let z2 = point.z.square();
    if point.x == r_field.mul(&z2) {
        return true;
    }
    r.as_slice() < P_MINUS_N.as_slice() && point.x == r_field.add(&n_field).mul(&z2)
}

#[cfg(test)]
mod tests;
