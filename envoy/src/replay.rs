//! The DPoP replay store of one Envoy: the core's buckets (`edgeward::replay`), one shared-data
//! key per bucket, so that every worker of the Envoy (one VM id) sees every proof. A bucket is
//! updated with compare-and-set: a worker that lost the race reads the bucket again and retries,
//! so two workers can never both accept one proof.

use edgeward::ProofUse;
use edgeward::replay::{self, DEFAULT_BUCKET_ENTRIES, DEFAULT_BUCKETS, Recorded};

/// How many times a worker retries a bucket another worker changed under it.
const CAS_ATTEMPTS: usize = 16;

/// Shared data as proxy-wasm offers it: a value and its compare-and-set token.
pub trait SharedData {
    /// The value under `key` and its CAS token (`None`, `None` when there is none).
    fn get(&self, key: &str) -> (Option<Vec<u8>>, Option<u32>);
    /// Sets `key` if its CAS token is still `cas`: `Ok(true)`, `Ok(false)` when another writer
    /// came first, `Err` when the host refused.
    fn set(&self, key: &str, value: &[u8], cas: Option<u32>) -> Result<bool, String>;
}

/// Why a proof was not recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The store already held it.
    Replayed,
    /// The store could not record it (full bucket, host error, endless contention).
    Unavailable(String),
}

/// The shared-data key of bucket `index`.
pub fn bucket_key(index: usize) -> String {
    format!("edgeward.dpop.{index}")
}

/// Records `proof` at `now` in `shared`.
pub fn record_in(shared: &dyn SharedData, proof: &ProofUse, now: i64) -> Result<(), Refused> {
    let key = bucket_key(replay::bucket_of(proof, DEFAULT_BUCKETS));
    for _ in 0..CAS_ATTEMPTS {
        let (bytes, cas) = shared.get(&key);
        match replay::record(bytes.as_deref().unwrap_or_default(), proof, now, DEFAULT_BUCKET_ENTRIES) {
            Recorded::Replayed => return Err(Refused::Replayed),
            Recorded::Full => return Err(Refused::Unavailable(format!("bucket {key} is full"))),
            Recorded::Fresh(updated) => match shared.set(&key, &updated, cas) {
                Ok(true) => return Ok(()),
                Ok(false) => continue,
                Err(reason) => return Err(Refused::Unavailable(reason)),
            },
        }
    }
    Err(Refused::Unavailable(format!("bucket {key} changed {CAS_ATTEMPTS} times while being written")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::{Cell, RefCell};
    use std::collections::HashMap;

    /// Shared data with proxy-wasm's semantics; `races` makes the next writes lose as if another
    /// worker had written first.
    #[derive(Default)]
    struct Memory {
        values: RefCell<HashMap<String, (Vec<u8>, u32)>>,
        races: Cell<usize>,
    }

    impl SharedData for Memory {
        fn get(&self, key: &str) -> (Option<Vec<u8>>, Option<u32>) {
            match self.values.borrow().get(key) {
                Some((value, cas)) => (Some(value.clone()), Some(*cas)),
                None => (None, None),
            }
        }

        fn set(&self, key: &str, value: &[u8], cas: Option<u32>) -> Result<bool, String> {
            let mut values = self.values.borrow_mut();
            let current = values.get(key).map(|(_, c)| *c);
            if self.races.get() > 0 {
                // Another worker wrote the bucket (its own proofs) first.
                self.races.set(self.races.get() - 1);
                let theirs = values.get(key).map(|(v, _)| v.clone()).unwrap_or_default();
                values.insert(key.to_owned(), (theirs, current.unwrap_or(0) + 1));
                return Ok(false);
            }
            if cas.is_some() && cas != current {
                return Ok(false);
            }
            values.insert(key.to_owned(), (value.to_vec(), current.unwrap_or(0) + 1));
            Ok(true)
        }
    }

    fn proof(n: u8) -> ProofUse {
        ProofUse { id: [n; 16], expires_at: 1_000 }
    }

    #[test]
    fn once_per_proof_across_workers() {
        let shared = Memory::default();
        assert_eq!(record_in(&shared, &proof(1), 0), Ok(()));
        assert_eq!(record_in(&shared, &proof(1), 10), Err(Refused::Replayed));
        assert_eq!(record_in(&shared, &proof(2), 10), Ok(()));
    }

    #[test]
    fn a_lost_race_reads_again() {
        let shared = Memory::default();
        shared.races.set(3);
        assert_eq!(record_in(&shared, &proof(1), 0), Ok(()));
        assert_eq!(record_in(&shared, &proof(1), 0), Err(Refused::Replayed), "written once it won");
        shared.races.set(CAS_ATTEMPTS);
        assert!(matches!(record_in(&shared, &proof(3), 0), Err(Refused::Unavailable(_))));
    }
}
