//! Arithmetic modulo p = 2²⁵⁶ − 2²²⁴ + 2¹⁹² + 2⁹⁶ − 1 with eight 32-bit limbs, for wasm32.
//!
//! Why: wasm has no 64×64→128-bit multiply, so `p256`'s 64-bit-limb field pays for an emulated
//! 128-bit product (`__multi3`) on every limb product. Here every product is 32×32→64 bits, one
//! native `i64.mul`, and reduction uses p's shape instead of Montgomery multiplication: the
//! 512-bit product is folded with the word-level identity of FIPS 186-4 D.2.3 (signed sums of
//! the upper words), then small carries are folded with 2²⁵⁶ ≡ 2²²⁴ − 2¹⁹² − 2⁹⁶ + 1.
//!
//! Elements are canonical (below p) little-endian limbs, so equality is limb equality. Variable
//! time: verification handles public data only. Tested against `p256`'s field in the unit
//! tests below (edge values pairwise, random values, and the whole ES256 verify).

use super::field::{Field, P256Field};

/// p, least significant limb first.
const P: [u32; 8] = [0xffff_ffff, 0xffff_ffff, 0xffff_ffff, 0, 0, 0, 1, 0xffff_ffff];

/// An element of the P-256 base field, canonical, least significant limb first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fe32([u32; 8]);

/// The low 32 bits of a 64-bit value.
#[inline(always)]
fn low(x: u64) -> u32 {
    // Truncation intended: the high half is taken separately.
    #[allow(clippy::as_conversions)]
    let l = x as u32;
    l
}

/// The low 32 bits of a signed 64-bit value (two's complement).
#[inline(always)]
fn low_signed(x: i64) -> u32 {
    // Truncation intended: carries are propagated by the caller's arithmetic shift.
    #[allow(clippy::as_conversions)]
    let l = x as u32;
    l
}

/// Whether `a ≥ p`.
#[inline(always)]
fn at_least_p(a: &[u32; 8]) -> bool {
    for i in (0..8).rev() {
        if a[i] != P[i] {
            return a[i] > P[i];
        }
    }
    true
}

/// `a − p` (the caller knows a ≥ p, or a + 2²⁵⁶ ≥ p with the carry dropped).
#[inline(always)]
fn sub_p(a: &mut [u32; 8]) {
    let mut borrow = 0i64;
    for i in 0..8 {
        let t = i64::from(a[i]) - i64::from(P[i]) + borrow;
        a[i] = low_signed(t);
        borrow = t >> 32;
    }
}

/// Reduces signed word sums (value = Σ wᵢ·2³²ⁱ, each |wᵢ| < 2⁶²) to the canonical element.
#[inline(always)]
fn reduce_words(mut w: [i64; 8]) -> Fe32 {
    let mut out = [0u32; 8];
    loop {
        let mut carry = 0i64;
        for i in 0..8 {
            let t = w[i] + carry;
            out[i] = low_signed(t);
            carry = t >> 32;
        }
        if carry == 0 {
            break;
        }
        // value = out + carry·2²⁵⁶ ≡ out + carry·(2²²⁴ − 2¹⁹² − 2⁹⁶ + 1). Each round shrinks
        // |carry| (to at most 1 after the first), so this ends after a few rounds.
        for i in 0..8 {
            w[i] = i64::from(out[i]);
        }
        w[0] += carry;
        w[3] -= carry;
        w[6] -= carry;
        w[7] += carry;
    }
    while at_least_p(&out) {
        sub_p(&mut out);
    }
    Fe32(out)
}

impl Fe32 {
    /// The 512-bit product as sixteen 32-bit words.
    #[inline(always)]
    fn wide_mul(a: &[u32; 8], b: &[u32; 8]) -> [u64; 16] {
        let mut r = [0u64; 16];
        for i in 0..8 {
            let mut carry = 0u64;
            let ai = u64::from(a[i]);
            for j in 0..8 {
                // (2³²−1)² + 2·(2³²−1) = 2⁶⁴ − 1: no overflow.
                let t = ai * u64::from(b[j]) + r[i + j] + carry;
                r[i + j] = u64::from(low(t));
                carry = t >> 32;
            }
            r[i + 8] = carry;
        }
        r
    }

    /// The 512-bit square: the cross products once, doubled, plus the diagonal.
    #[inline(always)]
    fn wide_square(a: &[u32; 8]) -> [u64; 16] {
        let mut r = [0u64; 16];
        for i in 0..8 {
            let mut carry = 0u64;
            let ai = u64::from(a[i]);
            for j in (i + 1)..8 {
                let t = ai * u64::from(a[j]) + r[i + j] + carry;
                r[i + j] = u64::from(low(t));
                carry = t >> 32;
            }
            r[i + 8] = carry;
        }
        // Double the cross products and add the squares aᵢ², word by word.
        let mut carry = 0u64;
        for i in 0..8 {
            let sq = u64::from(a[i]) * u64::from(a[i]);
            let t = (r[2 * i] << 1) + u64::from(low(sq)) + carry;
            r[2 * i] = u64::from(low(t));
            let t = (r[2 * i + 1] << 1) + (sq >> 32) + (t >> 32);
            r[2 * i + 1] = u64::from(low(t));
            carry = t >> 32;
        }
        r
    }

