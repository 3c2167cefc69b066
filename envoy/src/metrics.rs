//! Metric names (documented in `envoy/README.md`). In Envoy a metric `edgeward_x` shows in
//! `/stats` as `wasmcustom.edgeward_x` and in `/stats/prometheus` as `edgeward_x`, summed over VMs.

use edgeward::ALL_CODES;

/// Requests let through (public routes and granted tokens).
pub const ALLOWED: &str = "edgeward_requests_allowed";
/// Requests let through by a rule without `requires`.
pub const PUBLIC: &str = "edgeward_requests_public";
/// Requests refused, any code.
pub const DENIED: &str = "edgeward_requests_denied";
/// Verified-token cache hits.
pub const CACHE_HITS: &str = "edgeward_cache_hits";
/// Verified-token cache misses (the token was parsed and its signature checked).
pub const CACHE_MISSES: &str = "edgeward_cache_misses";
/// JWKS fetches that stored a good document.
pub const JWKS_FETCH_OK: &str = "edgeward_jwks_fetch_ok";
/// JWKS fetches that failed (transport, status, size, or a document refused by the core).
pub const JWKS_FETCH_FAILED: &str = "edgeward_jwks_fetch_failed";
/// Keys left out of fetched JWKS documents as unusable (the rest of the document loads).
pub const JWKS_KEYS_REFUSED: &str = "edgeward_jwks_keys_refused";
/// Signatures verified through the host's `verify_signature` (RS256/384/512, ES384, ES512; see host_crypto).
pub const HOST_CRYPTO_VERIFICATIONS: &str = "edgeward_host_crypto_verifications";
/// Gauge: usable keys currently loaded, over all providers.
pub const KEYS_LOADED: &str = "edgeward_jwks_keys_loaded";

/// The counter of refusals with `code`: `ERR_JWT_EXPIRED` → `edgeward_denied_jwt_expired`.
pub fn denied_name(code: &str) -> String {
    format!("edgeward_denied_{}", code.strip_prefix("ERR_").unwrap_or(code).to_ascii_lowercase())
}

/// Every per-code refusal counter, in the order of [`ALL_CODES`].
pub fn denied_names() -> Vec<String> {
    ALL_CODES.iter().map(|code| denied_name(code)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_code_names_are_prometheus_safe_and_distinct() {
        let names = denied_names();
        assert_eq!(names.len(), ALL_CODES.len());
        assert_eq!(denied_name("ERR_SCOPE_INSUFFICIENT"), "edgeward_denied_scope_insufficient");
        for name in &names {
            assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{name}");
        }
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len());
    }
}
