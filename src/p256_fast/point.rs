//! Points of P-256 (y² = x³ − 3x + b) for verification: affine points in tables, a Jacobian
//! accumulator, mixed additions, and fixed-base tables of signed-digit windows.
//!
//! Everything here is variable time: it only ever handles public data (keys, signatures,
//! message digests). Signing must never use it.

use super::field::Field;

/// An affine point, never the point at infinity (tables hold only finite points).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Affine<F> {
    /// x.
    pub x: F,
    /// y.
    pub y: F,
}

/// A Jacobian point (X, Y, Z) standing for (X/Z², Y/Z³); Z = 0 is the point at infinity.
#[derive(Clone, Copy, Debug)]
pub struct Jacobian<F> {
    /// X.
    pub x: F,
    /// Y.
    pub y: F,
    /// Z.
    pub z: F,
}

impl<F: Field> Affine<F> {
    /// −P.
    pub fn neg(&self) -> Self {
        Affine { x: self.x, y: F::ZERO.sub(&self.y) }
    }

    #[cfg(test)]
    /// Whether the point satisfies y² = x³ − 3x + b.
    pub fn is_on_curve(&self, b: &F) -> bool {
        let x3 = self.x.square().mul(&self.x);
        let three_x = self.x.double().add(&self.x);
        self.y.square() == x3.sub(&three_x).add(b)
    }
}

impl<F: Field> Jacobian<F> {
    /// The point at infinity.
    pub const INFINITY: Self = Jacobian { x: F::ONE, y: F::ONE, z: F::ZERO };

    /// Whether this is the point at infinity.
    pub fn is_infinity(&self) -> bool {
        self.z.is_zero()
    }

    /// The affine point (one inversion), `None` for the point at infinity.
    #[cfg(test)]
    pub fn to_affine(self) -> Option<Affine<F>> {
        let z_inv = self.z.invert_vartime()?;
        let z_inv2 = z_inv.square();
        Some(Affine { x: self.x.mul(&z_inv2), y: self.y.mul(&z_inv2.mul(&z_inv)) })
    }

    /// 2·P with a = −3 ("dbl-2001-b": 3M + 5S).
    pub fn double(&self) -> Self {
        if self.is_infinity() || self.y.is_zero() {
            // y = 0 would be a point of order 2; P-256 has none, but stay correct.
            return Self::INFINITY;
        }
        let delta = self.z.square();
        let gamma = self.y.square();
        let beta = self.x.mul(&gamma);
        let t = self.x.sub(&delta).mul(&self.x.add(&delta));
        let alpha = t.double().add(&t);
        let beta4 = beta.double().double();
        let x3 = alpha.square().sub(&beta4.double());
        let z3 = self.y.add(&self.z).square().sub(&gamma).sub(&delta);
        let gamma2_8 = gamma.square().double().double().double();
        let y3 = alpha.mul(&beta4.sub(&x3)).sub(&gamma2_8);
        Jacobian { x: x3, y: y3, z: z3 }
    }

    /// P + Q for an affine Q ("madd-2004-hmv": 8M + 3S), with every special case handled:
    /// P at infinity, P = Q (doubling) and P = −Q (infinity).
    pub fn add_affine(&self, q: &Affine<F>) -> Self {
        if self.is_infinity() {
            return Jacobian { x: q.x, y: q.y, z: F::ONE };
        }
        let z1z1 = self.z.square();
        let u2 = q.x.mul(&z1z1);
        let s2 = q.y.mul(&self.z.mul(&z1z1));
        let h = u2.sub(&self.x);
        let r = s2.sub(&self.y);
        if h.is_zero() {
            // Same x: either the same point or its negative.
            return if r.is_zero() { self.double() } else { Self::INFINITY };
        }
        let hh = h.square();
        let hhh = h.mul(&hh);
        let v = self.x.mul(&hh);
        let x3 = r.square().sub(&hhh).sub(&v.double());
        let y3 = r.mul(&v.sub(&x3)).sub(&self.y.mul(&hhh));
        let z3 = self.z.mul(&h);
        Jacobian { x: x3, y: y3, z: z3 }
    }

    #[cfg(test)]
    /// Whether both stand for the same point (cross-multiplied, no inversion).
    pub fn same_point(&self, other: &Self) -> bool {
        match (self.is_infinity(), other.is_infinity()) {
            (true, true) => true,
            (false, false) => {
                let (z1z1, z2z2) = (self.z.square(), other.z.square());
                self.x.mul(&z2z2) == other.x.mul(&z1z1)
                    && self.y.mul(&z2z2.mul(&other.z)) == other.y.mul(&z1z1.mul(&self.z))
            }
            _ => false,
        }
    }
}

impl<F: Field> From<Affine<F>> for Jacobian<F> {
    fn from(p: Affine<F>) -> Self {
        Jacobian { x: p.x, y: p.y, z: F::ONE }
    }
}

/// Converts finite Jacobian points to affine with one inversion (Montgomery's trick).
/// `None` if any of them is the point at infinity.
pub fn batch_to_affine<F: Field>(points: &[Jacobian<F>]) -> Option<Vec<Affine<F>>> {
    // prefix[i] = z₀·z₁·…·zᵢ
    let mut prefix = Vec::with_capacity(points.len());
    let mut product = F::ONE;
    for p in points {
        if p.is_infinity() {
            return None;
        }
        product = product.mul(&p.z);
        prefix.push(product);
    }
    let mut inverse = product.invert_vartime()?; // (z₀·…·zᵢ)⁻¹, walking i down
    let mut out = vec![Affine { x: F::ZERO, y: F::ZERO }; points.len()];
    for (i, p) in points.iter().enumerate().rev() {
        let z_inv = match i.checked_sub(1) {
            Some(before) => inverse.mul(&prefix[before]),
            None => inverse,
        };
        inverse = inverse.mul(&p.z);
        let z_inv2 = z_inv.square();
        out[i] = Affine { x: p.x.mul(&z_inv2), y: p.y.mul(&z_inv2.mul(&z_inv)) };
    }
    Some(out)
}

