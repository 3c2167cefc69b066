//! Unit tests of the point arithmetic and the tables, against `p256`'s own group arithmetic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::field::{Field, P256Field};
use super::point::{Affine, Jacobian, Limbs, Table, batch_to_affine};
use super::*;
use p256::elliptic_curve::sec1::ToSec1Point as _;
use p256::{ProjectivePoint, Scalar};

type F = P256Field;

/// b of y² = x³ − 3x + b.
const B: [u8; 32] = hex32("5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b");

fn generator() -> Affine<F> {
    affine_from_bytes(&GENERATOR_X, &GENERATOR_Y).unwrap()
}

/// `p256`'s k·G as our affine point (`None` at infinity).
fn reference(k: &Scalar) -> Option<Affine<F>> {
    let encoded = (ProjectivePoint::GENERATOR * k).to_affine().to_sec1_point(false);
    let bytes = encoded.as_bytes();
    if bytes.len() != 65 {
        return None;
    }
    affine_from_bytes(&bytes[1..33].try_into().unwrap(), &bytes[33..65].try_into().unwrap())
}

fn scalar(hex: &str) -> Scalar {
    Scalar::reduce(&p256::U256::from_be_slice(&hex32(hex)))
}

fn small(k: u64) -> Scalar {
    Scalar::from(k)
}

fn limbs(k: &Scalar) -> Limbs {
    Limbs::from_be_bytes(&k.to_bytes().into())
}

/// 2^e mod n.
fn pow2(e: u32) -> Scalar {
    (0..e).fold(Scalar::ONE, |x, _| x.double())
}

/// A deterministic stream of scalars (xorshift), for repeatable tests.
fn scalars(count: usize) -> Vec<Scalar> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..count)
        .map(|_| {
            let mut bytes = [0u8; 32];
            for chunk in bytes.chunks_mut(8) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                chunk.copy_from_slice(&state.to_be_bytes());
            }
            Scalar::reduce(&p256::U256::from_be_slice(&bytes))
        })
        .collect()
}

#[test]
fn generator_is_on_the_curve() {
    let b = F::from_be_bytes(&B).unwrap();
    assert!(generator().is_on_curve(&b));
    assert!(!Affine { x: generator().x, y: generator().y.add(&F::ONE) }.is_on_curve(&b));
}

#[test]
fn doubling_matches_p256() {
    let g = Jacobian::from(generator());
    assert_eq!(g.double().to_affine(), reference(&small(2)));
    assert_eq!(g.double().double().to_affine(), reference(&small(4)));
    assert!(Jacobian::<F>::INFINITY.double().is_infinity());
}

#[test]
fn addition_of_a_point_to_itself_doubles() {
    // P + P through the addition formula must take the doubling path (h = 0, r = 0),
    // also when P is not in affine form (Z ≠ 1).
    let g = generator();
    assert_eq!(Jacobian::from(g).add_affine(&g).to_affine(), reference(&small(2)));
    let three = Jacobian::from(g).double().add_affine(&g); // Z ≠ 1
    let three_affine = three.to_affine().unwrap();
    assert_eq!(three.add_affine(&three_affine).to_affine(), reference(&small(6)));
}

#[test]
fn adding_the_inverse_gives_infinity() {
    let g = generator();
    assert!(Jacobian::from(g).add_affine(&g.neg()).is_infinity());
    let three = Jacobian::from(g).double().add_affine(&g);
    let minus_three = three.to_affine().unwrap().neg();
    assert!(three.add_affine(&minus_three).is_infinity());
    // Infinity plus a point is that point.
    assert_eq!(Jacobian::INFINITY.add_affine(&g).to_affine(), Some(g));
    assert_eq!(Jacobian::<F>::INFINITY.to_affine(), None);
}

#[test]
fn additions_match_p256() {
    let g = generator();
    let mut sum = Jacobian::INFINITY;
    for k in 1..=40u64 {
        sum = sum.add_affine(&g);
        assert_eq!(sum.to_affine(), reference(&small(k)), "{k}·G");
    }
    let same = Jacobian::from(reference(&small(40)).unwrap());
    assert!(sum.same_point(&same));
    assert!(!sum.same_point(&Jacobian::from(g)));
}

#[test]
fn batch_conversion_matches_single_conversions() {
    let g = generator();
    let mut points = vec![Jacobian::from(g)];
    for _ in 0..20 {
        let next = points.last().unwrap().double().add_affine(&g);
        points.push(next);
    }
    let batch = batch_to_affine(&points).unwrap();
    for (jacobian, affine) in points.iter().zip(&batch) {
        assert_eq!(jacobian.to_affine().as_ref(), Some(affine));
    }
    points.push(Jacobian::INFINITY);
    assert!(batch_to_affine(&points).is_none());
    assert_eq!(batch_to_affine::<F>(&[]), Some(vec![]));
}

