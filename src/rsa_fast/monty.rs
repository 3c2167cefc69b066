//! The RSA public operation `s^e mod n` on a Montgomery kernel of its own, for RS*/PS* verification
//! on wasm (and on every target with the feature `rsa-kernel`, for tests and benchmarks).
//!
//! Numbers are little-endian vectors of `w`-bit limbs held in `u64`s, with `w` = 28 for moduli up
//! to 3,584 bits and 27 above (up to 13,824 bits; smaller radices beyond). The products of two
//! limbs are below 2^56, so a column of the schoolbook product — at most 2·L of them, L = ⌈bits / w⌉
//! — adds up in one `u64` with no carry handling in the inner loop: one multiplication and one
//! addition per limb product. That suits wasm, which has a native 64-bit multiply but no
//! 64 × 64 → 128 one: `crypto-bigint` on wasm32 works in 64-bit limbs (its `cpubits` promotes
//! wasm32), each 128-bit limb product emulated with several 64-bit multiplies and carries, and
//! allocates per operation. A 2048-bit modulus takes 74 limbs of 28 bits (instead of 32 of 64):
//! 2·74² = 10,952 native limb products per Montgomery multiplication instead of 2·32² = 2,048
//! emulated ones. Natively, with a 128-bit multiply in hardware, `crypto-bigint` is faster (see
//! `super`).
//!
//! Montgomery multiplication is product scanning with the reduction folded in (FIPS: column by
//! column, the quotient digit of each low column chosen as the column completes), R = 2^(w·L).
//! Squaring computes each cross product once and doubles it: 1.5·L² limb products instead of
//! 2·L². For e = 65537 a verification is one multiplication into Montgomery form (by R² mod n),
//! 16 squarings, and a last multiplication by `s` itself, which leaves Montgomery form as it
//! multiplies. Every result is fully reduced (below n) by one conditional subtraction.
//!
//! Everything here is variable time (branches and loop bounds depend on the values): it handles
//! public data only — a signature, a public key, a public exponent. Never use it with secrets.

/// Largest radix tried: limb products below 2^56 leave 8 bits of headroom per column.
const MAX_RADIX_BITS: u32 = 28;
/// Smallest radix tried: enough for any modulus below 2^35 bits.
const MIN_RADIX_BITS: u32 = 16;

/// An odd modulus n ≥ 3 prepared for Montgomery arithmetic in radix 2^w: built once per key.
#[derive(Clone, Debug)]
pub(crate) struct Modulus {
    /// n in big-endian octets, without leading zeros (k octets).
    be: Vec<u8>,
    /// n in little-endian w-bit limbs (L of them).
    n: Vec<u64>,
    /// The same limbs, most significant first: column sums pair `q_j` with `n_(i−j)`, and reading
    /// both forwards lets wasm address every load with a constant offset.
    n_rev: Vec<u64>,
    /// w: the radix is 2^w.
    w: u32,
    /// 2^w − 1.
    mask: u64,
    /// −n⁻¹ mod 2^w.
    n0_inv: u64,
    /// R² mod n, R = 2^(w·L): multiplying by it enters Montgomery form.
    r2: Vec<u64>,
}

/// Scratch space for one exponentiation: allocated once per call, never inside the loop.
struct Scratch {
    /// Quotient digits of the multiplication in progress.
    q: Vec<u64>,
    /// Its second operand, most significant limb first.
    rev: Vec<u64>,
    /// Its result, swapped with the accumulator after each operation.
    out: Vec<u64>,
}

impl Scratch {
    fn new(limbs: usize) -> Scratch {
        Scratch { q: vec![0; limbs], rev: vec![0; limbs], out: vec![0; limbs] }
    }
}

