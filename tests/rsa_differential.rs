//! Differential test of edgeward's RS256/384/512 and PS256/384/512 verification
//! (`src/rsa_fast/`: square-and-multiply on crypto-bigint's Montgomery arithmetic natively, on the
//! wasm builds' kernel `src/rsa_fast/monty.rs` with the feature `rsa-kernel`; encoding checks of its
//! own) against the `rsa` crate's `pkcs1v15::VerifyingKey<D>` and
//! `pss::VerifyingKey<D>` (salt = hash length: 32, 48, 64) for D = SHA-256, SHA-384, SHA-512: on
//! every case, valid or not, both must give the same answer.
//!
//! `EDGEWARD_RSA_DIFF_CASES` sets the number of cases (default 3,000, what `make test` runs: about
//! 500 per algorithm, each case's algorithm drawn at random);
//! `EDGEWARD_DIFF_SEED` the seed (default fixed, so a failure repeats); `make fuzz-differential`
//! runs 1,000,000. Keys (seeded, generated at start): 2048 bits (emBits = 2047, one unused bit in
//! EM), 2049 bits (emLen = k − 1: PSS drops a zero octet), 2056 and 3072 bits, with e = 65537; 2048
//! bits with e = 3, 2063 with e = 17, 3072 with e = 2^33 − 1; 4096 (e = 65537 and 3) and 4095
//! (e = 2^32 + 1) in long runs. Every valid signature checks the whole public operation: the
//! kernel's `s^e mod n` must be the exact encoding.
//!
//! Case kinds: valid PKCS#1 v1.5 and PSS signatures, each checked under its own algorithm or
//! another (other scheme, other hash: RS256 against RS384 against PS384 …); tweaked
//! message; one flipped bit anywhere in the signature; random k-octet strings (mostly ≥ n or
//! garbage encodings); 0, 1, n − 1, n, all-ones; wrong lengths; PSS with other salt lengths
//! (0, 20, hLen ± 1, the other hashes' lengths); and *re-signed encodings*: a valid EM with one bit flipped (or one
//! octet set to a value that matters: 0x00, 0x01, 0xff, 0xbc), then raised to d, so the
//! signature is well formed and only the encoding checks can tell.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use edgeward::{Algorithm, KeySet, PublicKey};
use rsa::BoxedUint;
use rsa::rand_core::{TryCryptoRng, TryRng};
use rsa::signature::{RandomizedSigner, SignatureEncoding, Verifier};
use rsa::traits::PublicKeyParts;
use sha2::{Sha256, Sha384, Sha512};
use std::convert::Infallible;
use std::sync::Arc;

mod support;

use support::rng::SplitMix as Rng;

/// The shared SplitMix64 as a `rand_core` RNG, for key generation and PSS salts (test-only: seeded
/// so that failures repeat, not a cryptographic generator).
impl TryRng for Rng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(u32::try_from(self.next() >> 32).unwrap())
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.next())
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.fill(dst);
        Ok(())
    }
}

impl TryCryptoRng for Rng {}

/// One test key: the private key, the `rsa` crate's six verifiers, and edgeward's key as the
/// JWKS parser builds it.
struct Key {
    private: rsa::PrivateKey,
    rs256: rsa::pkcs1v15::VerifyingKey<Sha256>,
    rs384: rsa::pkcs1v15::VerifyingKey<Sha384>,
    rs512: rsa::pkcs1v15::VerifyingKey<Sha512>,
    ps256: rsa::pss::VerifyingKey<Sha256>,
    ps384: rsa::pss::VerifyingKey<Sha384>,
    ps512: rsa::pss::VerifyingKey<Sha512>,
    ours: PublicKey,
    size: usize,
}

/// The hash length of an RSA algorithm (and its PSS salt length).
fn hash_len(alg: Algorithm) -> usize {
    match alg {
        Algorithm::RS256 | Algorithm::PS256 => 32,
        Algorithm::RS384 | Algorithm::PS384 => 48,
        _ => 64,
    }
}

fn is_pss(alg: Algorithm) -> bool {
    matches!(alg, Algorithm::PS256 | Algorithm::PS384 | Algorithm::PS512)
}

impl Key {
    fn generate(rng: &mut Rng, bits: usize) -> Key {
        Key::generate_with_exponent(rng, bits, 65537)
    }

