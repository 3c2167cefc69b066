//! edgeward: a strict JWT access-token verifier for the edge.
//!
//! One pure core, three hosts (an Envoy proxy-wasm filter, an npm package, a CLI). The core
//! does no I/O and reads no clock: the host hands it the policy, the key sets and `now`.
//!
//! ```text
//! Policy::from_json ─► Verifier::new ─► set_jwks(provider, bytes)   (when the host fetched keys)
//!                                   └─► authorize(method, path, headers, now) ─► Access | Error
//!                                   └─► verify(token, provider?, scopes, now) ─► VerifiedToken | Error
//! ```
//!
//! Every refusal is an [`Error`] with a stable [`Error::code`] and one HTTP mapping
//! ([`Error::denial`]); `Display` never prints a token or key material.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod algorithm;
pub mod audit;
pub mod base64url;
mod cache;
mod claims;
mod discovery;
mod error;
mod host_crypto;
mod http;
#[cfg(feature = "issuer")]
pub mod issuer;
mod json;
mod jwk;
mod lint;
mod p256_fast;
mod policy;
mod pop;
pub mod record;
pub mod refresh;
pub mod replay;
pub mod report;
mod request;
pub mod rotation;
mod rsa_fast;
mod token;

pub use algorithm::Algorithm;
pub use cache::{MAX_CACHE_BYTES, MAX_CACHED_TOKEN_BYTES};
pub use discovery::{Discovery, MAX_DISCOVERY_BYTES, WELL_KNOWN_OPENID_CONFIGURATION, discovery_uri};
pub use error::{ALL_CODES, ClaimFailure, ConfigError, DpopFailure, Error, Limit, Malformed, PopMissing, Unsupported};
pub use host_crypto::{
    HostCrypto, HostKey, HostVerdict, der_signature, hash_name, verify as verify_signature, verify_with_jwk,
};
pub use http::{Denial, REALM, RETRY_AFTER_SECONDS};
pub use jwk::{
    DEFAULT_MAX_RSA_BITS, Jwk, KeySet, MAX_JWKS_BYTES, MAX_JWKS_KEYS, MAX_RSA_BITS, MIN_RSA_BITS, PublicKey,
    thumbprint_of as jwk_thumbprint,
};
pub use lint::Finding;
pub use p256_fast::{GENERATOR_WINDOW_BITS, KEY_WINDOW_BITS, P256Key};
pub use policy::{
    ClaimCondition, ClaimToHeader, DEFAULT_CACHE_DURATION_SECONDS, DEFAULT_CLOCK_SKEW_SECONDS,
    DEFAULT_MAX_LIFETIME_SECONDS, DEFAULT_METHOD_OVERRIDE_HEADERS, DEFAULT_REFETCH_COOLDOWN_SECONDS,
    DEFAULT_TIMEOUT_MS, DEFAULT_TOKEN_CACHE_SIZE, FetchTarget, HeaderSource, LONG_LIVED_SECONDS, MAX_CLAIM_CONDITIONS,
    MAX_CLAIM_PATH_SEGMENTS, MAX_CLAIM_VALUES, MAX_CLOCK_SKEW_SECONDS, MAX_PEERS, MAX_POLICY_BYTES,
    MAX_TOKEN_CACHE_SIZE, PathMatch, Policy, Provider, RemoteJwks, Requirement, Route, RouteMatch, Rule, claim_at,
    normalized_header_name, split_uri,
};
pub use pop::{
    Connection, DEFAULT_DPOP_MAX_AGE_SECONDS, MAX_DPOP_MAX_AGE_SECONDS, MAX_JTI_BYTES, MAX_PROOF_BYTES, PopMode,
    PopPolicy, ProofUse, certificate_sha256,
};
pub use request::{Allowed, CacheUse, Decision, DecisionRecord, Request};
pub use rsa_fast::RsaKey;
pub use token::{DEFAULT_MAX_TOKEN_BYTES, MAX_JSON_DEPTH, MAX_JSON_VALUES, RegisteredClaims, UnverifiedToken};

use cache::{Entry, FAILURE_CACHE_SIZE, Failure, TokenCache};
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::Arc;
use token::SignedToken;