/// A scalar below 2²⁵⁶ as four little-endian 64-bit limbs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limbs(pub [u64; 4]);

impl Limbs {
    /// Reads a big-endian 32-byte integer.
    pub fn from_be_bytes(bytes: &[u8; 32]) -> Self {
        let mut limbs = [0u64; 4];
        for (limb, chunk) in limbs.iter_mut().zip(bytes.rchunks_exact(8)) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            *limb = u64::from_be_bytes(word);
        }
        Limbs(limbs)
    }

    /// Bits `position .. position + width` (width ≤ 32) as an integer; bits past 255 are 0.
    fn bits(&self, position: u32, width: u32) -> u32 {
        let limb = position / 64;
        let offset = position % 64;
        let word = |i: u32| usize::try_from(i).ok().and_then(|i| self.0.get(i)).copied().unwrap_or(0);
        let mut value = word(limb) >> offset;
        if offset + width > 64 {
            value |= word(limb + 1) << (64 - offset);
        }
        let mask = (1u64 << width) - 1;
        // Masked to `width` ≤ 32 bits just above: the value fits.
        u32::try_from(value & mask).unwrap_or(u32::MAX)
    }

    /// Signed-digit recoding in base 2^w: digits dᵢ with −2^(w−1) < dᵢ ≤ 2^(w−1) and
    /// k = Σ dᵢ·2^(w·i) + carry·2^(w·windows). Calls `digit(i, dᵢ)` for every window.
    pub fn signed_digits(&self, w: u32, windows: u32, mut digit: impl FnMut(u32, i32)) -> bool {
        let half = 1i32 << (w - 1);
        let full = 1i32 << w;
        let mut carry = 0i32;
        for i in 0..windows {
            // `bits` is below 2^w ≤ 2^8 here, so the conversion is exact.
            let raw = i32::try_from(self.bits(i * w, w)).unwrap_or(i32::MAX) + carry;
            let d = if raw > half {
                carry = 1;
                raw - full
            } else {
                carry = 0;
                raw
            };
            digit(i, d);
        }
        carry != 0
    }
}

/// Multiples of one base point for fixed-base scalar multiplication with signed digits:
/// for each window i < `windows`, the points d·2^(w·i)·P for d = 1 ..= 2^(w−1), affine; and
/// 2^(w·windows)·P for a final carry. k·P is then at most `windows` + 1 mixed additions.
pub struct Table<F> {
    window_bits: u32,
    windows: u32,
    points: Box<[Affine<F>]>,
    carry: Affine<F>,
}

impl<F: Field> Table<F> {
    /// Builds the table of `base` (a finite point of order n) with `window_bits` in 1 ..= 10.
    pub fn new(base: &Affine<F>, window_bits: u32) -> Option<Self> {
        if !(1..=10).contains(&window_bits) {
            return None;
        }
        let windows = 256u32.div_ceil(window_bits);
        let per_window = 1usize << (window_bits - 1);
        // The window bases 2^(w·i)·P for i = 0 ..= windows (the last is the carry point), by
        // doubling, then all made affine with one inversion.
        let mut bases = Vec::with_capacity(usize::try_from(windows).ok()? + 1);
        let mut window_base = Jacobian::from(*base);
        bases.push(window_base);
        for _ in 0..windows {
            for _ in 0..window_bits {
                window_base = window_base.double();
            }
            bases.push(window_base);
        }
        let bases = batch_to_affine(&bases)?;
        let (carry, bases) = bases.split_last()?;
        // d·B for d = 1 ..= 2^(w−1) in each window, by mixed additions, then one more inversion.
        let mut jacobian = Vec::with_capacity(bases.len().checked_mul(per_window)?);
        for window_base in bases {
            let mut multiple = Jacobian::from(*window_base);
            jacobian.push(multiple);
            for _ in 1..per_window {
                multiple = multiple.add_affine(window_base);
                jacobian.push(multiple);
            }
        }
        let points = batch_to_affine(&jacobian)?.into_boxed_slice();
        Some(Table { window_bits, windows, points, carry: *carry })
    }

    /// Adds k·P to `accumulator`, for k < 2²⁵⁶.
    pub fn add_multiple(&self, accumulator: &mut Jacobian<F>, k: &Limbs) {
        let per_window = 1usize << (self.window_bits - 1);
        let carry = k.signed_digits(self.window_bits, self.windows, |i, d| {
            if d == 0 {
                return;
            }
            let magnitude = usize::try_from(d.unsigned_abs()).unwrap_or(usize::MAX);
            let index = usize::try_from(i).unwrap_or(usize::MAX) * per_window + magnitude - 1;
            let point = &self.points[index];
            *accumulator = if d > 0 { accumulator.add_affine(point) } else { accumulator.add_affine(&point.neg()) };
        });
        if carry {
            *accumulator = accumulator.add_affine(&self.carry);
        }
    }

    /// Bytes of table memory (the points; the struct itself is a few words more).
    pub fn bytes(&self) -> usize {
        (self.points.len() + 1) * std::mem::size_of::<Affine<F>>()
    }

    /// The window width in bits.
    #[cfg(test)]
    pub fn window_bits(&self) -> u32 {
        self.window_bits
    }
}
