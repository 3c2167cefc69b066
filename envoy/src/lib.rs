//! edgeward as an Envoy proxy-wasm HTTP filter.
//!
//! The filter is glue: every decision is the core's (`Verifier::decide` for a request, including
//! its header changes; `edgeward::refresh` for the shared JWKS fetch schedule). [`config`] (plugin
//! configuration), [`jwks`] (what a fetched document must be), [`decision`] (a refusal as a local
//! reply), [`host_crypto`] (RSA through Envoy's `verify_signature`), [`metrics`] (names) and [`replay`] (DPoP proofs
//! in shared data) are plain Rust with native tests; only `filter` (built for
//! wasm32) talks to the host.

pub mod config;
pub mod decision;
pub mod host_crypto;
pub mod jwks;
pub mod metrics;
pub mod replay;

#[cfg(target_arch = "wasm32")]
mod filter;