/// A token whose signature and claims have been verified. Only [`Verifier`] makes one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifiedToken {
    /// The provider that vouched for it.
    pub provider: String,
    /// The protected header.
    pub header: Map<String, Value>,
    /// All claims.
    pub claims: Map<String, Value>,
    /// Granted scopes (`scope` words and `scp` entries).
    pub scopes: Vec<String>,
    #[serde(skip)]
    registered: RegisteredClaims,
}

impl VerifiedToken {
    /// The value a claim contributes to a request header (`claim_to_headers`): strings as they
    /// are, numbers and booleans in JSON form; other types and absent claims give `None`.
    pub fn claim_header_value(&self, claim: &str) -> Option<String> {
        match self.claim(claim)? {
            Value::String(s) => Some(s.clone()),
            v @ (Value::Number(_) | Value::Bool(_)) => Some(v.to_string()),
            _ => None,
        }
    }

    /// The claim at `name`, a member or a dotted path into nested objects (`org.tenant`).
    pub fn claim(&self, name: &str) -> Option<&Value> {
        policy::claim_at(&self.claims, name)
    }

    /// `exp`, as verified.
    pub fn expires_at(&self) -> Option<f64> {
        self.registered.exp
    }
}

/// What [`Verifier::authorize`] decided for an allowed request.
#[derive(Debug, Clone, PartialEq)]
pub enum Access {
    /// The matched rule needs no token.
    Public,
    /// The request carried a valid token with every scope the rule needs.
    Granted(Arc<VerifiedToken>),
}

#[derive(Debug, Default)]
struct ProviderKeys {
    keys: Option<KeySet>,
    generation: u64,
}

/// What [`Verifier::set_jwks`] loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// Usable keys now in the provider's key set.
    pub keys: usize,
    /// Keys of the document left out as unusable, with the member at fault and why.
    pub refused: Vec<ConfigError>,
}

/// How often the verified-token cache answered, since the verifier was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Verifications answered from the cache (no parsing, no signature check).
    pub hits: u64,
    /// Verifications that parsed the token and checked its signature.
    pub misses: u64,
    /// Replays of a token whose signature failed recently, refused without a signature check.
    pub replayed_failures: u64,
}

/// Verifies tokens against a policy and the providers' current key sets.
///
/// A verifier is single-threaded state (its cache); hosts keep one per worker or per VM.
#[derive(Debug)]
pub struct Verifier {
    policy: Arc<Policy>,
    keys: Vec<ProviderKeys>,
    cache: TokenCache,
    failures: TokenCache<Failure>,
    proof_keys: pop::ProofKeys,
    stats: CacheStats,
    host: Option<Arc<dyn HostCrypto>>,
}

impl std::fmt::Debug for dyn HostCrypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HostCrypto")
    }
}

impl Verifier {
    /// A verifier for `policy`; providers with `local_jwks` have keys at once.
    pub fn new(policy: Policy) -> Verifier {
        let keys =
            policy.providers.iter().map(|p| ProviderKeys { keys: p.local_jwks.clone(), generation: 0 }).collect();
        let cache = TokenCache::new(policy.token_cache_size);
        let failures = TokenCache::new(if policy.token_cache_size == 0 { 0 } else { FAILURE_CACHE_SIZE });
        let proof_keys = TokenCache::new(pop::PROOF_KEY_CACHE_SIZE);
        Verifier {
            policy: Arc::new(policy),
            keys,
            cache,
            failures,
            proof_keys,
            stats: CacheStats::default(),
            host: None,
        }
    }

    /// Hands signature verification of the algorithms `host` supports to the host (Envoy's
    /// BoringSSL, Node's OpenSSL; src/host_crypto.rs); every other check stays here. Keys already
    /// loaded are prepared for it at once, later ones when they load.
    pub fn set_host_crypto(&mut self, host: Arc<dyn HostCrypto>) {
        for slot in &self.keys {
            if let Some(set) = &slot.keys {
                set.keys().iter().filter_map(|k| k.host_key()).for_each(|k| host.prepare(k));
            }
        }
        self.host = Some(host);
    }

    /// Whether a host verifies some signatures ([`Verifier::set_host_crypto`]).
    pub fn has_host_crypto(&self) -> bool {
        self.host.is_some()
    }