impl Modulus {
    /// Prepares the big-endian modulus `n`; `None` if it is even or below 3 (the `rsa` crate has
    /// refused those already) or too long for every radix.
    pub(crate) fn new(n: &[u8]) -> Option<Modulus> {
        let be = strip_leading_zeros(n).to_vec();
        let (&first, &last) = (be.first()?, be.last()?);
        if last & 1 == 0 || (be.len() == 1 && first < 3) {
            return None;
        }
        let bits = u64::try_from(be.len()).ok()?.checked_mul(8)? - u64::from(first.leading_zeros());
        let (w, limbs) = radix_for(bits)?;
        let mask = (1u64 << w) - 1;
        let mut modulus =
            Modulus { be: Vec::new(), n: vec![0; limbs], n_rev: Vec::new(), w, mask, n0_inv: 0, r2: vec![0; limbs] };
        modulus.n = modulus.limbs_from_be(&be);
        modulus.n_rev = modulus.n.iter().rev().copied().collect();
        modulus.be = be;
        modulus.n0_inv = neg_inverse(modulus.n[0]) & mask;
        modulus.r2 = modulus.r_squared(bits);
        Some(modulus)
    }

    /// `base^exponent mod n` as k big-endian octets (k = the modulus's length), for big-endian
    /// `base` and `exponent`; `None` if `base ≥ n`.
    pub(crate) fn pow_vartime(&self, base: &[u8], exponent: &[u8]) -> Option<Vec<u8>> {
        if !self.is_above(base) {
            return None;
        }
        let plain = self.limbs_from_be(base);
        let one = self.limbs_from_be(&[1]);
        let mut bits = exponent.iter().flat_map(|&byte| (0..8).rev().map(move |i| (byte >> i) & 1 == 1));
        // The exponent's top bit (e = 0: 1; e = 1: the base itself).
        if !bits.any(|bit| bit) {
            return Some(self.limbs_to_be(&one));
        }
        let Some(mut last) = bits.next() else { return Some(self.limbs_to_be(&plain)) };
        let limbs = self.n.len();
        let mut scratch = Scratch::new(limbs);
        self.mul(&plain, &self.r2, &mut scratch);
        let base = scratch.out.clone();
        let mut acc = base.clone();
        // Left to right; the last bit is handled below.
        for bit in bits {
            self.square_into(&mut acc, &mut scratch);
            if last {
                self.mul_into(&mut acc, &base, &mut scratch);
            }
            last = bit;
        }
        self.square_into(&mut acc, &mut scratch);
        // A last multiplication by the plain base (or by 1) also leaves Montgomery form:
        // (x·R)·s·R⁻¹ = x·s.
        self.mul_into(&mut acc, if last { &plain } else { &one }, &mut scratch);
        Some(self.limbs_to_be(&acc))
    }

    /// `acc = acc² · R⁻¹ mod n`.
    fn square_into(&self, acc: &mut Vec<u64>, scratch: &mut Scratch) {
        self.square(acc, scratch);
        core::mem::swap(acc, &mut scratch.out);
    }

    /// `acc = acc · b · R⁻¹ mod n`.
    fn mul_into(&self, acc: &mut Vec<u64>, b: &[u64], scratch: &mut Scratch) {
        self.mul(acc, b, scratch);
        core::mem::swap(acc, &mut scratch.out);
    }

