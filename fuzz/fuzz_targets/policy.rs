//! Untrusted policy documents: refused with ERR_POLICY_INVALID and a path, or loaded and usable.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match edgeward::Policy::from_bytes(data) {
        Ok(policy) => {
            for (method, path) in [("GET", "/"), ("POST", "/orders/1?x=y"), ("GET", "/a/../b")] {
                let _ = policy.route(method, path);
            }
            let mut verifier = edgeward::Verifier::new(policy);
            let _ = verifier.verify("a.b.c", None, &["s"], 0);
        }
        Err(e) => assert_eq!(e.code(), "ERR_POLICY_INVALID"),
    }
});
