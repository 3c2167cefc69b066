//! Used DPoP proofs, kept so that each is accepted once within its window (RFC 9449 §11.1).
//!
//! Proofs are kept in a fixed number of buckets, each a byte string of at most
//! `entries_per_bucket` entries (a 16-byte proof id and its 8-byte big-endian expiry): bounded
//! in entries and bytes, whatever the traffic. An entry leaves its bucket once it has expired.
//! A bucket full of live entries refuses the proof (503), never forgets one early: forgetting
//! would let a replay through.
//!
//! The same layout serves every host: [`ReplayCache`] holds the buckets in memory (the npm
//! package's default store, the CLI), and the Envoy filter keeps each bucket under its own
//! shared-data key, updated with compare-and-set, so that every worker of an Envoy sees every
//! proof ([`record`] computes each update).

use crate::pop::ProofUse;

/// Bytes of one entry: the proof's 16-byte id and its expiry (Unix seconds, big-endian `i64`).
pub const ENTRY_BYTES: usize = 24;
/// Default number of buckets.
pub const DEFAULT_BUCKETS: usize = 16_384;
/// Default most entries per bucket: with [`DEFAULT_BUCKETS`], 1,048,576 live proofs (24 MiB when
/// all are used; a bucket takes memory only once it holds a proof), about 2,900 new proofs a
/// second with entries kept 361 s (the default window).
pub const DEFAULT_BUCKET_ENTRIES: usize = 64;

/// What recording one proof in its bucket gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// The proof is new: the bucket's bytes with it added (and expired entries left out).
    Fresh(Vec<u8>),
    /// The bucket already holds it: a replay.
    Replayed,
    /// The bucket holds `entries_per_bucket` live entries: it cannot take another one now.
    Full,
}

/// The bucket (of `buckets`) a proof belongs to.
pub fn bucket_of(proof: &ProofUse, buckets: usize) -> usize {
    let n = u64::from_be_bytes([
        proof.id[0],
        proof.id[1],
        proof.id[2],
        proof.id[3],
        proof.id[4],
        proof.id[5],
        proof.id[6],
        proof.id[7],
    ]);
    usize::try_from(n % u64::try_from(buckets.max(1)).unwrap_or(1)).unwrap_or(0)
}

/// Records `proof` at `now` in a bucket holding `bucket` (bytes of whole entries; a trailing
/// partial entry, which this code never writes, is dropped).
pub fn record(bucket: &[u8], proof: &ProofUse, now: i64, entries_per_bucket: usize) -> Recorded {
    let mut kept = Vec::with_capacity(bucket.len() + ENTRY_BYTES);
    for entry in bucket.chunks_exact(ENTRY_BYTES) {
        let (id, expiry) = entry.split_at(16);
        let mut be = [0u8; 8];
        be.copy_from_slice(expiry);
        if i64::from_be_bytes(be) <= now {
            continue;
        }
        if id == proof.id {
            return Recorded::Replayed;
        }
        kept.extend_from_slice(entry);
    }
    if kept.len() / ENTRY_BYTES >= entries_per_bucket {
        return Recorded::Full;
    }
    kept.extend_from_slice(&proof.id);
    kept.extend_from_slice(&proof.expires_at.to_be_bytes());
    Recorded::Fresh(kept)
}

/// An in-memory replay store of [`DEFAULT_BUCKETS`] (or `buckets`) buckets.
#[derive(Debug, Clone)]
pub struct ReplayCache {
    buckets: Vec<Vec<u8>>,
    entries_per_bucket: usize,
}

impl Default for ReplayCache {
    fn default() -> Self {
        ReplayCache::new(DEFAULT_BUCKETS, DEFAULT_BUCKET_ENTRIES)
    }
}

impl ReplayCache {
    /// A store of `buckets` buckets (at least 1) of at most `entries_per_bucket` entries (at least 1).
    pub fn new(buckets: usize, entries_per_bucket: usize) -> ReplayCache {
        ReplayCache { buckets: vec![Vec::new(); buckets.max(1)], entries_per_bucket: entries_per_bucket.max(1) }
    }

    /// Records `proof` at `now`: [`Recorded::Fresh`] once (the bytes are kept here),
    /// [`Recorded::Replayed`] after, [`Recorded::Full`] when its bucket cannot take it.
    pub fn record(&mut self, proof: &ProofUse, now: i64) -> Recorded {
        let index = bucket_of(proof, self.buckets.len());
        let Some(bucket) = self.buckets.get_mut(index) else { return Recorded::Full };
        match record(bucket, proof, now, self.entries_per_bucket) {
            Recorded::Fresh(bytes) => {
                *bucket = bytes;
                Recorded::Fresh(Vec::new())
            }
            other => other,
        }
    }

    /// Live and expired entries held (expired ones leave on their bucket's next write).
    pub fn len(&self) -> usize {
        self.buckets.iter().map(|b| b.len() / ENTRY_BYTES).sum()
    }

    /// Whether it holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proof(n: u8, expires_at: i64) -> ProofUse {
        ProofUse { id: [n; 16], expires_at }
    }

    #[test]
    fn a_proof_is_accepted_once_until_it_expires() {
        let mut store = ReplayCache::new(4, 8);
        assert!(matches!(store.record(&proof(1, 100), 10), Recorded::Fresh(_)));
        assert_eq!(store.record(&proof(1, 100), 50), Recorded::Replayed);
        assert!(matches!(store.record(&proof(2, 100), 50), Recorded::Fresh(_)));
        // Past its expiry the entry is gone: the proof itself would be refused as too old.
        assert!(matches!(store.record(&proof(1, 200), 100), Recorded::Fresh(_)));
    }

    #[test]
    fn a_full_bucket_refuses_rather_than_forgets() {
        let mut store = ReplayCache::new(1, 2);
        assert!(matches!(store.record(&proof(1, 100), 0), Recorded::Fresh(_)));
        assert!(matches!(store.record(&proof(2, 100), 0), Recorded::Fresh(_)));
        assert_eq!(store.record(&proof(3, 100), 0), Recorded::Full);
        assert_eq!(store.record(&proof(1, 100), 0), Recorded::Replayed, "still remembered");
        assert!(matches!(store.record(&proof(3, 200), 100), Recorded::Fresh(_)), "room once they expired");
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn bucket_bytes_are_whole_entries() {
        let Recorded::Fresh(bytes) = record(&[], &proof(7, 9), 0, 4) else { panic!() };
        assert_eq!(bytes.len(), ENTRY_BYTES);
        let Recorded::Fresh(two) = record(&bytes, &proof(8, 9), 0, 4) else { panic!() };
        assert_eq!(two.len(), 2 * ENTRY_BYTES);
        // A torn trailing entry is ignored.
        let mut torn = two.clone();
        torn.extend_from_slice(&[1, 2, 3]);
        assert_eq!(record(&torn, &proof(8, 9), 0, 4), Recorded::Replayed);
        assert!(bucket_of(&proof(9, 0), 1024) < 1024);
    }
}