    /// Montgomery multiplication: `scratch.out = a · b · R⁻¹ mod n`, fully reduced, for `a, b < n`
    /// in normalised limbs. Column i of a·b + q·n is `Σ a_j·b_(i−j) + Σ q_j·n_(i−j)`; the low L
    /// columns are divided away one by one (the quotient digit q_i makes column i a multiple of
    /// 2^w), the high ones are the result, below 2n before the subtraction.
    fn mul(&self, a: &[u64], b: &[u64], scratch: &mut Scratch) {
        let (nr, w, mask) = (&self.n_rev[..], self.w, self.mask);
        let limbs = nr.len();
        let Scratch { q, rev: br, out } = scratch;
        debug_assert!(a.len() == limbs && b.len() == limbs && q.len() == limbs && out.len() == limbs);
        for (r, &limb) in br.iter_mut().zip(b.iter().rev()) {
            *r = limb;
        }
        // With the reversed limbs, b_(i−j) = br[L − 1 − i + j] and n_(i−j) = nr[L − 1 − i + j].
        // The column sum, carry included, stays below 2^64 by the radix choice (see `radix_for`).
        let mut acc = 0u64;
        for i in 0..limbs {
            let top = limbs - 1 - i;
            for (((&aj, &qj), &bk), &nk) in a[..i].iter().zip(&q[..i]).zip(&br[top..]).zip(&nr[top..]) {
                acc += aj * bk + qj * nk;
            }
            acc += a[i] * b[0];
            let qi = acc.wrapping_mul(self.n0_inv) & mask;
            q[i] = qi;
            acc = (acc + qi * self.n[0]) >> w;
        }
        for i in limbs..2 * limbs - 1 {
            let low = i + 1 - limbs;
            for (((&aj, &qj), &bk), &nk) in a[low..].iter().zip(&q[low..]).zip(&br[..]).zip(nr) {
                acc += aj * bk + qj * nk;
            }
            out[i - limbs] = acc & mask;
            acc >>= w;
        }
        out[limbs - 1] = acc;
        self.subtract_if_not_below(out);
    }

    /// Montgomery squaring: `scratch.out = a² · R⁻¹ mod n`, as [`Modulus::mul`] with b = a, each
    /// cross product a_j·a_(i−j) (j < i − j) computed once and doubled.
    fn square(&self, a: &[u64], scratch: &mut Scratch) {
        let (nr, w, mask) = (&self.n_rev[..], self.w, self.mask);
        let limbs = nr.len();
        let Scratch { q, rev: ar, out } = scratch;
        debug_assert!(a.len() == limbs && q.len() == limbs && out.len() == limbs);
        for (r, &limb) in ar.iter_mut().zip(a.iter().rev()) {
            *r = limb;
        }
        let mut acc = 0u64;
        for i in 0..limbs {
            let top = limbs - 1 - i;
            // j < i − j: j in 0..⌈i / 2⌉, a_(i−j) = ar[L − 1 − i + j].
            let half = i.div_ceil(2);
            let cross: u64 = a[..half].iter().zip(&ar[top..]).map(|(&x, &y)| x * y).sum();
            acc += cross << 1;
            if i % 2 == 0 {
                acc += a[i / 2] * a[i / 2];
            }
            for (&qj, &nk) in q[..i].iter().zip(&nr[top..]) {
                acc += qj * nk;
            }
            let qi = acc.wrapping_mul(self.n0_inv) & mask;
            q[i] = qi;
            acc = (acc + qi * self.n[0]) >> w;
        }
        for i in limbs..2 * limbs - 1 {
            let low = i + 1 - limbs;
            let half = i.div_ceil(2);
            let cross: u64 = a[low..half].iter().zip(&ar[..]).map(|(&x, &y)| x * y).sum();
            acc += cross << 1;
            if i % 2 == 0 {
                acc += a[i / 2] * a[i / 2];
            }
            for (&qj, &nk) in q[low..].iter().zip(nr) {
                acc += qj * nk;
            }
            out[i - limbs] = acc & mask;
            acc >>= w;
        }
        out[limbs - 1] = acc;
        self.subtract_if_not_below(out);
    }

    /// `t = t − n` if `t ≥ n`: for `t < 2n` whose limbs are normalised except the top one, the
    /// result is below n and normalised.
    fn subtract_if_not_below(&self, t: &mut [u64]) {
        let below = t.iter().zip(&self.n).rev().find(|(tj, nj)| tj != nj).is_some_and(|(tj, nj)| tj < nj);
        if below {
            return;
        }
        let mut borrow = 0u64;
        for (tj, &nj) in t.iter_mut().zip(&self.n) {
            let d = tj.wrapping_sub(nj).wrapping_sub(borrow);
            borrow = d >> 63;
            *tj = d & self.mask;
        }
        debug_assert_eq!(borrow, 0);
    }

