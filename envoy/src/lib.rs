//! edgeward as an Envoy proxy-wasm HTTP filter.
//!
//! The filter is glue: [`config`] (plugin configuration), [`fetch`] (the shared JWKS fetch
//! schedule), [`jwks`] (what a fetched document must be), [`decision`] (one request → header
//! mutations or a refusal) and [`metrics`] (names) are plain Rust with native tests; only
//! `filter` (built for wasm32) talks to the host.

pub mod config;
pub mod decision;
pub mod fetch;
pub mod jwks;
pub mod metrics;

#[cfg(target_arch = "wasm32")]
mod filter;
