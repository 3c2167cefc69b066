//! Untrusted JWKS documents: parsing never panics, and a parsed set never selects ambiguously.
#![no_main]
use edgeward::{Algorithm, KeySet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match KeySet::from_bytes(data, &Algorithm::ALL) {
        Ok(set) => {
            for alg in Algorithm::ALL {
                let _ = set.select(alg, None);
                let _ = set.select(alg, Some("k1"));
            }
        }
        Err(e) => assert_eq!(e.code(), "ERR_JWKS_INVALID"),
    }
});