    fn generate_with_exponent(rng: &mut Rng, bits: usize, e: u64) -> Key {
        let private = rsa::PrivateKey::new_with_exp(rng, bits, BoxedUint::from(e)).expect("key generation");
        let public = private.to_public_key();
        let b64 = |bytes: &[u8]| edgeward::base64url::encode(bytes);
        let jwks = format!(
            r#"{{"keys":[{{"kty":"RSA","n":"{}","e":"{}"}}]}}"#,
            b64(&public.n_bytes()),
            b64(&public.e_bytes())
        );
        let set = KeySet::from_bytes(jwks.as_bytes(), &Algorithm::RSA).expect("JWKS");
        let ours = Arc::clone(&set.keys()[0]).key.clone();
        let size = public.size();
        Key {
            rs256: rsa::pkcs1v15::VerifyingKey::new(public.clone()),
            rs384: rsa::pkcs1v15::VerifyingKey::new(public.clone()),
            rs512: rsa::pkcs1v15::VerifyingKey::new(public.clone()),
            ps256: rsa::pss::VerifyingKey::new_with_salt_len(public.clone(), 32),
            ps384: rsa::pss::VerifyingKey::new_with_salt_len(public.clone(), 48),
            ps512: rsa::pss::VerifyingKey::new_with_salt_len(public, 64),
            private,
            ours,
            size,
        }
    }

    fn reference(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        let pkcs1 = || rsa::pkcs1v15::Signature::try_from(signature);
        let pss = || rsa::pss::Signature::try_from(signature);
        match alg {
            Algorithm::RS256 => pkcs1().is_ok_and(|sig| self.rs256.verify(message, &sig).is_ok()),
            Algorithm::RS384 => pkcs1().is_ok_and(|sig| self.rs384.verify(message, &sig).is_ok()),
            Algorithm::RS512 => pkcs1().is_ok_and(|sig| self.rs512.verify(message, &sig).is_ok()),
            Algorithm::PS256 => pss().is_ok_and(|sig| self.ps256.verify(message, &sig).is_ok()),
            Algorithm::PS384 => pss().is_ok_and(|sig| self.ps384.verify(message, &sig).is_ok()),
            Algorithm::PS512 => pss().is_ok_and(|sig| self.ps512.verify(message, &sig).is_ok()),
            _ => unreachable!(),
        }
    }

    /// A signature by the `rsa` crate; `salt_len` is used by the PSS algorithms only.
    fn sign(&self, rng: &mut Rng, alg: Algorithm, salt_len: usize, message: &[u8]) -> Vec<u8> {
        use rsa::{pkcs1v15, pss};
        let key = self.private.clone();
        match alg {
            Algorithm::RS256 => {
                pkcs1v15::SigningKey::<Sha256>::new(key).try_sign_with_rng(rng, message).unwrap().to_vec()
            }
            Algorithm::RS384 => {
                pkcs1v15::SigningKey::<Sha384>::new(key).try_sign_with_rng(rng, message).unwrap().to_vec()
            }
            Algorithm::RS512 => {
                pkcs1v15::SigningKey::<Sha512>::new(key).try_sign_with_rng(rng, message).unwrap().to_vec()
            }
            Algorithm::PS256 => pss::SigningKey::<Sha256>::new_with_salt_len(key, salt_len)
                .try_sign_with_rng(rng, message)
                .unwrap()
                .to_vec(),
            Algorithm::PS384 => pss::SigningKey::<Sha384>::new_with_salt_len(key, salt_len)
                .try_sign_with_rng(rng, message)
                .unwrap()
                .to_vec(),
            _ => pss::SigningKey::<Sha512>::new_with_salt_len(key, salt_len)
                .try_sign_with_rng(rng, message)
                .unwrap()
                .to_vec(),
        }
    }

    /// `value^e mod n` as k octets (the public operation, by the crate's own exponentiation).
    fn open(&self, signature: &[u8]) -> Vec<u8> {
        let s = BoxedUint::from_be_slice(signature, self.private.n_bits_precision()).unwrap();
        pad(rsa::hazmat::rsa_encrypt(&self.private.to_public_key(), &s).unwrap().to_be_bytes().into_vec(), self.size)
    }

    /// `s + n` as k octets, or one more octet if it does not fit.
    fn plus_n(&self, signature: &[u8]) -> Vec<u8> {
        let precision = self.private.n_bits_precision() + 64;
        let s = BoxedUint::from_be_slice(signature, precision).unwrap();
        let n = BoxedUint::from_be_slice(&self.private.n_bytes(), precision).unwrap();
        let sum = s.wrapping_add(&n).to_be_bytes().into_vec();
        let significant = sum.iter().position(|&b| b != 0).unwrap_or(sum.len());
        let len = (sum.len() - significant).max(self.size);
        pad(sum, len)
    }

