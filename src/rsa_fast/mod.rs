//! RS256/384/512 and PS256/384/512 verification (RFC 8017 §8.1.2 and §8.2.2 with SHA-256,
//! SHA-384 and SHA-512) over a public key the `rsa` crate has validated.
//!
//! Why not `rsa`'s own `verify`: its public-key operation is a constant-time exponentiation with
//! 4-bit windows — for e = 65537, 14 multiplications to build the window table, then 16 squarings
//! and 5 multiplications. Verification handles only public data (signature, key, message), so
//! plain left-to-right square-and-multiply is safe: 16 squarings and 1 multiplication, about half
//! the work. The encoding checks (EMSA-PKCS1-v1_5, EMSA-PSS) live here too.
//!
//! The arithmetic depends on the target. Natively it is `crypto-bigint`'s (`BoxedMontyForm`, the
//! `rsa` crate's own backend, with the key's cached Montgomery parameters): 64-bit limbs whose
//! 128-bit products are one instruction on x86-64 and AArch64. On wasm `crypto-bigint` still uses
//! 64-bit limbs (its `cpubits` promotes wasm32), but wasm has no 64 × 64 → 128 multiply, so each
//! limb product is emulated; there the exponentiation runs on [`monty`], a kernel of our own with
//! 28-bit limbs whose products fit a native 64-bit multiply (about twice as fast under Node). The
//! feature `rsa-kernel` selects the kernel on every target, so native tests and benchmarks can run it.
//!
//! `tests/rsa_differential.rs` runs both schemes with every hash against `rsa`'s verify on valid,
//! tweaked and random signatures (`make test` and `make fuzz-differential` run it with and without
//! `rsa-kernel`), and the kernel's unit tests compare it with `crypto-bigint`'s exponentiation; the
//! Wycheproof RSA and PSS vectors run through this code.
//!
//! Everything here is variable time, which is fine for public inputs only: never sign with it.

#[cfg(any(target_family = "wasm", feature = "rsa-kernel", test))]
mod monty;

#[cfg(not(any(target_family = "wasm", feature = "rsa-kernel")))]
use crypto_bigint::{BoxedUint, modular::BoxedMontyForm};
use rsa::traits::PublicKeyParts as _;
use sha2::Digest;
use sha2::{Sha256, Sha384, Sha512};

/// DER of `DigestInfo { digestAlgorithm: sha256, NULL }` up to the digest (RFC 8017 §9.2 note 1).
const SHA256_DIGEST_INFO: [u8; 19] =
    [0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20];
/// The same for SHA-384.
const SHA384_DIGEST_INFO: [u8; 19] =
    [0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30];
/// The same for SHA-512.
const SHA512_DIGEST_INFO: [u8; 19] =
    [0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40];
/// RFC 8017 §9.2 step 3: at least eight 0xff octets of padding.
const MIN_PKCS1_PADDING: usize = 8;

/// An RSA public key (RS256/384/512, PS256/384/512), built once when the JWKS loads.
#[derive(Clone)]
pub struct RsaKey {
    key: rsa::PublicKey,
    /// n prepared for the kernel (`None` only for a modulus `rsa` refuses: every signature fails).
    #[cfg(any(target_family = "wasm", feature = "rsa-kernel"))]
    modulus: Option<monty::Modulus>,
    /// e in big-endian octets.
    #[cfg(any(target_family = "wasm", feature = "rsa-kernel"))]
    exponent: Box<[u8]>,
    /// k: the modulus length in octets.
    size: usize,
    /// emBits for EMSA-PSS: the modulus length in bits minus one.
    em_bits: usize,
    /// The `rsa` crate's own verifiers (feature `crate-verify`: benchmarks of the path before issue 5).
    #[cfg(feature = "crate-verify")]
    crate_verifiers: CrateVerifiers,
}

/// RSASSA-PKCS1-v1_5 and RSASSA-PSS (salt = hash length) verifiers of the `rsa` crate.
#[cfg(feature = "crate-verify")]
#[derive(Clone)]
pub(crate) struct CrateVerifiers {
    pub(crate) rs256: rsa::pkcs1v15::VerifyingKey<Sha256>,
    pub(crate) rs384: rsa::pkcs1v15::VerifyingKey<Sha384>,
    pub(crate) rs512: rsa::pkcs1v15::VerifyingKey<Sha512>,
    pub(crate) ps256: rsa::pss::VerifyingKey<Sha256>,
    pub(crate) ps384: rsa::pss::VerifyingKey<Sha384>,
    pub(crate) ps512: rsa::pss::VerifyingKey<Sha512>,
}