#[test]
fn signed_digits_recompose_the_scalar() {
    let mut cases = scalars(50);
    cases.extend([small(0), small(1), small(127), small(128), small(129), small(255), small(256)]);
    cases.extend([-small(1), -small(2), -small(128)]); // n − 1, n − 2, n − 128
    cases.push(scalar("ffffffff00000000ffffffffffffffff80808080808080808080808080808080"));
    for k in &cases {
        for w in 1..=10u32 {
            let windows = 256u32.div_ceil(w);
            let half = 1i64 << (w - 1);
            let mut total = Scalar::ZERO;
            let carry = limbs(k).signed_digits(w, windows, |i, d| {
                assert!(-half < i64::from(d) && i64::from(d) <= half, "digit {d} out of range for w = {w}");
                let magnitude = Scalar::from(u64::from(d.unsigned_abs())) * pow2(w * i);
                total = if d < 0 { total - magnitude } else { total + magnitude };
            });
            if carry {
                total += pow2(w * windows);
            }
            assert_eq!(&total, k, "w = {w}");
        }
    }
}

#[test]
fn zero_has_only_zero_digits() {
    let carry = Limbs([0; 4]).signed_digits(8, 32, |_, d| assert_eq!(d, 0));
    assert!(!carry);
    // All ones: every window is 255 → −1 with a carry, and a final carry.
    let carry = Limbs([u64::MAX; 4]).signed_digits(8, 32, |i, d| assert_eq!(d, if i == 0 { -1 } else { 0 }));
    assert!(carry);
}

#[test]
fn table_multiples_match_p256() {
    let g = generator();
    let mut cases = scalars(20);
    cases.extend([small(0), small(1), small(2), small(3), -small(1), -small(2), -small(3)]);
    cases.push(scalar("80000000000000000000000000000000000000000000000000000000000000ff"));
    cases.push(scalar("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc63254f")); // n − 2
    for w in [2, 3, 4, 5, 6, 7, 8] {
        let table = Table::new(&g, w).unwrap();
        assert_eq!(table.window_bits(), w);
        for k in &cases {
            let mut sum = Jacobian::INFINITY;
            table.add_multiple(&mut sum, &limbs(k));
            assert_eq!(sum.to_affine(), reference(k), "w = {w}");
        }
    }
    assert!(Table::new(&g, 0).is_none());
    assert!(Table::new(&g, 11).is_none());
}

#[test]
fn table_sizes() {
    let g = generator();
    assert_eq!(std::mem::size_of::<Affine<F>>(), 64);
    assert_eq!(Table::new(&g, 4).unwrap().bytes(), (64 * 8 + 1) * 64);
    assert_eq!(Table::new(&g, 8).unwrap().bytes(), (32 * 128 + 1) * 64);
}

#[test]
fn generator_and_key_tables_cancel() {
    // u₁·G + u₂·Q with Q = G and u₂ = n − u₁ is the point at infinity: the sum must say so.
    let g = generator();
    let table = Table::new(&g, 5).unwrap();
    for k in scalars(5) {
        let mut sum = Jacobian::INFINITY;
        generator_table().add_multiple(&mut sum, &limbs(&k));
        table.add_multiple(&mut sum, &limbs(&-k));
        assert!(sum.is_infinity());
        // And u₁ = u₂ goes through a doubling at some point or not; the result is 2k·G.
        let mut sum = Jacobian::INFINITY;
        generator_table().add_multiple(&mut sum, &limbs(&k));
        table.add_multiple(&mut sum, &limbs(&k));
        assert_eq!(sum.to_affine(), reference(&(k + k)));
    }
}

#[test]
fn x_check_without_inversion() {
    // R = k·G for a k whose x(R) we know; x_matches must agree with x(R) mod n = r.
    for k in scalars(10) {
        let point = {
            let mut sum = Jacobian::INFINITY;
            generator_table().add_multiple(&mut sum, &limbs(&k));
            sum
        };
        let x = point.to_affine().unwrap().x.to_be_bytes();
        let r = Scalar::reduce(&p256::U256::from_be_slice(&x));
        let r_bytes: [u8; 32] = r.to_bytes().into();
        assert!(x_matches(&point, &r_bytes));
        let other: [u8; 32] = (r + Scalar::ONE).to_bytes().into();
        assert!(!x_matches(&point, &other));
    }
}

