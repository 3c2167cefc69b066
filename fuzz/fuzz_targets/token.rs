//! Untrusted token text through the compact-JWS parser: any input gives Ok or a coded error.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = edgeward::UnverifiedToken::parse(text, edgeward::DEFAULT_MAX_TOKEN_BYTES) {
            assert!(edgeward::ALL_CODES.contains(&e.code()));
        }
    }
});