    /// `x = 2x mod n` for `x < n`.
    fn double(&self, x: &mut [u64]) {
        let mut carry = 0u64;
        if let Some((top, rest)) = x.split_last_mut() {
            for limb in rest {
                let v = (*limb << 1) | carry;
                carry = v >> self.w;
                *limb = v & self.mask;
            }
            *top = (*top << 1) | carry;
        }
        self.subtract_if_not_below(x);
    }

    /// R² mod n, R = 2^(w·L), for an n of `bits` bits: 2^(bits−1) < n doubled up to R mod n (the
    /// Montgomery form of 1), then raised to 2^(w·L) in Montgomery form — a squaring per bit of
    /// w·L, and a doubling (2·x̃ is the form of 2·x) per one bit — giving the form of R, R² mod n.
    fn r_squared(&self, bits: u64) -> Vec<u64> {
        let limbs = self.n.len();
        let width = u64::from(self.w) * u64::try_from(limbs).unwrap_or(0);
        let mut x = vec![0u64; limbs];
        let top = bits - 1;
        if let (Ok(at), Ok(shift)) = (usize::try_from(top / u64::from(self.w)), u32::try_from(top % u64::from(self.w)))
        {
            if let Some(limb) = x.get_mut(at) {
                *limb = 1 << shift;
            }
        }
        for _ in top..width {
            self.double(&mut x);
        }
        let mut scratch = Scratch::new(limbs);
        for i in (0..64 - width.leading_zeros()).rev() {
            self.square_into(&mut x, &mut scratch);
            if (width >> i) & 1 == 1 {
                self.double(&mut x);
            }
        }
        x
    }

    /// `value > bytes` as numbers (big-endian `bytes`, leading zeros allowed).
    fn is_above(&self, bytes: &[u8]) -> bool {
        let bytes = strip_leading_zeros(bytes);
        (bytes.len(), bytes) < (self.be.len(), &self.be[..])
    }

    /// A big-endian number below 2^(w·L) as L little-endian limbs (higher bits are dropped).
    fn limbs_from_be(&self, bytes: &[u8]) -> Vec<u64> {
        let mut limbs = vec![0u64; self.n.len()];
        let mut out = limbs.iter_mut();
        let (mut buffer, mut filled) = (0u64, 0u32);
        for &byte in bytes.iter().rev() {
            buffer |= u64::from(byte) << filled;
            filled += 8;
            if filled >= self.w {
                if let Some(limb) = out.next() {
                    *limb = buffer & self.mask;
                }
                buffer >>= self.w;
                filled -= self.w;
            }
        }
        if let Some(limb) = out.next() {
            *limb = buffer;
        }
        limbs
    }

    /// Normalised limbs of a value below n as k big-endian octets.
    fn limbs_to_be(&self, limbs: &[u64]) -> Vec<u8> {
        let mut bytes = vec![0u8; self.be.len()];
        let mut limbs = limbs.iter();
        let (mut buffer, mut filled) = (0u64, 0u32);
        for byte in bytes.iter_mut().rev() {
            if filled < 8 {
                if let Some(&limb) = limbs.next() {
                    buffer |= limb << filled;
                    filled += self.w;
                }
            }
            *byte = buffer.to_le_bytes()[0];
            buffer >>= 8;
            filled = filled.saturating_sub(8);
        }
        bytes
    }
}

