//! The field operations the tables and the verifier use, as a trait, so that the same point code
//! runs over `p256`'s own field element (native targets) and over `field32::Fe32` (wasm32).

use p256::elliptic_curve::ff::{Field as _, PrimeField as _};
use p256::elliptic_curve::hazmat::FieldArithmetic;

/// Arithmetic modulo p = 2²⁵⁶ − 2²²⁴ + 2¹⁹² + 2⁹⁶ − 1. Elements are always fully reduced, so
/// equality of representations is equality of field elements.
pub trait Field: Copy + PartialEq + Send + Sync + 'static {
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// Reads a big-endian integer; `None` unless it is below p.
    fn from_be_bytes(bytes: &[u8; 32]) -> Option<Self>;
    /// The canonical big-endian encoding.
    #[cfg(any(test, target_arch = "wasm32"))]
    fn to_be_bytes(&self) -> [u8; 32];
    /// `self + rhs`.
    fn add(&self, rhs: &Self) -> Self;
    /// `self − rhs`.
    fn sub(&self, rhs: &Self) -> Self;
    /// `self · rhs`.
    fn mul(&self, rhs: &Self) -> Self;
    /// `self²`.
    fn square(&self) -> Self;
    /// `2 · self`.
    fn double(&self) -> Self {
        self.add(self)
    }
    /// Whether `self` is 0.
    fn is_zero(&self) -> bool;
    /// `self⁻¹`, variable time (public data only); `None` for 0.
    fn invert_vartime(&self) -> Option<Self>;
}

/// `p256`'s field element (Montgomery form, 64-bit limbs on 64-bit targets and on wasm32),
/// wrapped so that the trait can be implemented for it beside other fields.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct P256Field(Inner);

type Inner = <p256::NistP256 as FieldArithmetic>::FieldElement;

impl Field for P256Field {
    const ZERO: Self = P256Field(Inner::ZERO);
    const ONE: Self = P256Field(Inner::ONE);

    fn from_be_bytes(bytes: &[u8; 32]) -> Option<Self> {
        Option::from(Inner::from_repr(p256::FieldBytes::from(*bytes))).map(P256Field)
    }

    #[cfg(any(test, target_arch = "wasm32"))]
    fn to_be_bytes(&self) -> [u8; 32] {
        self.0.to_repr().into()
    }

    #[inline]
    fn add(&self, rhs: &Self) -> Self {
        P256Field(Inner::add(&self.0, &rhs.0))
    }

    #[inline]
    fn sub(&self, rhs: &Self) -> Self {
        P256Field(Inner::sub(&self.0, &rhs.0))
    }

    #[inline]
    fn mul(&self, rhs: &Self) -> Self {
        P256Field(Inner::multiply(&self.0, &rhs.0))
    }

    #[inline]
    fn square(&self) -> Self {
        P256Field(Inner::square(&self.0))
    }

    #[inline]
    fn double(&self) -> Self {
        P256Field(Inner::double(&self.0))
    }

    #[inline]
    fn is_zero(&self) -> bool {
        self.0.is_zero_vartime()
    }

    fn invert_vartime(&self) -> Option<Self> {
        Option::from(Inner::invert_vartime(&self.0)).map(P256Field)
    }
}