    /// Reads a policy document and builds a verifier for it.
    pub fn from_json(policy: &str) -> Result<Verifier, Error> {
        Policy::from_json(policy).map(Verifier::new)
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Replaces the fetched keys of `provider` with the JWKS document `jwks` (a provider with
    /// both `local_jwks` and `remote_jwks` keeps its inline keys beside them, on every host): how many usable keys it then holds, and the keys left
    /// out as unusable (hosts warn about them). A refused document (not a JWKS, or without a
    /// single usable key) leaves the current keys in place.
    pub fn set_jwks(&mut self, provider: &str, jwks: &[u8]) -> Result<Loaded, Error> {
        let index = self.index_of(provider)?;
        let provider = &self.policy.providers[index];
        let mut set = KeySet::from_bytes_with(jwks, &provider.algorithms, provider.max_rsa_bits)?;
        // With both sources in the policy the inline keys stay beside the fetched ones; a
        // provider with inline keys only has them replaced (a host rotating keys itself).
        if let (Some(local), Some(_)) = (&provider.local_jwks, &provider.remote_jwks) {
            set.add_keys(local);
        }
        let refused = set.refused().to_vec();
        Ok(Loaded { keys: self.set_keys(index, set), refused })
    }

    /// Replaces the key set of `provider` with an already-parsed one (for hosts that share one
    /// parsed set across verifiers); returns how many usable keys it holds.
    pub fn set_key_set(&mut self, provider: &str, keys: KeySet) -> Result<usize, Error> {
        let index = self.index_of(provider)?;
        Ok(self.set_keys(index, keys))
    }

    fn set_keys(&mut self, index: usize, mut set: KeySet) -> usize {
        let count = set.keys().len();
        let slot = &mut self.keys[index];
        if let Some(old) = &slot.keys {
            set.keep_unchanged_from(old);
        }
        let changed = slot.keys.as_ref().is_none_or(|old| !old.same_keys(&set));
        if let Some(host) = &self.host {
            // Kept keys came back from the old set with their host form already prepared.
            let old: Vec<u64> =
                slot.keys.iter().flat_map(|old| old.keys()).filter_map(|k| k.host_key()).map(|k| k.id()).collect();
            for key in set.keys().iter().filter_map(|k| k.host_key()).filter(|k| !old.contains(&k.id())) {
                host.prepare(key);
            }
        }
        slot.keys = Some(set);
        if changed {
            slot.generation = slot.generation.wrapping_add(1);
            self.cache.forget_provider(index);
            self.failures.forget_provider(index);
        }
        count
    }

    /// The current key set of `provider`, if it has one.
    pub fn key_set(&self, provider: &str) -> Option<&KeySet> {
        self.index_of(provider).ok().and_then(|i| self.keys[i].keys.as_ref())
    }

    /// How many verified tokens the cache holds.
    pub fn cached_tokens(&self) -> usize {
        self.cache.len()
    }

    /// Cache hits and misses so far (for metrics).
    pub fn cache_stats(&self) -> CacheStats {
        self.stats
    }

    fn index_of(&self, provider: &str) -> Result<usize, Error> {
        self.policy
            .provider_index(provider)
            .ok_or_else(|| Error::policy("provider", format!("unknown provider \"{provider}\"")))
    }

    /// Whether one request is allowed (see [`Verifier::decide`], which also gives the header
    /// changes a host must apply): `headers` are `(lowercase name, value)` pairs.
    pub fn authorize(&mut self, method: &str, path: &str, headers: &[(&str, &str)], now: i64) -> Result<Access, Error> {
        self.decide(&Request::new(method, path, headers), now).outcome.map(|allowed| allowed.access)
    }

    pub(crate) fn policy_arc(&self) -> &Arc<Policy> {
        &self.policy
    }

    /// Verifies `token` for `provider` (or, when `None`, the only provider, else the one whose
    /// issuer is the token's `iss`), requiring every scope in `required_scopes`, at `now`.
    pub fn verify<S: AsRef<str>>(
        &mut self,
        token: &str,
        provider: Option<&str>,
        required_scopes: &[S],
        now: i64,
    ) -> Result<Arc<VerifiedToken>, Error> {
        let wanted = provider.map(|name| self.index_of(name)).transpose()?;
        if let Some(entry) = self.cache.get(token) {
            let current = self.keys[entry.provider].generation;
            if wanted.is_none_or(|w| w == entry.provider) && entry.generation == current {
                let provider = &self.policy.providers[entry.provider];
                self.stats.hits = self.stats.hits.saturating_add(1);
                claims::check_time(&entry.token.registered, provider.clock_skew_seconds, now)?;
                claims::check_scopes(&entry.token.scopes, required_scopes)?;
                return Ok(Arc::clone(&entry.token));
            }
        }

        if let Some(failure) = self.failures.get(token) {
            let current = self.keys[failure.provider].generation;
            if wanted.is_none_or(|w| w == failure.provider) && failure.generation == current {
                self.stats.replayed_failures = self.stats.replayed_failures.saturating_add(1);
                return Err(Error::BadSignature);
            }
        }
        self.stats.misses = self.stats.misses.saturating_add(1);
        // The cheap work first, and only the work the token has earned: the header, the key,
        // the signature over the raw bytes; the claims only once the signature verified. (Only a
        // verifier asked to pick the provider by `iss` must read the claims before the key.)
        let signed = SignedToken::parse(token, self.policy.max_token_bytes)?;
        let (index, signed, claims_first) = match wanted {
            Some(index) => (index, signed, None),
            None if self.policy.providers.len() == 1 => (0, signed, None),
            None => {
                let unverified = signed.clone().with_claims()?;
                (self.provider_for(&unverified)?, signed, Some(unverified))
            }
        };
        let provider = &self.policy.providers[index];
        let alg = Algorithm::from_name(&signed.alg)
            .filter(|alg| provider.algorithms.contains(alg))
            .ok_or(Error::AlgorithmNotAllowed)?;
        let keys = self.keys[index].keys.as_ref().filter(|k| !k.is_empty()).ok_or(Error::JwksUnavailable)?;
        let jwk = keys.select(alg, signed.kid.as_deref())?;
        let host = self.host.as_deref();
        if let Err(error) = verify_signature(host, alg, jwk, signed.signing_input.as_bytes(), &signed.signature) {
            // A signature that failed is remembered; a host that could not answer is not (the
            // next attempt asks again).
            if error == Error::BadSignature {
                let generation = self.keys[index].generation;
                self.failures.insert(token, Failure { provider: index, generation });
            }
            return Err(error);
        }
        let unverified = match claims_first {
            Some(unverified) => unverified,
            None => signed.with_claims()?,
        };

        let registered = &unverified.registered;
        claims::check_time(registered, provider.clock_skew_seconds, now)?;
        claims::check_static(registered, &unverified.claims, unverified.typ.as_deref(), provider)?;
        if self.policy.deny_wildcard_scopes && registered.scopes.iter().any(|s| claims::is_wildcard(s)) {
            return Err(Error::WildcardScope);
        }

        let verified = Arc::new(VerifiedToken {
            provider: provider.name.clone(),
            scopes: unverified.registered.scopes.clone(),
            registered: unverified.registered,
            header: unverified.header,
            claims: unverified.claims,
        });
        let generation = self.keys[index].generation;
        self.cache.insert(token, Entry { provider: index, generation, token: Arc::clone(&verified) });
        claims::check_scopes(&verified.scopes, required_scopes)?;
        Ok(verified)
    }

    /// The issuer a token names, to choose among a rule's alternatives before verifying it: a
    /// token this verifier has verified answers from its cache (no parsing), any other from its
    /// unverified payload. `None` when that cannot be read (verifying it will say why).
    pub(crate) fn claimed_issuer(&self, token: &str) -> Option<String> {
        if let Some(entry) = self.cache.get(token) {
            return Some(self.policy.providers[entry.provider].issuer.clone());
        }
        let signed = SignedToken::parse(token, self.policy.max_token_bytes).ok()?;
        signed.with_claims().ok()?.registered.iss
    }

    fn provider_for(&self, token: &UnverifiedToken<'_>) -> Result<usize, Error> {
        if self.policy.providers.len() == 1 {
            return Ok(0);
        }
        let iss = token.registered.iss.as_deref().ok_or_else(|| Error::claim_error("iss", ClaimFailure::Missing))?;
        self.policy.providers.iter().position(|p| p.issuer == iss).ok_or_else(|| {
            let issuers: Vec<&String> = self.policy.providers.iter().map(|p| &p.issuer).collect();
            Error::claim_mismatch("iss", format!("the issuer of a provider: {}", claims::quoted(&issuers)))
        })
    }
}