    /// Reduces a 512-bit value mod p with FIPS 186-4 D.2.3's word sums.
    #[inline(always)]
    fn reduce_wide(c: &[u64; 16]) -> Fe32 {
        let c: [i64; 16] = core::array::from_fn(|i| {
            // Each word is below 2³² (a `low` result): exact.
            i64::try_from(c[i]).unwrap_or(0)
        });
        // value ≡ s1 + 2·s2 + 2·s3 + s4 + s5 − s6 − s7 − s8 − s9, gathered per word.
        let w = [
            c[0] + c[8] + c[9] - c[11] - c[12] - c[13] - c[14],
            c[1] + c[9] + c[10] - c[12] - c[13] - c[14] - c[15],
            c[2] + c[10] + c[11] - c[13] - c[14] - c[15],
            c[3] + 2 * c[11] + 2 * c[12] + c[13] - c[15] - c[8] - c[9],
            c[4] + 2 * c[12] + 2 * c[13] + c[14] - c[9] - c[10],
            c[5] + 2 * c[13] + 2 * c[14] + c[15] - c[10] - c[11],
            c[6] + 3 * c[14] + 2 * c[15] + c[13] - c[8] - c[9],
            c[7] + 3 * c[15] + c[8] - c[10] - c[11] - c[12] - c[13],
        ];
        reduce_words(w)
    }
}

impl Field for Fe32 {
    const ZERO: Self = Fe32([0; 8]);
    const ONE: Self = Fe32([1, 0, 0, 0, 0, 0, 0, 0]);

    fn from_be_bytes(bytes: &[u8; 32]) -> Option<Self> {
        let mut limbs = [0u32; 8];
        for (limb, chunk) in limbs.iter_mut().zip(bytes.rchunks_exact(4)) {
            let mut word = [0u8; 4];
            word.copy_from_slice(chunk);
            *limb = u32::from_be_bytes(word);
        }
        if at_least_p(&limbs) { None } else { Some(Fe32(limbs)) }
    }