    /// Offsets (in the k-octet EM) of the octets a scheme's checks look at.
    fn checked_octets(&self, alg: Algorithm) -> Vec<usize> {
        let (k, h) = (self.size, hash_len(alg));
        if !is_pss(alg) {
            // 00 01 ff…ff 00 DigestInfo(19) H(h): the last padding octet, the separator, the
            // DigestInfo's first octet, its OID's last, its length octet, H's first and last.
            let t = 19 + h;
            vec![0, 1, 2, k - t - 2, k - t - 1, k - t, k - t + 11, k - h - 1, k - h, k - 1]
        } else {
            // [00 when emLen = k − 1] maskedDB(emLen − h − 1) H(h) bc; in DB: zeros, 01, salt(h).
            let em_len = (usize::try_from(self.private.n().as_ref().bit_width_vartime()).unwrap() - 1).div_ceil(8);
            let o = k - em_len;
            let e = o + em_len;
            vec![0, o, e - 2 * h - 3, e - 2 * h - 2, e - 2 * h - 1, e - h - 2, e - h - 1, k - 1]
        }
    }

    /// `em^d mod n` as k octets, for an encoding chosen by the test (`None` if em ≥ n).
    fn seal(&self, em: &[u8]) -> Option<Vec<u8>> {
        let m = BoxedUint::from_be_slice(em, self.private.n_bits_precision()).unwrap();
        if m >= *self.private.n().as_ref() {
            return None;
        }
        let s = rsa::hazmat::rsa_decrypt::<Rng>(None, &self.private, &m).ok()?;
        Some(pad(s.to_be_bytes().into_vec(), self.size))
    }
}

/// The last `len` octets of a big-endian number (it is below n, so the rest are zero).
fn pad(bytes: Vec<u8>, len: usize) -> Vec<u8> {
    bytes[bytes.len() - len..].to_vec()
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.trim_start_matches("0x").parse().ok()).unwrap_or(default)
}

/// The differential's keys (modulus bits, e): e = 65537 at the sizes where the encodings change
/// shape, and the other exponents a JWKS may carry — 3, 17 and the largest `rsa` accepts, 2^33 − 1
/// (33 squarings and 32 multiplications) — so the exponentiation's other branches run too.
const KEYS: [(usize, u64); 7] =
    [(2048, 65537), (2049, 65537), (2056, 65537), (3072, 65537), (2048, 3), (2063, 17), (3072, (1 << 33) - 1)];
/// More for long runs (`make fuzz-differential`): 4096 bits (27-bit limbs in the kernel) and an
/// odd size just below (the JWKS parser refuses more than 4096 bits by default).
const LONG_RUN_KEYS: [(usize, u64); 3] = [(4096, 65537), (4096, 3), (4095, 0x1_0000_0001)];