/// The wasm32 field through the whole verification, natively: `verify_with` over `Fe32` tables
/// must agree with `p256`'s verify (and so with the native path) on valid, high-S, tweaked,
/// random and constructed x(R) ≥ n cases. `EDGEWARD_FIELD32_DIFF_CASES` sets the count.
#[test]
fn wasm_field_verification_agrees_with_p256() {
    use super::field32::Fe32;
    use p256::ecdsa::signature::{Signer as _, Verifier as _};
    use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
    let count: usize = std::env::var("EDGEWARD_FIELD32_DIFF_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let g32 = Table::<Fe32>::new(&affine_from_bytes(&GENERATOR_X, &GENERATOR_Y).unwrap(), 8).unwrap();
    let table_of = |key: &VerifyingKey, w: u32| {
        let sec1 = key.to_sec1_point(false);
        let b = sec1.as_bytes();
        let q = affine_from_bytes::<Fe32>(&b[1..33].try_into().unwrap(), &b[33..65].try_into().unwrap()).unwrap();
        Table::new(&q, w).unwrap()
    };
    let mut randomness = scalars(count * 4 + 8).into_iter();
    let mut next = move || randomness.next().unwrap();
    let signing = SigningKey::from_slice(&next().to_bytes()).unwrap();
    let key = *signing.verifying_key();
    let table = table_of(&key, 7);
    let mut accepted = 0;
    for i in 0..count {
        let message = format!("case {i}: {}", hex_of(&next().to_bytes())).into_bytes();
        let signature: Signature = signing.sign(&message);
        let (r, s) = (signature.r(), signature.s());
        let raw = |r: &Scalar, s: &Scalar| [r.to_bytes().as_slice(), s.to_bytes().as_slice()].concat();
        let mut cases: Vec<WasmCase> = vec![
            (key, None, message.clone(), raw(&r, &s)),
            (key, None, message.clone(), raw(&r, &-*s)),
            (key, None, [message.as_slice(), b"!"].concat(), raw(&r, &s)),
            (key, None, message.clone(), raw(&(*r + Scalar::ONE), &s)),
            (key, None, message.clone(), raw(&next(), &next())),
        ];
        if i % 8 == 0 {
            // x(R) ≥ n: R with x = n + t, key solved so that (r = x − n, s) verifies.
            let mut x = ORDER;
            x[31] = x[31].wrapping_add(u8::try_from(i % 200).unwrap());
            x[16..31].copy_from_slice(&next().to_bytes()[..15]);
            x[16] &= 0x3f;
            let mut t = [0u8; 32];
            t[16..].copy_from_slice(&x[16..]);
            let x_full: [u8; 32] =
                p256::U256::from_be_slice(&ORDER).wrapping_add(&p256::U256::from_be_slice(&t)).to_be_bytes().into();
            let compressed = [&[2u8][..], &x_full].concat();
            if let Ok(point) = VerifyingKey::from_sec1_bytes(&compressed) {
                let r = Scalar::reduce(&p256::U256::from_be_slice(&x_full));
                let s = next();
                let e = Scalar::reduce(&p256::U256::from_be_slice(&sha2::Sha256::digest(&message)));
                let s_inv = s.invert_vartime().unwrap();
                let (u1, u2) = (e * s_inv, r * s_inv);
                let q = (ProjectivePoint::from(*point.as_affine()) - ProjectivePoint::GENERATOR * u1)
                    * u2.invert_vartime().unwrap();
                if let Ok(solved) = VerifyingKey::from_affine(q.to_affine()) {
                    let table = table_of(&solved, 4);
                    cases.push((solved, Some(table), message.clone(), raw(&r, &s)));
                }
            }
        }
        for (case_key, case_table, message, signature) in &cases {
            let expected = Signature::from_slice(signature).is_ok_and(|sig| case_key.verify(message, &sig).is_ok());
            let fast = verify_with(&g32, case_table.as_ref().unwrap_or(&table), message, signature);
            assert_eq!(fast, expected, "case {i}: {}", hex_of(signature));
            accepted += usize::from(expected);
        }
    }
    assert!(accepted >= 2 * count, "valid and high-S cases must pass");
}

/// Key, its own table if not the shared one, message, signature.
type WasmCase = (p256::ecdsa::VerifyingKey, Option<Table<super::field32::Fe32>>, Vec<u8>, Vec<u8>);

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn wasm_field_tables_match_p256() {
    use super::field32::Fe32;
    let g = affine_from_bytes::<Fe32>(&GENERATOR_X, &GENERATOR_Y).unwrap();
    let b = Fe32::from_be_bytes(&B).unwrap();
    assert!(g.is_on_curve(&b));
    for w in [2, 5, 8] {
        let table = Table::new(&g, w).unwrap();
        for k in scalars(10).into_iter().chain([small(1), -small(1)]) {
            let mut sum = Jacobian::INFINITY;
            table.add_multiple(&mut sum, &limbs(&k));
            let ours = sum.to_affine().map(|p| (p.x.to_be_bytes(), p.y.to_be_bytes()));
            let theirs = reference(&k).map(|p| (p.x.to_be_bytes(), p.y.to_be_bytes()));
            assert_eq!(ours, theirs);
        }
    }
}