impl RsaKey {
    /// Wraps a key `rsa` has validated (size limits, exponent range, odd modulus).
    pub(crate) fn new(key: rsa::PublicKey) -> RsaKey {
        let bits = usize::try_from(key.n().as_ref().bit_width_vartime()).unwrap_or(usize::MAX);
        RsaKey {
            #[cfg(any(target_family = "wasm", feature = "rsa-kernel"))]
            modulus: monty::Modulus::new(&key.n_bytes()),
            #[cfg(any(target_family = "wasm", feature = "rsa-kernel"))]
            exponent: key.e_bytes(),
            size: key.size(),
            em_bits: bits.saturating_sub(1),
            #[cfg(feature = "crate-verify")]
            crate_verifiers: CrateVerifiers {
                rs256: rsa::pkcs1v15::VerifyingKey::new(key.clone()),
                rs384: rsa::pkcs1v15::VerifyingKey::new(key.clone()),
                rs512: rsa::pkcs1v15::VerifyingKey::new(key.clone()),
                ps256: rsa::pss::VerifyingKey::new_with_salt_len(key.clone(), 32),
                ps384: rsa::pss::VerifyingKey::new_with_salt_len(key.clone(), 48),
                ps512: rsa::pss::VerifyingKey::new_with_salt_len(key.clone(), 64),
            },
            key,
        }
    }

    /// The `rsa` crate's own verifiers, built with the key.
    #[cfg(feature = "crate-verify")]
    pub(crate) fn crate_verifiers(&self) -> &CrateVerifiers {
        &self.crate_verifiers
    }

    /// The `rsa` crate's key, for comparing against its verification.
    pub fn public_key(&self) -> &rsa::PublicKey {
        &self.key
    }

    /// Modulus length in bits.
    pub fn bits(&self) -> usize {
        self.em_bits + 1
    }

    /// RSASSA-PKCS1-v1_5-VERIFY with SHA-256 (RS256): EM must equal the one encoding of
    /// `message`'s hash, `00 01 ff…ff 00 ‖ DigestInfo ‖ H` — so a DigestInfo without its NULL, with
    /// trailing bytes or with another hash is refused, as is any signature not exactly k octets.
    pub fn verify_pkcs1v15_sha256(&self, message: &[u8], signature: &[u8]) -> bool {
        self.verify_pkcs1v15::<Sha256>(&SHA256_DIGEST_INFO, message, signature)
    }

    /// RSASSA-PKCS1-v1_5-VERIFY with SHA-384 (RS384), as strict as [`RsaKey::verify_pkcs1v15_sha256`].
    pub fn verify_pkcs1v15_sha384(&self, message: &[u8], signature: &[u8]) -> bool {
        self.verify_pkcs1v15::<Sha384>(&SHA384_DIGEST_INFO, message, signature)
    }

    /// RSASSA-PKCS1-v1_5-VERIFY with SHA-512 (RS512), as strict as [`RsaKey::verify_pkcs1v15_sha256`].
    pub fn verify_pkcs1v15_sha512(&self, message: &[u8], signature: &[u8]) -> bool {
        self.verify_pkcs1v15::<Sha512>(&SHA512_DIGEST_INFO, message, signature)
    }

    /// RSASSA-PSS-VERIFY with SHA-256, MGF1-SHA-256 and a 32-byte salt (PS256), RFC 8017 §9.1.2.
    pub fn verify_pss_sha256(&self, message: &[u8], signature: &[u8]) -> bool {
        self.verify_pss::<Sha256>(message, signature)
    }

    /// RSASSA-PSS-VERIFY with SHA-384, MGF1-SHA-384 and a 48-byte salt (PS384).
    pub fn verify_pss_sha384(&self, message: &[u8], signature: &[u8]) -> bool {
        self.verify_pss::<Sha384>(message, signature)
    }

    /// RSASSA-PSS-VERIFY with SHA-512, MGF1-SHA-512 and a 64-byte salt (PS512).
    pub fn verify_pss_sha512(&self, message: &[u8], signature: &[u8]) -> bool {
        self.verify_pss::<Sha512>(message, signature)
    }

    /// EMSA-PKCS1-v1_5 with hash `D`, whose DigestInfo prefix is `digest_info`: EM is compared with
    /// the one valid encoding, part by part.
    fn verify_pkcs1v15<D: Digest>(&self, digest_info: &[u8], message: &[u8], signature: &[u8]) -> bool {
        let k = self.size;
        let t_len = digest_info.len() + <D as Digest>::output_size();
        let Some(padding) = k.checked_sub(3 + t_len).filter(|&p| p >= MIN_PKCS1_PADDING) else {
            return false;
        };
        let Some(em) = self.public_operation(signature, k) else { return false };
        let (head, rest) = em.split_at(2);
        let (ps, rest) = rest.split_at(padding);
        let (separator, rest) = rest.split_at(1);
        let (prefix, hash) = rest.split_at(digest_info.len());
        head == [0x00, 0x01]
            && ps.iter().all(|&b| b == 0xff)
            && separator == [0x00]
            && prefix == digest_info
            && hash == D::digest(message).as_slice()
    }