#[test]
fn every_rsa_algorithm_agrees_with_the_rsa_crate() {
    let cases = env_number("EDGEWARD_RSA_DIFF_CASES", 3_000);
    let seed = env_number("EDGEWARD_DIFF_SEED", 0x5eed_0525);
    let mut rng = Rng(seed);
    let mut specs = KEYS.to_vec();
    if cases >= 100_000 {
        specs.extend(LONG_RUN_KEYS);
    }
    let keys: Vec<Key> = specs.iter().map(|&(bits, e)| Key::generate_with_exponent(&mut rng, bits, e)).collect();
    let algs = Algorithm::RSA;

    // Valid signatures are the expensive part (a private-key operation); keep a few per key and
    // draw most cases from them.
    let mut pool: Vec<(usize, Algorithm, Vec<u8>, Vec<u8>)> = Vec::new();
    let mut kinds = [0u64; 10];
    let mut tally = Tally { seed, accepted: 0, refused: 0, per_alg: [0; 6] };
    for case in 0..cases {
        let kind = if pool.len() < 8 { 0 } else { rng.index(kinds.len()) };
        kinds[kind] += 1;
        let pooled = if pool.is_empty() { None } else { Some(pool[rng.index(pool.len())].clone()) };
        let (k, alg) = (rng.index(keys.len()), algs[rng.index(algs.len())]);
        let Some((k, alg, message, signature)) = (match (kind, pooled) {
            // A fresh valid signature, checked under the scheme it was made with or the other.
            (0, _) | (_, None) => {
                let len = rng.index(200);
                let message = rng.vec(len);
                let signature = keys[k].sign(&mut rng, alg, hash_len(alg), &message);
                pool.push((k, alg, message.clone(), signature.clone()));
                if pool.len() > 64 {
                    pool.swap_remove(rng.index(pool.len()));
                }
                Some((k, if rng.index(4) == 0 { other(&mut rng, alg) } else { alg }, message, signature))
            }
            // A pooled valid signature, under any algorithm, on its own key or on another.
            (1, Some((pk, palg, message, signature))) => {
                let k = if rng.index(2) == 0 { pk } else { k };
                Some((k, if rng.index(2) == 0 { palg } else { alg }, message, signature))
            }
            // Tweaked message.
            (2, Some((pk, palg, mut message, signature))) => {
                if message.is_empty() || rng.index(4) == 0 {
                    message.push(rng.next().to_le_bytes()[0]);
                } else {
                    let at = rng.index(message.len());
                    message[at] ^= 1 << rng.index(8);
                }
                Some((pk, palg, message, signature))
            }
            // A valid signature changed: one bit flipped; a leading zero octet dropped or one
            // added; or s + n (the same value mod n, out of range).
            (3, Some((pk, palg, message, mut signature))) => {
                match rng.index(3) {
                    0 => {
                        let at = rng.index(signature.len());
                        signature[at] ^= 1 << rng.index(8);
                    }
                    1 if signature[0] == 0 => signature = signature[1..].to_vec(),
                    1 => signature.insert(0, 0),
                    _ => signature = keys[pk].plus_n(&signature),
                }
                Some((pk, palg, message, signature))
            }
            // Random k octets, sometimes with the top octet cleared so s < n.
            (4, _) => {
                let mut signature = rng.vec(keys[k].size);
                if rng.index(2) == 0 {
                    signature[0] = 0;
                }
                Some((k, alg, rng.vec(16), signature))
            }
            // Edge values: 0, 1, n − 1, n, above n, all-ones; wrong lengths.
            (5, _) => {
                let size = keys[k].size;
                let n = keys[k].private.n_bytes().into_vec();
                let last = size - 1;
                let signature = match rng.index(8) {
                    0 => vec![0u8; size],
                    1 => pad([vec![0u8; size], vec![1]].concat(), size),
                    2 => n.clone(),
                    3 => [&n[..last], &[n[last] - 1]].concat(), // n is odd
                    4 if n[0] < 0xff => [&[n[0] + 1], &n[1..]].concat(),
                    5 => rng.vec(size - 1),
                    6 => rng.vec(size + 1),
                    7 => vec![],
                    _ => vec![0xff; size],
                };
                Some((k, alg, rng.vec(8), signature))
            }
            // PSS with another salt length: the crate and edgeward both require the hash length.
            (6, _) => {
                let pss = [Algorithm::PS256, Algorithm::PS384, Algorithm::PS512][rng.index(3)];
                let h = hash_len(pss);
                let salts: Vec<usize> = [0, 20, 32, 48, 64, h - 1, h + 1].into_iter().filter(|&s| s != h).collect();
                let salt = salts[rng.index(salts.len())];
                let message = rng.vec(32);
                let signature = keys[k].sign(&mut rng, pss, salt, &message);
                Some((k, pss, message, signature))
            }
            // Re-signed encodings: a valid EM with one bit flipped or one octet set to a value
            // the parsers look for, at a random place or at one where a check sits, then raised
            // to d — a well-formed signature that only the encoding checks can refuse.
            (_, Some((pk, palg, message, signature))) => {
                let key = &keys[pk];
                let mut em = key.open(&signature);
                let at = if rng.index(2) == 0 {
                    let spots = key.checked_octets(palg);
                    spots[rng.index(spots.len())]
                } else {
                    rng.index(em.len())
                };
                if rng.index(2) == 0 {
                    em[at] ^= 1 << rng.index(8);
                } else {
                    em[at] = [0x00, 0x01, 0x02, 0xff, 0xbc][rng.index(5)];
                }
                key.seal(&em).map(|signature| (pk, palg, message, signature))
            }
        }) else {
            continue;
        };
        tally.compare(case, &keys[k], alg, &message, &signature);
    }
    let Tally { accepted, refused, per_alg, .. } = tally;
    println!(
        "{cases} cases (seed {seed:#x}): {accepted} accepted, {refused} refused; per kind {kinds:?}; \
         per algorithm {algs:?} {per_alg:?}"
    );
    assert!(accepted > cases / 20, "too few valid cases: {accepted}");
    assert!(refused > cases / 2, "too few invalid cases: {refused}");
    // Every algorithm gets its share (about a sixth each).
    for (alg, count) in algs.iter().zip(per_alg) {
        assert!(count > cases / 12, "too few {alg:?} cases: {count}");
    }
}