/// The radix 2^w and limb count L for a modulus of `bits` bits: the largest w (at most 28) whose
/// column sums cannot overflow. A column holds at most 2·L products below (2^w − 1)², plus the
/// carry from the column below it, at most (2^64 − 1) >> w.
fn radix_for(bits: u64) -> Option<(u32, usize)> {
    (MIN_RADIX_BITS..=MAX_RADIX_BITS).rev().find_map(|w| {
        let limbs = bits.div_ceil(u64::from(w));
        let largest = ((1u64 << w) - 1) * ((1u64 << w) - 1);
        // `None` (try a smaller radix) if the largest column sum does not fit in a u64.
        limbs.checked_mul(2)?.checked_mul(largest)?.checked_add(u64::MAX >> w)?;
        Some((w, usize::try_from(limbs).ok()?))
    })
}

/// −x⁻¹ mod 2^64 for odd x (Newton's iteration: each step doubles the correct low bits, and x is
/// its own inverse mod 8).
fn neg_inverse(x: u64) -> u64 {
    let mut inverse = x;
    for _ in 0..5 {
        inverse = inverse.wrapping_mul(2u64.wrapping_sub(x.wrapping_mul(inverse)));
    }
    inverse.wrapping_neg()
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
    use crypto_bigint::{BoxedUint, NonZero, Odd};

    /// SplitMix64: seeded test data.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
        fn bytes(&mut self, len: usize) -> Vec<u8> {
            (0..len).map(|_| self.next().to_le_bytes()[0]).collect()
        }
    }

    fn uint(bytes: &[u8]) -> BoxedUint {
        BoxedUint::from_be_slice_vartime(bytes)
    }

    /// `bytes` as a number of `precision` bits.
    fn wide(bytes: &[u8], precision: u32) -> BoxedUint {
        BoxedUint::from_be_slice(strip_leading_zeros(bytes), precision).unwrap()
    }

    /// crypto-bigint's `base^e mod n` (its own constant-time exponentiation) as k octets.
    fn reference_pow(n: &[u8], base: &[u8], e: &[u8]) -> Vec<u8> {
        let n_uint = uint(n);
        let precision = n_uint.bits_precision();
        let params = BoxedMontyParams::new(Odd::new(n_uint).unwrap());
        let base = BoxedMontyForm::new(wide(base, precision), &params);
        let value = base.pow(&uint(e)).retrieve().to_be_bytes();
        value[value.len() - strip_leading_zeros(n).len()..].to_vec()
    }

    /// A random odd modulus of `bits` bits whose top 32 bits are `top` (0: random).
    fn modulus_bytes(rng: &mut Rng, bits: usize, top: u32) -> Vec<u8> {
        let len = bits.div_ceil(8);
        let mut n = rng.bytes(len);
        let unused = 8 * len - bits;
        n[0] = (n[0] & (0xff >> unused)) | (0x80 >> unused);
        if top != 0 {
            // The top 32 bits of the value, aligned to the first octet (bits divisible by 8).
            assert_eq!(unused, 0);
            n[..4].copy_from_slice(&top.to_be_bytes());
        }
        *n.last_mut().unwrap() |= 1;
        n
    }

    /// A random value below n (by clearing its top octet's bits above n's).
    fn below(rng: &mut Rng, n: &[u8]) -> Vec<u8> {
        let mut value = rng.bytes(n.len());
        value[0] &= n[0] >> 1;
        value
    }

    /// `n − d` in as many octets as n (n > d).
    fn n_minus(n: &[u8], d: u8) -> Vec<u8> {
        let mut value = n.to_vec();
        let mut borrow = d;
        for octet in value.iter_mut().rev() {
            let (v, under) = octet.overflowing_sub(borrow);
            *octet = v;
            borrow = u8::from(under);
        }
        value
    }

    #[test]
    fn radix_is_28_bits_up_to_3584_and_columns_never_overflow() {
        assert_eq!(radix_for(2048), Some((28, 74)));
        assert_eq!(radix_for(3584), Some((28, 128)));
        assert_eq!(radix_for(3585), Some((27, 133)));
        assert_eq!(radix_for(4096), Some((27, 152)));
        assert_eq!(radix_for(8192), Some((27, 304)));
        assert_eq!(radix_for(13_824), Some((27, 512)));
        assert_eq!(radix_for(13_825), Some((26, 532)));
        for bits in [2u64, 64, 1024, 2047, 2048, 2049, 3072, 3584, 3585, 4096, 8192, 13_824, 13_825, 100_000] {
            let (w, limbs) = radix_for(bits).unwrap();
            let limbs = u128::from(u64::try_from(limbs).unwrap());
            assert!(u128::from(w) * limbs >= u128::from(bits));
            let product = (1u128 << w) - 1;
            assert!(2 * limbs * product * product + (u128::from(u64::MAX) >> w) <= u128::from(u64::MAX), "{bits}");
        }
    }

    #[test]
    fn the_montgomery_constants_are_right() {
        let mut rng = Rng(7);
        for (bits, top) in
            [(2048, 0), (2048, 0x8000_0000), (2048, 0xffff_ffff), (2049, 0), (3072, 0), (4096, 0), (8192, 0)]
        {
            let n = modulus_bytes(&mut rng, bits, top);
            let m = Modulus::new(&n).unwrap();
            assert_eq!(m.n[0].wrapping_mul(m.n0_inv) & m.mask, m.mask, "n·n0' ≡ −1 mod 2^w");
            assert_eq!(m.limbs_to_be(&m.n), n);
            assert!(m.n.iter().all(|&limb| limb <= m.mask));
            let width = m.w * u32::try_from(m.n.len()).unwrap();
            let r2 = BoxedUint::one_with_precision(2 * width + 64)
                .shl_vartime(2 * width)
                .unwrap()
                .rem_vartime(&NonZero::new(uint(&n)).unwrap());
            let expected = r2.to_be_bytes();
            assert_eq!(m.limbs_to_be(&m.r2), expected[expected.len() - n.len()..], "R² mod n, {bits} bits");
        }
    }

    #[test]
    fn refuses_even_and_tiny_moduli_and_bases_not_below_n() {
        assert!(Modulus::new(&[]).is_none());
        assert!(Modulus::new(&[0, 0]).is_none());
        assert!(Modulus::new(&[1]).is_none());
        assert!(Modulus::new(&[0x01, 0x00]).is_none());
        let m = Modulus::new(&[0, 0x01, 0x01]).unwrap(); // 257, leading zero dropped
        assert_eq!(m.pow_vartime(&[0x01, 0x01], &[3]), None);
        assert_eq!(m.pow_vartime(&[0x01, 0x02], &[3]), None);
        assert_eq!(m.pow_vartime(&[0, 0, 0x01, 0x00], &[3]), Some(vec![0x01, 0x00])); // (−1)³
        assert_eq!(m.pow_vartime(&[2], &[8]), Some(vec![0x01, 0x00])); // 2^8 = 256
        assert_eq!(m.pow_vartime(&[2], &[9]), Some(vec![0x00, 0xff])); // 512 mod 257
    }

    #[test]
    fn edge_values_match_crypto_bigint() {
        let mut rng = Rng(11);
        for (bits, top) in [
            (2048, 0),
            (2048, 0x8000_0000),
            (2048, 0xffff_ffff),
            (2047, 0),
            (2049, 0),
            (3072, 0x8000_0000),
            (4096, 0xffff_ffff),
        ] {
            let n = modulus_bytes(&mut rng, bits, top);
            let m = Modulus::new(&n).unwrap();
            let width = m.w * u32::try_from(m.n.len()).unwrap();
            // R mod n and values next to it, as k octets.
            let r_mod_n = BoxedUint::one_with_precision(width + 64)
                .shl_vartime(width)
                .unwrap()
                .rem_vartime(&NonZero::new(uint(&n)).unwrap());
            let r = r_mod_n.to_be_bytes();
            let r = r[r.len() - n.len()..].to_vec();
            let mut bases = vec![
                vec![0u8; n.len()],
                vec![1],
                vec![2],
                n_minus(&n, 1),
                n_minus(&n, 2),
                r.clone(),
                vec![0xff; n.len() - 1],
            ];
            bases.push(n[..n.len() - 1].to_vec()); // about n / 256
            let mut r_plus = r.clone();
            *r_plus.last_mut().unwrap() ^= 1;
            bases.push(r_plus);
            bases.push(below(&mut rng, &n));
            for base in &bases {
                for e in [
                    &[0u8][..],
                    &[1],
                    &[2],
                    &[3],
                    &[17],
                    &[0x01, 0x00, 0x01],
                    &[0x01, 0x00, 0x00],
                    &[0x01, 0xff, 0xff, 0xff, 0xff],
                    &[0xff; 8],
                ] {
                    assert_eq!(m.pow_vartime(base, e), Some(reference_pow(&n, base, e)), "{bits} bits, e {e:02x?}");
                }
            }
            assert_eq!(m.pow_vartime(&n, &[3]), None);
            assert_eq!(m.pow_vartime(&[0xff; 600], &[3]), None);
        }
    }

    fn env_number(name: &str, default: u64) -> u64 {
        std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
    }

    /// `EDGEWARD_RSA_KERNEL_CASES` random moduli (default 60; `make fuzz-differential` runs more),
    /// each with a random base — uniform below n, small, or just below n — raised to 65537, 3 and a
    /// random odd exponent of up to 64 bits; `EDGEWARD_DIFF_SEED` sets the seed.
    #[test]
    fn random_exponentiations_match_crypto_bigint() {
        let cases = env_number("EDGEWARD_RSA_KERNEL_CASES", 60);
        let seed = env_number("EDGEWARD_DIFF_SEED", 0x5eed);
        let mut rng = Rng(seed);
        let sizes = [1024, 2047, 2048, 2049, 2056, 2058, 3072, 3584, 3585, 4095, 4096, 4104, 8192];
        for case in 0..cases {
            let bits = sizes[usize::try_from(case).unwrap() % sizes.len()];
            let n = modulus_bytes(&mut rng, bits, 0);
            let m = Modulus::new(&n).unwrap();
            let base = match rng.next() % 4 {
                0 => {
                    let len = usize::try_from(rng.next() % 9).unwrap();
                    rng.bytes(len)
                }
                1 => n_minus(&n, u8::try_from(rng.next() % 2).unwrap() * 2), // n − 2 or n
                _ => below(&mut rng, &n),
            };
            let e_len = 1 + usize::try_from(rng.next() % 8).unwrap();
            let mut e = rng.bytes(e_len);
            *e.last_mut().unwrap() |= 1;
            for e in [vec![0x01, 0x00, 0x01], vec![3], e] {
                let expected = m.is_above(&base).then(|| reference_pow(&n, &base, &e));
                assert_eq!(m.pow_vartime(&base, &e), expected, "case {case} (seed {seed:#x}): {bits} bits, e {e:02x?}");
            }
        }
        println!("{cases} random exponentiations (seed {seed:#x}) agree with crypto-bigint");
    }

    #[test]
    fn squaring_and_multiplication_agree_on_random_and_extreme_limbs() {
        let mut rng = Rng(3);
        for (bits, top) in [(2048, 0xffff_ffff), (2049, 0), (3072, 0x8000_0000), (4096, 0xffff_ffff)] {
            let n = modulus_bytes(&mut rng, bits, top);
            let m = Modulus::new(&n).unwrap();
            let limbs = m.n.len();
            for value in [below(&mut rng, &n), n_minus(&n, 1), vec![0], vec![1]] {
                let a = m.limbs_from_be(&value);
                let mut scratch = Scratch::new(limbs);
                m.mul(&a, &a, &mut scratch);
                let by_mul = scratch.out.clone();
                m.square(&a, &mut scratch);
                assert_eq!(by_mul, scratch.out);
                assert!(m.is_above(&m.limbs_to_be(&by_mul)));
            }
        }
    }
}