    /// EMSA-PSS-VERIFY (RFC 8017 §9.1.2) with hash `D`, MGF1 with `D`, and a salt as long as the
    /// hash (RFC 7518 §3.5): sLen = hLen.
    fn verify_pss<D: Digest>(&self, message: &[u8], signature: &[u8]) -> bool {
        let h_len = <D as Digest>::output_size();
        let em_len = self.em_bits.div_ceil(8);
        // Step 3 (sLen = hLen).
        if em_len < h_len + h_len + 2 {
            return false;
        }
        let Some(mut em) = self.public_operation(signature, em_len) else { return false };
        // Step 4.
        if em[em_len - 1] != 0xbc {
            return false;
        }
        // Step 5: maskedDB ‖ H ‖ 0xbc.
        let (db, rest) = em.split_at_mut(em_len - h_len - 1);
        let h = &rest[..h_len];
        // Step 6: the 8·emLen − emBits leftmost bits must be zero (0 or 1 bits: emBits = modBits − 1).
        let unused_bits = 8 * em_len - self.em_bits;
        let top_mask = u32::try_from(unused_bits).ok().and_then(|bits| 0xffu8.checked_shr(bits)).unwrap_or(0);
        if db[0] & !top_mask != 0 {
            return false;
        }
        // Steps 7–9.
        mgf1_xor::<D>(h, db);
        db[0] &= top_mask;
        // Step 10: DB = 00…00 ‖ 01 ‖ salt, the salt hLen octets.
        let zeros = db.len() - h_len - 1;
        if db[..zeros].iter().any(|&b| b != 0) || db[zeros] != 0x01 {
            return false;
        }
        // Steps 11–14.
        let salt = &db[zeros + 1..];
        let expected = D::new().chain_update([0u8; 8]).chain_update(D::digest(message)).chain_update(salt).finalize();
        expected.as_slice() == h
    }

    /// RFC 8017 §8.x.2 steps 1–2: `S` of exactly k octets, `s < n`, `m = s^e mod n` (RSAVP1),
    /// `EM = I2OSP(m, em_len)` — `None` where the standard says "invalid signature".
    #[cfg(any(target_family = "wasm", feature = "rsa-kernel"))]
    fn public_operation(&self, signature: &[u8], em_len: usize) -> Option<Vec<u8>> {
        if signature.len() != self.size {
            return None;
        }
        // k octets, or `None` if s ≥ n.
        let mut m = self.modulus.as_ref()?.pow_vartime(signature, &self.exponent)?;
        let excess = m.len().checked_sub(em_len)?;
        if m[..excess].iter().any(|&b| b != 0) {
            return None;
        }
        m.drain(..excess);
        Some(m)
    }

    /// RFC 8017 §8.x.2 steps 1–2 as above, on `crypto-bigint`'s Montgomery arithmetic.
    #[cfg(not(any(target_family = "wasm", feature = "rsa-kernel")))]
    fn public_operation(&self, signature: &[u8], em_len: usize) -> Option<Vec<u8>> {
        if signature.len() != self.size {
            return None;
        }
        let n = self.key.n().as_ref();
        let s = BoxedUint::from_be_slice(signature, n.bits_precision()).ok()?;
        if s >= *n {
            return None;
        }
        let m = pow_vartime(BoxedMontyForm::new(s, self.key.n_params()), self.key.e());
        if usize::try_from(m.bit_width_vartime()).map_or(true, |bits| bits > 8 * em_len) {
            return None;
        }
        let bytes = m.to_be_bytes();
        bytes.get(bytes.len().checked_sub(em_len)?..).map(<[u8]>::to_vec)
    }
}

/// `base^exponent` by left-to-right square-and-multiply, returned out of Montgomery form.
/// Variable time in the exponent: public exponents only.
#[cfg(not(any(target_family = "wasm", feature = "rsa-kernel")))]
fn pow_vartime(base: BoxedMontyForm, exponent: &BoxedUint) -> BoxedUint {
    let bits = exponent.bit_width_vartime();
    if bits == 0 {
        return BoxedMontyForm::one(base.params()).retrieve();
    }
    let mut acc = base.clone();
    for bit in (0..bits - 1).rev() {
        acc = acc.square();
        if exponent.bit_vartime(bit) {
            acc = acc.mul(&base);
        }
    }
    acc.retrieve()
}