/// Another RSA algorithm than `alg`: the other scheme, another hash, or both.
fn other(rng: &mut Rng, alg: Algorithm) -> Algorithm {
    let others: Vec<Algorithm> = Algorithm::RSA.into_iter().filter(|a| *a != alg).collect();
    others[rng.index(others.len())]
}

/// The run's seed (for failure messages), how many cases each side accepted and refused, and
/// how many ran under each algorithm of [`Algorithm::RSA`].
struct Tally {
    seed: u64,
    accepted: u64,
    refused: u64,
    per_alg: [u64; 6],
}

impl Tally {
    /// edgeward and the `rsa` crate must agree on this case.
    fn compare(&mut self, case: u64, key: &Key, alg: Algorithm, message: &[u8], signature: &[u8]) {
        let expected = key.reference(alg, message, signature);
        let ours = alg.verify(&key.ours, message, signature).is_ok();
        assert_eq!(
            ours,
            expected,
            "case {case} (seed {:#x}): {alg:?} on a {}-octet key, {}-octet signature: edgeward {ours}, rsa {expected}",
            self.seed,
            key.size,
            signature.len()
        );
        if let Some(i) = Algorithm::RSA.iter().position(|a| *a == alg) {
            self.per_alg[i] += 1;
        }
        if ours {
            self.accepted += 1;
        } else {
            self.refused += 1;
        }
    }
}

/// With a 2049-bit modulus, EM for PSS is k − 1 octets: RSAVP1's result must have a zero top
/// octet. A valid EM with 0x01 put above it (still below n) must be refused, not truncated back
/// to the valid EM — with every hash.
#[test]
fn pss_refuses_a_representative_longer_than_em_len() {
    let mut rng = Rng(0x2049);
    let key = Key::generate(&mut rng, 2049);
    for alg in [Algorithm::PS256, Algorithm::PS384, Algorithm::PS512] {
        let mut tried = 0;
        for attempt in 0..64 {
            let message = format!("message {attempt}").into_bytes();
            let signature = key.sign(&mut rng, alg, hash_len(alg), &message);
            assert!(alg.verify(&key.ours, &message, &signature).is_ok());
            let mut em = key.open(&signature);
            assert_eq!(em[0], 0, "PSS encodings are k − 1 octets here");
            em[0] = 0x01;
            let Some(forged) = key.seal(&em) else { continue };
            tried += 1;
            assert!(!key.reference(alg, &message, &forged));
            assert!(alg.verify(&key.ours, &message, &forged).is_err());
        }
        assert!(tried >= 8, "{alg:?}: too few encodings below n: {tried}");
    }
}

/// The same valid signature is accepted under its own algorithm only: no two of the six share
/// an encoding (another hash's DigestInfo, another salt length, the other scheme).
#[test]
fn a_signature_verifies_under_its_own_algorithm_only() {
    let mut rng = Rng(0x0384);
    let key = Key::generate(&mut rng, 2048);
    for alg in Algorithm::RSA {
        let message = format!("signed with {alg:?}").into_bytes();
        let signature = key.sign(&mut rng, alg, hash_len(alg), &message);
        for under in Algorithm::RSA {
            assert_eq!(under.verify(&key.ours, &message, &signature).is_ok(), under == alg, "{alg:?} under {under:?}");
            assert_eq!(key.reference(under, &message, &signature), under == alg, "rsa: {alg:?} under {under:?}");
        }
    }
}

/// Every exponent and size of the differential, 4096 bits included, with a few valid signatures
/// per algorithm: accepted by both, and refused by both once a bit of s flips.
#[test]
fn every_exponent_and_size_verifies_like_the_rsa_crate() {
    let mut rng = Rng(0xe5);
    for &(bits, e) in KEYS.iter().chain(&LONG_RUN_KEYS[..2]) {
        let key = Key::generate_with_exponent(&mut rng, bits, e);
        for alg in Algorithm::RSA {
            let message = format!("{bits} bits, e = {e}, {alg:?}").into_bytes();
            let mut signature = key.sign(&mut rng, alg, hash_len(alg), &message);
            assert!(key.reference(alg, &message, &signature), "rsa: {bits} bits, e = {e}, {alg:?}");
            assert!(alg.verify(&key.ours, &message, &signature).is_ok(), "{bits} bits, e = {e}, {alg:?}");
            let at = rng.index(signature.len());
            signature[at] ^= 1 << rng.index(8);
            assert!(!key.reference(alg, &message, &signature));
            assert!(alg.verify(&key.ours, &message, &signature).is_err(), "{bits} bits, e = {e}, {alg:?}, flipped");
        }
    }
}