    fn to_be_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (chunk, limb) in out.rchunks_exact_mut(4).zip(self.0) {
            chunk.copy_from_slice(&limb.to_be_bytes());
        }
        out
    }

    #[inline]
    fn add(&self, rhs: &Self) -> Self {
        let mut out = [0u32; 8];
        let mut carry = 0u64;
        for ((o, a), b) in out.iter_mut().zip(self.0).zip(rhs.0) {
            let t = u64::from(a) + u64::from(b) + carry;
            *o = low(t);
            carry = t >> 32;
        }
        // a + b < 2p: one subtraction, dropping the 2²⁵⁶ carry, makes it canonical.
        if carry != 0 || at_least_p(&out) {
            sub_p(&mut out);
        }
        Fe32(out)
    }

    #[inline]
    fn sub(&self, rhs: &Self) -> Self {
        let mut out = [0u32; 8];
        let mut borrow = 0i64;
        for ((o, a), b) in out.iter_mut().zip(self.0).zip(rhs.0) {
            let t = i64::from(a) - i64::from(b) + borrow;
            *o = low_signed(t);
            borrow = t >> 32;
        }
        if borrow != 0 {
            // a − b + 2²⁵⁶ was stored: add p, and the carry out cancels the 2²⁵⁶.
            let mut carry = 0u64;
            for (o, p) in out.iter_mut().zip(P) {
                let t = u64::from(*o) + u64::from(p) + carry;
                *o = low(t);
                carry = t >> 32;
            }
        }
        Fe32(out)
    }

    #[inline]
    fn mul(&self, rhs: &Self) -> Self {
        Fe32::reduce_wide(&Fe32::wide_mul(&self.0, &rhs.0))
    }

    #[inline]
    fn square(&self) -> Self {
        Fe32::reduce_wide(&Fe32::wide_square(&self.0))
    }

    #[inline]
    fn is_zero(&self) -> bool {
        self.0 == [0; 8]
    }

    fn invert_vartime(&self) -> Option<Self> {
        // Only table building inverts (twice per table): borrow `p256`'s inversion.
        let inverse = Field::invert_vartime(&<P256Field as Field>::from_be_bytes(&self.to_be_bytes())?)?;
        Fe32::from_be_bytes(&inverse.to_be_bytes())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// p, big-endian.
    const P_BE: [u8; 32] = crate::p256_fast::hex32("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");

    fn pair(bytes: &[u8; 32]) -> (Fe32, P256Field) {
        (Fe32::from_be_bytes(bytes).unwrap(), P256Field::from_be_bytes(bytes).unwrap())
    }

    /// Values where carries, borrows and the reduction's word sums are at their limits.
    fn edge_values() -> Vec<[u8; 32]> {
        let mut values = Vec::new();
        let from_u64 = |v: u64| {
            let mut b = [0u8; 32];
            b[24..].copy_from_slice(&v.to_be_bytes());
            b
        };
        for v in [0u64, 1, 2, 3, 0xffff_ffff, 0x1_0000_0000, u64::MAX] {
            values.push(from_u64(v));
        }
        // p − k
        for k in 1u8..=4 {
            let mut b = P_BE;
            b[31] -= k;
            values.push(b);
        }
        // Single bits and all-ones words at each 32-bit position, below p.
        for word in 0..8 {
            for pattern in [[0, 0, 0, 1], [0x80, 0, 0, 0], [0xff, 0xff, 0xff, 0xff]] {
                let mut b = [0u8; 32];
                b[28 - 4 * word..32 - 4 * word].copy_from_slice(&pattern);
                if Fe32::from_be_bytes(&b).is_some() {
                    values.push(b);
                }
            }
        }
        // p's own words shifted around: 2²²⁴, 2¹⁹², 2⁹⁶, 2²⁵⁶ − 2²²⁴ − 1 (= p − 2¹⁹² − 2⁹⁶ < p).
        let mut b = [0xff; 32];
        b[..4].copy_from_slice(&[0xff, 0xff, 0xff, 0xfe]);
        b[4..8].copy_from_slice(&[0, 0, 0, 0]);
        values.push(b);
        values
    }

    fn random_values(count: usize, seed: u64) -> Vec<[u8; 32]> {
        let mut state = seed;
        let mut out = Vec::new();
        while out.len() < count {
            let mut b = [0u8; 32];
            for chunk in b.chunks_mut(8) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                chunk.copy_from_slice(&state.to_be_bytes());
            }
            // Sparse values too: zero some words, saturate others.
            match state % 4 {
                0 => b[..16].fill(0),
                1 => b[8..24].fill(0xff),
                _ => {}
            }
            if Fe32::from_be_bytes(&b).is_some() {
                out.push(b);
            }
        }
        out
    }

    fn check_ops(a: &[u8; 32], b: &[u8; 32]) {
        let ((x, px), (y, py)) = (pair(a), pair(b));
        assert_eq!(x.add(&y).to_be_bytes(), px.add(&py).to_be_bytes(), "add");
        assert_eq!(x.sub(&y).to_be_bytes(), px.sub(&py).to_be_bytes(), "sub");
        assert_eq!(x.mul(&y).to_be_bytes(), px.mul(&py).to_be_bytes(), "mul");
        assert_eq!(x.square().to_be_bytes(), px.square().to_be_bytes(), "square");
        assert_eq!(x.double().to_be_bytes(), px.double().to_be_bytes(), "double");
        assert_eq!(x.is_zero(), px.is_zero(), "is_zero");
    }

    #[test]
    fn encoding_round_trips_and_refuses_p_and_above() {
        for v in edge_values() {
            assert_eq!(Fe32::from_be_bytes(&v).unwrap().to_be_bytes(), v);
        }
        assert!(Fe32::from_be_bytes(&P_BE).is_none());
        assert!(Fe32::from_be_bytes(&[0xff; 32]).is_none());
        let mut p_plus_one = P_BE;
        p_plus_one[31] = 0;
        p_plus_one[30] = 0;
        assert!(Fe32::from_be_bytes(&p_plus_one).is_none() || p_plus_one < P_BE);
    }

    #[test]
    fn edge_values_pairwise_match_p256() {
        let values = edge_values();
        for a in &values {
            for b in &values {
                check_ops(a, b);
            }
        }
    }

    #[test]
    fn random_values_match_p256() {
        let count = std::env::var("EDGEWARD_FIELD_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
        let values = random_values(count + 1, 0x1234_5678_9abc_def1);
        for pair in values.windows(2) {
            check_ops(&pair[0], &pair[1]);
        }
        // Mixed with edge values.
        for a in edge_values() {
            for b in values.iter().take(200) {
                check_ops(&a, b);
                check_ops(b, &a);
            }
        }
    }

    #[test]
    fn identities() {
        let minus_one = Fe32::ZERO.sub(&Fe32::ONE);
        assert_eq!(minus_one.square(), Fe32::ONE); // (p − 1)² = 1
        assert_eq!(minus_one.add(&Fe32::ONE), Fe32::ZERO);
        assert_eq!(Fe32::ZERO.sub(&Fe32::ZERO), Fe32::ZERO);
        for v in random_values(50, 7) {
            let x = Fe32::from_be_bytes(&v).unwrap();
            if !x.is_zero() {
                assert_eq!(x.mul(&x.invert_vartime().unwrap()), Fe32::ONE);
            }
            assert_eq!(x.mul(&Fe32::ONE), x);
            assert_eq!(x.mul(&Fe32::ZERO), Fe32::ZERO);
            assert_eq!(x.sub(&x), Fe32::ZERO);
        }
        assert_eq!(Fe32::ZERO.invert_vartime(), None);
    }
}
