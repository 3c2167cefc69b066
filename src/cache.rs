//! A bounded cache of verified tokens, keyed by the exact token text.
//!
//! A hit skips parsing and the signature check only: the caller still checks the time claims
//! against this call's `now` and the scopes of this request. Each entry records the generation of
//! its provider's key set; replacing the keys with a different set bumps the generation, so an
//! entry verified by a key that has left the JWKS is never used again. Eviction is first-in,
//! first-out, bounded both in entries and in bytes.

use crate::VerifiedToken;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// Tokens longer than this are verified every time, never cached.
pub const MAX_CACHED_TOKEN_BYTES: usize = 8 * 1024;
/// Upper bound on the cache's token bytes (each entry is counted as three times its token length,
/// for the decoded header and claims kept beside it).
pub const MAX_CACHE_BYTES: usize = 32 * 1024 * 1024;

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub provider: usize,
    pub generation: u64,
    pub token: Arc<VerifiedToken>,
}

/// A token whose signature did not verify under its provider's key set `generation`: a replay
/// of it costs one lookup, not a signature check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Failure {
    pub provider: usize,
    pub generation: u64,
}

/// Most recent signature failures remembered per verifier.
pub(crate) const FAILURE_CACHE_SIZE: usize = 256;

/// What a cache entry belongs to, so that a provider's entries can go when its keys change.
pub(crate) trait OfProvider {
    fn provider(&self) -> usize;
}

impl OfProvider for Entry {
    fn provider(&self) -> usize {
        self.provider
    }
}

impl OfProvider for Failure {
    fn provider(&self) -> usize {
        self.provider
    }
}

#[derive(Debug)]
pub(crate) struct TokenCache<V = Entry> {
    capacity: usize,
    bytes: usize,
    entries: HashMap<Arc<str>, V>,
    order: VecDeque<Arc<str>>,
}

impl<V> Default for TokenCache<V> {
    fn default() -> Self {
        TokenCache { capacity: 0, bytes: 0, entries: HashMap::new(), order: VecDeque::new() }
    }
}

fn weight(token: &str) -> usize {
    token.len().saturating_mul(3)
}

impl<V: OfProvider> TokenCache<V> {
    pub fn new(capacity: usize) -> Self {
        TokenCache { capacity, ..TokenCache::default() }
    }

    pub fn get(&self, token: &str) -> Option<&V> {
        self.entries.get(token)
    }

    pub fn insert(&mut self, token: &str, entry: V) {
        if self.capacity == 0 || token.len() > MAX_CACHED_TOKEN_BYTES {
            return;
        }
        if let Some(existing) = self.entries.get_mut(token) {
            *existing = entry;
            return;
        }
        while self.entries.len() >= self.capacity || self.bytes.saturating_add(weight(token)) > MAX_CACHE_BYTES {
            let Some(oldest) = self.order.pop_front() else { break };
            self.entries.remove(&oldest);
            self.bytes = self.bytes.saturating_sub(weight(&oldest));
        }
        let key: Arc<str> = Arc::from(token);
        self.bytes = self.bytes.saturating_add(weight(token));
        self.order.push_back(Arc::clone(&key));
        self.entries.insert(key, entry);
    }

    /// Drops every entry of `provider` (its keys changed).
    pub fn forget_provider(&mut self, provider: usize) {
        self.entries.retain(|_, e| e.provider() != provider);
        let entries = &self.entries;
        let mut bytes = 0usize;
        self.order.retain(|k| {
            let keep = entries.contains_key(k);
            if keep {
                bytes = bytes.saturating_add(weight(k));
            }
            keep
        });
        self.bytes = bytes;
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
}