/// `out ^= MGF1-D(seed, out.len())` (RFC 8017 B.2.1).
fn mgf1_xor<D: Digest>(seed: &[u8], out: &mut [u8]) {
    for (counter, chunk) in (0u32..).zip(out.chunks_mut(<D as Digest>::output_size())) {
        let mask = D::new().chain_update(seed).chain_update(counter.to_be_bytes()).finalize();
        chunk.iter_mut().zip(mask).for_each(|(b, m)| *b ^= m);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crypto_bigint::BoxedUint;
    use crypto_bigint::modular::BoxedMontyForm;

    fn key(n_hex: &str, e: u64) -> RsaKey {
        let n = BoxedUint::from_be_slice_vartime(&hex(n_hex));
        RsaKey::new(rsa::PublicKey::new(n, BoxedUint::from(e)).unwrap())
    }

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn digest_infos_are_the_ones_rsa_uses() {
        assert_eq!(&*rsa::pkcs1v15::Pkcs1v15Sign::new::<Sha256>().prefix, &SHA256_DIGEST_INFO);
        assert_eq!(&*rsa::pkcs1v15::Pkcs1v15Sign::new::<Sha384>().prefix, &SHA384_DIGEST_INFO);
        assert_eq!(&*rsa::pkcs1v15::Pkcs1v15Sign::new::<Sha512>().prefix, &SHA512_DIGEST_INFO);
    }

    #[test]
    fn the_public_operation_matches_the_crates_exponentiation() {
        // A 2048-bit odd modulus (not a real key: the exponentiation does not care).
        let n_hex = format!("c{}5", "3a7f19e2".repeat(63) + "0d1b4e");
        for (i, e) in [3u64, 17, 65537, 0x1_0000_0001, (1 << 33) - 1].into_iter().enumerate() {
            let rsa_key = key(&n_hex, e);
            let n = rsa_key.key.n().as_ref();
            let mut signature = vec![0x5a; 256];
            signature[0] = 0;
            signature[255] = u8::try_from(i).unwrap();
            let base = BoxedUint::from_be_slice(&signature, n.bits_precision()).unwrap();
            let expected = BoxedMontyForm::new(base, rsa_key.key.n_params()).pow(&BoxedUint::from(e)).retrieve();
            assert_eq!(rsa_key.public_operation(&signature, 256).unwrap(), &*expected.to_be_bytes(), "e = {e}");
        }
    }

    fn mgf1_matches_its_definition<D: Digest>() {
        let seed = b"seed";
        for len in [0usize, 1, 31, 32, 33, 47, 48, 49, 63, 64, 65, 128, 223] {
            let mut out = vec![0u8; len];
            mgf1_xor::<D>(seed, &mut out);
            let mut expected = Vec::new();
            for counter in 0u32.. {
                if expected.len() >= len {
                    break;
                }
                expected.extend(D::new().chain_update(seed).chain_update(counter.to_be_bytes()).finalize());
            }
            expected.truncate(len);
            assert_eq!(out, expected, "len {len}");
            // Applying it twice restores the input.
            mgf1_xor::<D>(seed, &mut out);
            assert!(out.iter().all(|&b| b == 0));
        }
    }

    #[test]
    fn mgf1_matches_its_definition_across_block_boundaries() {
        mgf1_matches_its_definition::<Sha256>();
        mgf1_matches_its_definition::<Sha384>();
        mgf1_matches_its_definition::<Sha512>();
    }

    #[test]
    fn signatures_of_the_wrong_length_or_not_below_n_are_refused_before_the_arithmetic() {
        let n_hex = format!("c{}5", "3a7f19e2".repeat(63) + "0d1b4e");
        let rsa_key = key(&n_hex, 65537);
        assert_eq!(rsa_key.bits(), 2048);
        let n = hex(&n_hex);
        for sig in [vec![], vec![0u8; 255], vec![0u8; 257], n.clone(), vec![0xff; 256]] {
            assert!(rsa_key.public_operation(&sig, 256).is_none());
            assert!(!rsa_key.verify_pkcs1v15_sha256(b"m", &sig));
            assert!(!rsa_key.verify_pkcs1v15_sha384(b"m", &sig));
            assert!(!rsa_key.verify_pkcs1v15_sha512(b"m", &sig));
            assert!(!rsa_key.verify_pss_sha256(b"m", &sig));
            assert!(!rsa_key.verify_pss_sha384(b"m", &sig));
            assert!(!rsa_key.verify_pss_sha512(b"m", &sig));
        }
        // n − 1 is in range: the operation runs (and the encodings do not match).
        let mut below = n;
        *below.last_mut().unwrap() -= 1;
        assert!(rsa_key.public_operation(&below, 256).is_some());
        assert!(!rsa_key.verify_pkcs1v15_sha256(b"m", &below));
    }
}
