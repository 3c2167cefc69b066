//! edgeward for JavaScript: the wasm-bindgen glue under the npm package `edgeward`.
//!
//! Glue only. Owned strings and numbers cross the boundary; the JS wrapper (`js/lib/api.js`)
//! turns them into the public API (`Verifier`, `EdgewardError`, …). Every decision is the core's:
//! this file maps JS arguments to [`edgeward::Verifier`] calls and the core's results to
//! numbers and JSON text.
//!
//! Hot path: `verify` and `authorize` return a number, not an object. `0` means "refused" (the
//! error waits in [`Core::take_error`]), `1` means "public route", `2` a verified token too large
//! to remember, and any larger number names a verified token. The same verified token (the core's cache hands back the same `Arc`) gets the
//! same number, so the JS side decodes each verified token's JSON once and reuses it; numbers are
//! never reused for another token.
//!
//! Proof of possession: `decide` takes the connection (scheme, authority, the client
//! certificate's DER and its URI SAN) and leaves an allowed request's DPoP proof in
//! [`Core::take_proof`]; the JS side records it in its replay store (which may answer later, with
//! other requests decided in between) and asks [`Core::proof_refusal`] for the core's refusal when
//! the store held it or could not answer. [`ReplayStore`] is the core's in-memory store.

use edgeward::replay::{Recorded, ReplayCache};
use edgeward::{
    Access, Algorithm, Allowed, Connection, Error, HostCrypto, HostKey, HostVerdict, MAX_CACHED_TOKEN_BYTES, ProofUse,
    Request, VerifiedToken, Verifier,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use wasm_bindgen::prelude::wasm_bindgen;

/// `verify`/`authorize` result: refused; the error is in [`Core::take_error`].
const REFUSED: u32 = 0;
/// `authorize` result: the matched rule needs no token.
const PUBLIC: u32 = 1;
/// `verify`/`authorize` result: verified, but too large to be remembered (the core does not
/// cache it either): the JS side decodes it and forgets it.
const UNREMEMBERED: u32 = 2;
/// The first number given to a remembered verified token.
const FIRST_TOKEN_ID: u32 = 3;
/// How many verified tokens keep their number (and stay alive) here; older ones get a new number
/// if the core hands them back again, which only costs the JS side one more JSON decode. With
/// tokens of at most `MAX_CACHED_TOKEN_BYTES`, this holds a few MiB at most.
const REMEMBERED_TOKENS: usize = 1024;

/// One verifier (policy, key sets, token cache) for the JS `Verifier` class.
#[wasm_bindgen]
pub struct Core {
    verifier: Verifier,
    error: Option<Error>,
    last: Option<Arc<VerifiedToken>>,
    /// The header changes of the last allowed `decide`, as JSON (`""` when there are none).
    changes: String,
    /// The last `decide`'s record as JSON, when it was asked for (`""` otherwise).
    record: String,
    /// The DPoP proof of the last allowed `decide`, as JSON (`""` when it used none).
    proof: String,
    ids: TokenIds,
}

/// Numbers for verified tokens, keyed by the identity of the core's `Arc`. Holding the `Arc`
/// keeps its address from being reused while the number is remembered.
#[derive(Default)]
struct TokenIds {
    next: u32,
    by_address: HashMap<usize, (u32, Arc<VerifiedToken>)>,
    order: VecDeque<usize>,
}

impl TokenIds {
    fn id_of(&mut self, token: &Arc<VerifiedToken>) -> u32 {
        let address = Arc::as_ptr(token).addr();
        if let Some((id, _)) = self.by_address.get(&address) {
            return *id;
        }
        if self.order.len() >= REMEMBERED_TOKENS {
            if let Some(oldest) = self.order.pop_front() {
                self.by_address.remove(&oldest);
            }
        }
        self.next = self.next.checked_add(1).filter(|n| *n >= FIRST_TOKEN_ID).unwrap_or(FIRST_TOKEN_ID);
        self.by_address.insert(address, (self.next, Arc::clone(token)));
        self.order.push_back(address);
        self.next
    }

    fn clear(&mut self) {
        self.by_address.clear();
        self.order.clear();
    }
}

/// What JS needs to build an `EdgewardError` and, for the middleware, the HTTP answer: always
/// from [`Error::denial`], the one place errors become HTTP.
fn error_json(error: &Error) -> String {
    let denial = error.denial();
    let position = error.position();
    json!({
        "code": error.code(),
        "message": error.to_string(),
        "claim": error.claim(),
        "path": error.path(),
        "line": position.map(|(line, _)| line),
        "column": position.map(|(_, column)| column),
        "status": denial.status,
        "www_authenticate": denial.www_authenticate,
        "retry_after": denial.retry_after,
        "error": denial.error,
        "body": denial.body(),
        "headers": denial.headers(),
    })
    .to_string()
}

/// `now` arrives as a JS number; the wrapper checks it is a safe integer. Anything else is
/// refused here too (thrown as text) rather than rounded.
fn seconds(now: f64) -> Result<i64, String> {
    const SAFE: f64 = 9_007_199_254_740_991.0;
    if !(now.is_finite() && now.fract() == 0.0 && (-SAFE..=SAFE).contains(&now)) {
        return Err("now must be a safe integer (Unix seconds)".to_owned());
    }
    #[expect(clippy::as_conversions, reason = "a finite integer within ±2^53 converts to i64 exactly")]
    Ok(now as i64)
}

#[wasm_bindgen]
extern "C" {
    /// The JS side's native signature verification (`node:crypto` in Node; js/lib/api.js,
    /// `nodeHostCrypto`). Keys arrive as SPKI DER with a number naming the loaded key, so the JS
    /// side can keep a `KeyObject` per key; the other arguments are views of wasm memory, valid
    /// for the call only.
    pub type JsHostCrypto;

    /// Whether the JS side verifies `alg` (a JWS `alg` name).
    #[wasm_bindgen(method)]
    fn supports(this: &JsHostCrypto, alg: &str) -> bool;

    /// Prepares a newly loaded key (key number 0: do not keep it).
    #[wasm_bindgen(method)]
    fn prepare(this: &JsHostCrypto, key: u32, spki: &[u8]);

    /// `1` valid, `0` invalid; anything else, or a throw, is a failed call.
    #[wasm_bindgen(method, catch)]
    fn verify(
        this: &JsHostCrypto,
        alg: &str,
        key: u32,
        spki: &[u8],
        input: &[u8],
        signature: &[u8],
    ) -> Result<i32, wasm_bindgen::JsValue>;
}

thread_local! {
    /// The JS host crypto of this module instance (wasm is single-threaded: one per instance).
    static JS_HOST: RefCell<Option<JsHostCrypto>> = const { RefCell::new(None) };
}

/// [`HostCrypto`] through [`JS_HOST`], for the algorithms it said it supports.
struct NodeHost {
    algorithms: Vec<Algorithm>,
}

/// A key's number for the JS side: 0 (do not keep) past `u32::MAX` loaded keys.
fn js_key_number(key: &HostKey) -> u32 {
    u32::try_from(key.id()).unwrap_or(0)
}

impl HostCrypto for NodeHost {
    fn supports(&self, alg: Algorithm) -> bool {
        self.algorithms.contains(&alg)
    }

    fn prepare(&self, key: &HostKey) {
        JS_HOST.with(|host| {
            if let Some(host) = host.borrow().as_ref() {
                host.prepare(js_key_number(key), key.spki_der());
            }
        });
    }

    fn verify(&self, alg: Algorithm, key: &HostKey, signing_input: &[u8], signature: &[u8]) -> HostVerdict {
        JS_HOST.with(|host| match host.borrow().as_ref() {
            None => HostVerdict::Failed("no host crypto installed".to_owned()),
            Some(host) => match host.verify(alg.name(), js_key_number(key), key.spki_der(), signing_input, signature) {
                Ok(1) => HostVerdict::Valid,
                Ok(0) => HostVerdict::Invalid,
                Ok(other) => HostVerdict::Failed(format!("node:crypto answered {other}")),
                Err(_) => HostVerdict::Failed("node:crypto threw".to_owned()),
            },
        })
    }
}

/// Installs the JS side's native signature verification for this module instance; every `Core`
/// that calls [`Core::use_host_crypto`] then hands it the algorithms it supports.
#[wasm_bindgen]
pub fn install_host_crypto(host: JsHostCrypto) {
    JS_HOST.with(|slot| *slot.borrow_mut() = Some(host));
}

/// Verifies one signature with a JWK, as a verifier does for a token (through the installed host
/// crypto when `host` and the host supports `alg`): `""` when it verifies, else the error code.
/// For differential tests of the two paths (Wycheproof vectors); nothing else needs it.
#[wasm_bindgen]
pub fn verify_signature_with_jwk(alg: &str, jwk: &str, input: &[u8], signature: &[u8], host: bool) -> String {
    let Some(algorithm) = Algorithm::from_name(alg) else { return Error::AlgorithmNotAllowed.code().to_owned() };
    let node = host.then(node_host).flatten();
    let host: Option<&dyn HostCrypto> = match &node {
        Some(node) => Some(node),
        None => None,
    };
    match edgeward::verify_with_jwk(host, algorithm, jwk, input, signature) {
        Ok(()) => String::new(),
        Err(e) => e.code().to_owned(),
    }
}

/// The installed JS host crypto as a [`NodeHost`] with the algorithms it supports.
fn node_host() -> Option<NodeHost> {
    JS_HOST.with(|host| {
        let host = host.borrow();
        let host = host.as_ref()?;
        Some(NodeHost { algorithms: Algorithm::ALL.into_iter().filter(|a| host.supports(a.name())).collect() })
    })
}

/// Required scopes arrive as one string, separated by single spaces (the wrapper refuses scopes
/// that are empty or contain a space).
fn scope_list(scopes: &str) -> Vec<&str> {
    scopes.split(' ').filter(|s| !s.is_empty()).collect()
}

#[wasm_bindgen]
impl Core {
    /// Loads a policy document; throws the error's JSON text (the wrapper makes it an
    /// `EdgewardError`).
    #[wasm_bindgen(constructor)]
    pub fn new(policy: &str) -> Result<Core, String> {
        let verifier = Verifier::from_json(policy).map_err(|e| error_json(&e))?;
        Ok(Core {
            verifier,
            error: None,
            last: None,
            changes: String::new(),
            record: String::new(),
            proof: String::new(),
            ids: TokenIds::default(),
        })
    }

    /// Hands the signatures of the algorithms the installed JS host crypto supports
    /// ([`install_host_crypto`]) to it; returns whether there was one to use.
    pub fn use_host_crypto(&mut self) -> bool {
        match node_host() {
            Some(host) if !host.algorithms.is_empty() => {
                self.verifier.set_host_crypto(std::sync::Arc::new(host));
                true
            }
            _ => false,
        }
    }

    /// Replaces a provider's key set; returns `{"keys": n, "refused": ["keys[1].x: why", …]}` as
    /// JSON text (keys left out as unusable), or throws the error's JSON text. A refused document
    /// (malformed, or without a single usable key) leaves the current keys in place.
    pub fn set_jwks(&mut self, provider: &str, jwks: &[u8]) -> Result<String, String> {
        let loaded = self.verifier.set_jwks(provider, jwks).map_err(|e| error_json(&e))?;
        let refused: Vec<String> = loaded.refused.iter().map(ToString::to_string).collect();
        Ok(json!({ "keys": loaded.keys, "refused": refused }).to_string())
    }

    /// How many usable keys a provider has now (`-1`: no key set yet or unknown provider).
    pub fn key_count(&self, provider: &str) -> i32 {
        self.verifier.key_set(provider).map_or(-1, |set| i32::try_from(set.keys().len()).unwrap_or(i32::MAX))
    }

    /// Verifies a token: a token number (≥ 2), or `0` with the error in [`Core::take_error`].
    pub fn verify(&mut self, token: &str, provider: Option<String>, scopes: &str, now: f64) -> Result<u32, String> {
        let now = seconds(now)?;
        Ok(match self.verifier.verify(token, provider.as_deref(), &scope_list(scopes), now) {
            Ok(verified) => self.granted(verified, token.len()),
            Err(e) => self.refuse(e),
        })
    }

    /// Decides a request by the policy's rules ([`Verifier::decide`]): `1` for a public route, a
    /// token number (≥ 2), or `0` with the error in [`Core::take_error`]. `headers` holds
    /// `name\0value` pairs joined by `\0`, names in lowercase. The header changes of an allowed
    /// request wait in [`Core::take_changes`], its DPoP proof in [`Core::take_proof`].
    ///
    /// The connection (each part optional; absent for callers that know none): the `scheme` and
    /// `authority` the request came to (DPoP's `htu`), the DER of the client certificate the TLS
    /// handshake proved the client holds the key of (hashed here; the core compares it with a
    /// token's `cnf["x5t#S256"]`), and the first URI SAN of a certificate the TLS layer verified.
    #[expect(clippy::too_many_arguments, reason = "one flat call across the wasm boundary per request")]
    pub fn decide(
        &mut self,
        method: &str,
        path: &str,
        headers: &[u8],
        now: f64,
        case_insensitive: bool,
        record: bool,
        scheme: Option<String>,
        authority: Option<String>,
        peer_certificate: Option<Vec<u8>>,
        peer_uri_san: Option<String>,
    ) -> Result<u32, String> {
        self.decide_as(
            Check::Rules { case_insensitive },
            (method, path, headers),
            now,
            record,
            (scheme, authority, peer_certificate, peer_uri_san),
        )
    }

    /// Authenticates a request without the policy's rules ([`Verifier::authenticate`]: a
    /// per-route guard): the token of `provider` (absent: the one provider, or the one the token's
    /// `iss` names), verified, its proof of possession checked. Answers as [`Core::decide`] does
    /// (never `1`: a guard always needs a token), with the same connection arguments.
    #[expect(clippy::too_many_arguments, reason = "one flat call across the wasm boundary per request")]
    pub fn authenticate(
        &mut self,
        provider: Option<String>,
        method: &str,
        path: &str,
        headers: &[u8],
        now: f64,
        record: bool,
        scheme: Option<String>,
        authority: Option<String>,
        peer_certificate: Option<Vec<u8>>,
        peer_uri_san: Option<String>,
    ) -> Result<u32, String> {
        self.decide_as(
            Check::Guard { provider: provider.as_deref() },
            (method, path, headers),
            now,
            record,
            (scheme, authority, peer_certificate, peer_uri_san),
        )
    }

    /// The token `provider`'s `from_headers` find in `headers` (`name\0value` pairs, as
    /// [`Core::decide`] takes them), by the core's rules ([`edgeward::Provider::extract_token`]);
    /// absent `provider`: the policy's only one. `None`: no token (or an unknown provider, which
    /// the wrapper refuses first).
    pub fn extract_token(&self, provider: Option<String>, headers: &[u8]) -> Option<String> {
        let policy = self.verifier.policy();
        let found = match provider.as_deref() {
            Some(name) => policy.provider(name)?,
            None if policy.providers.len() == 1 => policy.providers.first()?,
            None => return None,
        };
        let headers = header_text(headers);
        let pairs = header_list(&headers);
        let request = Request::new("GET", "/", &pairs);
        found.extract_token(|name| request.header(name))
    }

    /// The record of the last [`Core::decide`] asked for one, as JSON text
    /// ([`edgeward::DecisionRecord`]), or `""`; once.
    pub fn take_record(&mut self) -> String {
        std::mem::take(&mut self.record)
    }

    /// The DPoP proof the last allowed [`Core::decide`] used, as JSON text (`{"key": "dpop:…",
    /// "ttlSeconds": n, "expiresAt": unix seconds}`: what the replay store must keep, and how
    /// long), or `""` when it used none; once. The request may go on only once the store recorded it.
    pub fn take_proof(&mut self) -> String {
        std::mem::take(&mut self.proof)
    }

    /// The refusal (error JSON, as [`Core::take_error`] gives) of an allowed request whose DPoP
    /// proof, used with a token of `provider`, the replay store already held (`replayed`:
    /// `ERR_DPOP_REPLAYED`, the provider's DPoP challenge) or could not record
    /// (`ERR_REPLAY_STORE_UNAVAILABLE`, 503; `reason` for logs). Needs no earlier decision: the
    /// store answers after other requests were decided.
    pub fn proof_refusal(&self, provider: &str, replayed: bool, reason: &str) -> String {
        let error = if replayed {
            Error::dpop_replayed_for(self.verifier.policy().provider(provider))
        } else {
            Error::replay_store_unavailable(reason)
        };
        error_json(&error)
    }

    /// Whether the policy reads client certificates for every request (a provider's
    /// `proof_of_possession` is `mtls` or `any`, `bind_subject_to_peer`, or a rule's `peers`);
    /// otherwise a host reads one only for a token that turns out bound to it.
    pub fn reads_peer_certificates(&self) -> bool {
        self.verifier.policy().reads_peer_certificates()
    }

    /// The header changes of the last allowed [`Core::decide`] as JSON text
    /// (`{"remove": [names], "set": [[name, value]]}`), or `""` when there are none; once.
    pub fn take_changes(&mut self) -> String {
        std::mem::take(&mut self.changes)
    }

    /// The providers whose tokens the rule for `method` and `path` takes (one, or each of a
    /// `requires_any`'s), as a JSON array (`[]` for none), so the wrapper knows which remote JWKS
    /// to refresh.
    pub fn route_providers(&self, method: &str, path: &str) -> String {
        let providers: Vec<&str> = match self.verifier.policy().route(method, path) {
            Ok(edgeward::Route::Protected(alternatives)) => {
                alternatives.iter().map(|r| r.provider_name.as_str()).collect()
            }
            _ => Vec::new(),
        };
        json!(providers).to_string()
    }

    /// The header names (lowercase) a decision reads (token and method-override headers), as a
    /// JSON array: for hosts that can only look headers up by name, not list them.
    pub fn header_names(&self) -> String {
        let policy = self.verifier.policy();
        let mut names: Vec<&str> = Vec::new();
        let sources = policy.providers.iter().flat_map(|p| &p.from_headers).map(|s| s.name.as_str());
        for name in sources.chain(policy.method_override_headers.iter().map(String::as_str)) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        serde_json::to_string(&names).unwrap_or_else(|_| "[]".to_owned())
    }

    /// A provider's `remote_jwks` (uri and durations) as JSON text, or `None` when it has none:
    /// the defaults of the JS fetcher, so one policy drives it as it drives the Envoy filter.
    pub fn remote_jwks(&self, provider: &str) -> Option<String> {
        let found = self.verifier.policy().provider(provider)?;
        let remote = found.remote_jwks.as_ref()?;
        let mut info = json!({
            "uri": remote.uri,
            "cache_duration_seconds": remote.cache_duration_seconds,
            "timeout_ms": remote.timeout_ms,
            "refetch_cooldown_seconds": remote.refetch_cooldown_seconds,
        });
        // With discovery only (`uri` is then the configuration's): the issuer it must name.
        if remote.discovery {
            info["discovery"] = Value::Bool(true);
            info["issuer"] = Value::String(found.issuer.clone());
        }
        Some(info.to_string())
    }

    /// The provider names, as a JSON array.
    pub fn provider_names(&self) -> String {
        let names: Vec<&str> = self.verifier.policy().providers.iter().map(|p| p.name.as_str()).collect();
        serde_json::to_string(&names).unwrap_or_else(|_| "[]".to_owned())
    }

    /// The last verified token (`{provider, header, claims, scopes}`) as JSON text.
    pub fn last_json(&self) -> String {
        self.last.as_ref().and_then(|t| serde_json::to_string(&**t).ok()).unwrap_or_else(|| "null".to_owned())
    }

    /// The last refusal as JSON text (`code`, `message`, `claim`, `path` and the HTTP answer), once.
    pub fn take_error(&mut self) -> String {
        self.error.take().map_or_else(|| "null".to_owned(), |e| error_json(&e))
    }

    /// The policy's `token_cache_size` (0: the cache is off).
    pub fn cache_capacity(&self) -> u32 {
        u32::try_from(self.verifier.policy().token_cache_size).unwrap_or(u32::MAX)
    }

    /// How many verified tokens the core's cache holds.
    pub fn cached_tokens(&self) -> u32 {
        u32::try_from(self.verifier.cached_tokens()).unwrap_or(u32::MAX)
    }

    /// Forgets the token numbers (and the tokens they keep alive).
    pub fn forget_ids(&mut self) {
        self.ids.clear();
        self.last = None;
    }
}

/// Which decision [`Core::decide_as`] makes: by the policy's rules, or a per-route guard's.
#[derive(Clone, Copy)]
enum Check<'a> {
    Rules { case_insensitive: bool },
    Guard { provider: Option<&'a str> },
}

/// The header pairs' bytes as text: UTF-8 as the wrapper's TextEncoder writes it (one copy into
/// wasm memory, where a string argument is copied character by character), borrowed when valid;
/// anything else has its invalid bytes replaced (U+FFFD), as a JS string's lone surrogates are.
/// `from_utf8` first: `from_utf8_lossy` alone borrows too, but walks valid text chunk by chunk,
/// several times slower on every request.
fn header_text(headers: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(headers) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(headers),
    }
}

/// `name\0value` pairs joined by `\0` as `(name, value)` pairs.
fn header_list(headers: &str) -> Vec<(&str, &str)> {
    let mut pairs = Vec::new();
    let mut parts = headers.split('\0');
    while let (Some(name), Some(value)) = (parts.next(), parts.next()) {
        pairs.push((name, value));
    }
    pairs
}

/// The connection arguments of [`Core::decide`]: scheme, authority, certificate DER, URI SAN.
type ConnectionArgs = (Option<String>, Option<String>, Option<Vec<u8>>, Option<String>);

impl Core {
    /// [`Core::decide`] and [`Core::authenticate`]: the decision, its record, header changes and
    /// proof kept for the `take_*` calls.
    fn decide_as(
        &mut self,
        check: Check<'_>,
        (method, path, headers): (&str, &str, &[u8]),
        now: f64,
        record: bool,
        (scheme, authority, peer_certificate, peer_uri_san): ConnectionArgs,
    ) -> Result<u32, String> {
        let now = seconds(now)?;
        let headers = header_text(headers);
        let pairs = header_list(&headers);
        let connection = Connection {
            scheme: scheme.as_deref(),
            authority: authority.as_deref(),
            peer_certificate_sha256: peer_certificate.map(|der| Sha256::digest(&der).into()),
            peer_uri_san: peer_uri_san.as_deref(),
        };
        let decision = match check {
            Check::Rules { case_insensitive } => {
                let request = Request { case_insensitive, connection, ..Request::new(method, path, &pairs) };
                self.verifier.decide(&request, now)
            }
            Check::Guard { provider } => {
                let request = Request { connection, ..Request::new(method, path, &pairs) };
                self.verifier.authenticate(&request, provider, now)
            }
        };
        self.record = if record {
            serde_json::to_string(&decision.record(self.verifier.policy())).unwrap_or_default()
        } else {
            String::new()
        };
        self.proof = String::new();
        Ok(match decision.outcome {
            Ok(allowed) => {
                self.changes = changes_json(&allowed);
                if let Some(proof) = &allowed.proof {
                    self.proof = proof_json(proof, now);
                }
                match allowed.access {
                    Access::Public => PUBLIC,
                    // The header text bounds the token's length.
                    Access::Granted(verified) => self.granted(verified, headers.len()),
                }
            }
            Err(e) => self.refuse(e),
        })
    }
}

fn proof_json(proof: &ProofUse, now: i64) -> String {
    json!({ "key": proof.key(), "ttlSeconds": proof.ttl_seconds(now), "expiresAt": proof.expires_at }).to_string()
}

/// A per-route guard's requirement (`requireScopes` / `requireClaims`), validated once by the
/// core ([`edgeward::Requirement::for_guard`]) and checked by it against verified tokens.
#[wasm_bindgen]
pub struct Guard {
    requirement: edgeward::Requirement,
}

#[wasm_bindgen]
impl Guard {
    /// `{"scopes": […], "claims": {name: [values]}, "peers": […]}`; throws the error's JSON text.
    #[wasm_bindgen(constructor)]
    pub fn new(requirement: &str) -> Result<Guard, String> {
        Ok(Guard { requirement: edgeward::Requirement::for_guard(requirement).map_err(|e| error_json(&e))? })
    }

    /// Checks a verified token's `claims` (a JSON object) and `scopes` (a JSON array of strings),
    /// as the middleware handed them out, and the connection's verified peer ID (`peer_uri_san`):
    /// `""` when the guard admits it, else the refusal's error JSON (`ERR_PEER_DENIED`,
    /// `ERR_PRINCIPAL_DENIED`, `ERR_SCOPE_INSUFFICIENT`: 403 with the core's challenge).
    pub fn check(&self, claims: &str, scopes: &str, peer_uri_san: Option<String>) -> Result<String, String> {
        let claims: serde_json::Map<String, Value> = serde_json::from_str(claims).map_err(|e| e.to_string())?;
        let scopes: Vec<String> = serde_json::from_str(scopes).map_err(|e| e.to_string())?;
        Ok(match self.requirement.check(&claims, &scopes, peer_uri_san.as_deref()) {
            Ok(()) => String::new(),
            Err(e) => error_json(&e),
        })
    }
}

/// The core's in-memory replay store ([`ReplayCache`]: bounded buckets; a full bucket refuses
/// rather than forgets), for the npm package's default store.
#[wasm_bindgen]
pub struct ReplayStore {
    cache: ReplayCache,
}

#[wasm_bindgen]
impl ReplayStore {
    /// A store of `buckets` buckets of at most `entries_per_bucket` proofs each (the core's
    /// defaults when absent: 1,024 × 64).
    #[wasm_bindgen(constructor)]
    pub fn new(buckets: Option<u32>, entries_per_bucket: Option<u32>) -> ReplayStore {
        let size = |n: Option<u32>, default: usize| n.and_then(|n| usize::try_from(n).ok()).unwrap_or(default);
        let buckets = size(buckets, edgeward::replay::DEFAULT_BUCKETS);
        let entries = size(entries_per_bucket, edgeward::replay::DEFAULT_BUCKET_ENTRIES);
        ReplayStore { cache: ReplayCache::new(buckets, entries) }
    }

    /// Records the proof `key` (`dpop:` and 32 hex digits, from [`Core::take_proof`]) kept until
    /// `expires_at`, at `now`: `"fresh"` the first time, `"replayed"` after, `"full"` when its
    /// bucket holds only live proofs. Throws for a key that is not a proof's.
    pub fn record(&mut self, key: &str, expires_at: f64, now: f64) -> Result<String, String> {
        let id = proof_id(key).ok_or_else(|| "not a DPoP proof key (dpop: and 32 hex digits)".to_owned())?;
        let proof = ProofUse { id, expires_at: seconds(expires_at)? };
        Ok(match self.cache.record(&proof, seconds(now)?) {
            Recorded::Fresh(_) => "fresh",
            Recorded::Replayed => "replayed",
            Recorded::Full => "full",
        }
        .to_owned())
    }

    /// Entries held (expired ones leave on their bucket's next write).
    pub fn size(&self) -> u32 {
        u32::try_from(self.cache.len()).unwrap_or(u32::MAX)
    }
}

/// The 16-byte id of a proof key ([`ProofUse::key`]: `dpop:` and lowercase hex).
fn proof_id(key: &str) -> Option<[u8; 16]> {
    let hex = key.strip_prefix("dpop:")?.as_bytes();
    if hex.len() != 32 {
        return None;
    }
    let digit = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    };
    let mut id = [0u8; 16];
    for (byte, pair) in id.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(id)
}

fn changes_json(allowed: &Allowed) -> String {
    if allowed.remove.is_empty() && allowed.set.is_empty() {
        return String::new();
    }
    json!({ "remove": allowed.remove, "set": allowed.set }).to_string()
}

impl Core {
    fn granted(&mut self, verified: Arc<VerifiedToken>, token_bytes: usize) -> u32 {
        let id = if token_bytes > MAX_CACHED_TOKEN_BYTES { UNREMEMBERED } else { self.ids.id_of(&verified) };
        self.last = Some(verified);
        id
    }

    fn refuse(&mut self, error: Error) -> u32 {
        self.error = Some(error);
        REFUSED
    }
}

/// Parses a token without verifying it (for display only: the harness shows what a token says
/// even when it is refused). Returns `{header, claims}` as JSON text, or throws the error's JSON.
#[wasm_bindgen]
pub fn decode_unverified(token: &str) -> Result<String, String> {
    let parsed =
        edgeward::UnverifiedToken::parse(token, edgeward::DEFAULT_MAX_TOKEN_BYTES).map_err(|e| error_json(&e))?;
    Ok(json!({ "header": Value::Object(parsed.header), "claims": Value::Object(parsed.claims) }).to_string())
}

/// The refusal of a request without a token (`ERR_JWT_MISSING`, 401 with the challenge) as JSON
/// text: what `requireScopes` / `requireClaims` answer when no guard verified a token before them.
#[wasm_bindgen]
pub fn missing_error() -> String {
    error_json(&Error::Missing)
}

/// The error of a remote JWKS that cannot be fetched (`ERR_JWKS_UNAVAILABLE`, 503) as JSON text,
/// so the JS fetcher reports it with the core's code and HTTP answer.
#[wasm_bindgen]
pub fn unavailable_error() -> String {
    error_json(&Error::JwksUnavailable)
}

/// The size of the module's linear memory, in 64 KiB pages (for leak checks: it never shrinks).
#[wasm_bindgen]
pub fn memory_pages() -> u32 {
    #[cfg(target_arch = "wasm32")]
    let pages = core::arch::wasm32::memory_size(0);
    #[cfg(not(target_arch = "wasm32"))]
    let pages = 0;
    u32::try_from(pages).unwrap_or(u32::MAX)
}

/// The `remote_jwks` defaults (`cache_duration_seconds`, `timeout_ms`, `refetch_cooldown_seconds`)
/// as JSON text: one set of defaults for the filter and the package.
#[wasm_bindgen]
pub fn remote_defaults() -> String {
    json!({
        "cache_duration_seconds": edgeward::DEFAULT_CACHE_DURATION_SECONDS,
        "timeout_ms": edgeward::DEFAULT_TIMEOUT_MS,
        "refetch_cooldown_seconds": edgeward::DEFAULT_REFETCH_COOLDOWN_SECONDS,
    })
    .to_string()
}

/// Milliseconds before retry number `failures` (1-based) of a failed JWKS fetch: the filter's
/// backoff (1 s, 2 s, 4 s … 30 s, never longer than the cache duration).
#[wasm_bindgen]
pub fn retry_delay_ms(failures: u32, cache_duration_ms: f64) -> f64 {
    #[expect(clippy::as_conversions, reason = "a non-negative duration in ms; saturates, NaN gives 0")]
    let cache = cache_duration_ms.max(0.0) as u64;
    #[expect(clippy::as_conversions, reason = "at most 30,000 ms: exact in f64")]
    let delay = edgeward::refresh::retry_delay_ms(failures, cache) as f64;
    delay
}

/// Checks a fetched discovery document (`remote_jwks.discovery`) with the core: it must name
/// `issuer` exactly. Returns its `jwks_uri`, or throws the error's JSON (`ERR_JWKS_INVALID`, with
/// the member at fault: `issuer`, `jwks_uri`).
#[wasm_bindgen]
pub fn check_discovery(document: &[u8], issuer: &str) -> Result<String, String> {
    edgeward::Discovery::from_bytes(document, issuer).map(|found| found.jwks_uri).map_err(|e| error_json(&e))
}

/// The decision line (docs/policy.md, "Decision record"; [`edgeward::DecisionRecord::json_line`])
/// of a record as `decide` gave it (its JSON), for a request to `method` and `path` (the query is
/// left out) at `time_ms` (Unix milliseconds): what the middleware's decision log appends, and
/// what Envoy's access log writes with envoy/decision-log.yaml. Throws on a record it never gave.
#[wasm_bindgen]
pub fn decision_line(record: &str, time_ms: f64, method: &str, path: &str) -> Result<String, String> {
    let record = edgeward::DecisionRecord::from_json(record).ok_or("not a decision record")?;
    if !time_ms.is_finite() {
        return Err("time must be a finite number of milliseconds".to_owned());
    }
    #[expect(clippy::as_conversions, reason = "a finite time in ms; saturates at the i64 bounds")]
    let time_ms = time_ms.floor() as i64;
    Ok(record.json_line(time_ms, method, path))
}

/// Every stable error code, as a JSON array.
#[wasm_bindgen]
pub fn error_codes() -> String {
    serde_json::to_string(edgeward::ALL_CODES).unwrap_or_else(|_| "[]".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"{"providers":{"idp":{"issuer":"https://idp","audiences":["api"],
        "remote_jwks":{"uri":"https://idp/jwks","refetch_cooldown_seconds":7}}},
        "rules":[{"match":{"prefix":"/a"},"requires":{"provider_name":"idp","scopes":["s"]}}]}"#;

    fn info(json: &str) -> Value {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn now_must_be_a_safe_integer() {
        assert_eq!(seconds(1_800_000_000.0), Ok(1_800_000_000));
        assert_eq!(seconds(-5.0), Ok(-5));
        for bad in [f64::NAN, f64::INFINITY, 1.5, 9_007_199_254_740_992.0] {
            assert!(seconds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scopes_are_single_space_separated_words() {
        assert_eq!(scope_list("a b  c"), vec!["a", "b", "c"]);
        assert!(scope_list("").is_empty());
    }

    #[test]
    fn a_refused_policy_is_thrown_as_the_cores_error() {
        let Err(thrown) = Core::new(r#"{"providers":{"idp":{"issuer":"x"}}}"#) else { panic!("accepted") };
        let error = info(&thrown);
        assert_eq!(error["code"], "ERR_POLICY_INVALID");
        assert_eq!(error["path"], "providers.idp.audiences");
        assert_eq!(error["status"], 500);
    }

    #[test]
    fn refusals_carry_the_cores_http_answer() {
        let mut core = Core::new(POLICY).unwrap();
        assert_eq!(core.decide("GET", "/a", b"", 1_800_000_000.0, false, false, None, None, None, None), Ok(REFUSED));
        let error = info(&core.take_error());
        assert_eq!(error["code"], "ERR_JWT_MISSING");
        assert_eq!(error["status"], 401);
        assert_eq!(error["www_authenticate"], r#"Bearer realm="edgeward""#);
        assert_eq!(error["body"], r#"{"error":"unauthorized","code":"ERR_JWT_MISSING"}"#);
        assert_eq!(core.take_error(), "null", "an error is handed out once");

        assert_eq!(
            core.decide(
                "GET",
                "/a",
                b"authorization\0Bearer x.y.z",
                1_800_000_000.0,
                false,
                false,
                None,
                None,
                None,
                None
            ),
            Ok(REFUSED)
        );
        // The header was found and its token parsed (and refused), not reported missing.
        assert_eq!(info(&core.take_error())["code"], "ERR_JWT_INVALID");
        assert_eq!(core.decide("GET", "/b", b"", 1_800_000_000.0, false, false, None, None, None, None), Ok(REFUSED));
        assert_eq!(info(&core.take_error())["code"], "ERR_ROUTE_DENIED");
    }

    #[test]
    fn proof_refusals_are_the_cores_without_a_decision() {
        let core = Core::new(POLICY).unwrap();
        let replayed = info(&core.proof_refusal("idp", true, ""));
        assert_eq!((replayed["code"].as_str(), replayed["status"].as_u64()), (Some("ERR_DPOP_REPLAYED"), Some(401)));
        assert_eq!(replayed["www_authenticate"], r#"DPoP realm="edgeward", error="invalid_dpop_proof", algs="ES256""#);
        let down = info(&core.proof_refusal("idp", false, "connection refused"));
        assert_eq!((down["code"].as_str(), down["status"].as_u64()), (Some("ERR_REPLAY_STORE_UNAVAILABLE"), Some(503)));
        assert!(down["message"].as_str().unwrap().contains("connection refused"));
        assert_eq!(down["body"], r#"{"error":"temporarily_unavailable","code":"ERR_REPLAY_STORE_UNAVAILABLE"}"#);
        assert!(!core.reads_peer_certificates());
    }

    #[test]
    fn the_memory_store_takes_a_proof_once_and_refuses_when_full() {
        let mut store = ReplayStore::new(Some(1), Some(1));
        let (a, b) = (format!("dpop:{}", "ab".repeat(16)), format!("dpop:{}", "0c".repeat(16)));
        assert_eq!(store.record(&a, 100.0, 10.0).as_deref(), Ok("fresh"));
        assert_eq!(store.record(&a, 100.0, 11.0).as_deref(), Ok("replayed"));
        assert_eq!(store.record(&b, 100.0, 11.0).as_deref(), Ok("full"));
        assert_eq!(store.record(&b, 200.0, 100.0).as_deref(), Ok("fresh"), "room once the first expired");
        assert_eq!(store.size(), 1);
        for bad in ["dpop:AB", &a.to_uppercase(), &a[5..], "dpop:zz"] {
            assert!(store.record(bad, 100.0, 10.0).is_err(), "{bad}");
        }
        assert_eq!(proof_id(&a), Some([0xab; 16]));
    }

    #[test]
    fn policy_facts_for_the_wrapper() {
        let core = Core::new(POLICY).unwrap();
        assert_eq!(
            core.header_names(),
            r#"["authorization","x-http-method-override","x-http-method","x-method-override"]"#
        );
        assert_eq!(core.route_providers("GET", "/a/1"), r#"["idp"]"#);
        assert_eq!(core.route_providers("GET", "/b"), "[]");
        let remote = info(&core.remote_jwks("idp").unwrap());
        assert_eq!(remote["uri"], "https://idp/jwks");
        assert_eq!(remote["refetch_cooldown_seconds"], 7);
        assert_eq!(core.remote_jwks("nobody"), None);
        assert_eq!(core.cache_capacity(), 4096);
    }

    #[test]
    fn an_empty_key_set_is_refused_and_keeps_the_keys() {
        let mut core = Core::new(POLICY).unwrap();
        let thrown = core.set_jwks("idp", br#"{"keys":[]}"#).unwrap_err();
        assert_eq!(info(&thrown)["code"], "ERR_JWKS_INVALID");
        assert_eq!(core.key_count("idp"), -1);
        assert_eq!(info(&core.set_jwks("nobody", br#"{"keys":[]}"#).unwrap_err())["code"], "ERR_POLICY_INVALID");
    }

    #[test]
    fn a_discovery_document_gives_its_jwks_uri_or_the_cores_refusal() {
        let document = br#"{"issuer":"https://idp","jwks_uri":"https://idp/keys"}"#;
        assert_eq!(check_discovery(document, "https://idp").as_deref(), Ok("https://idp/keys"));
        let refused = info(&check_discovery(document, "https://other").unwrap_err());
        assert_eq!((refused["code"].as_str(), refused["path"].as_str()), (Some("ERR_JWKS_INVALID"), Some("issuer")));
        let remote = info(&Core::new(POLICY).unwrap().remote_jwks("idp").unwrap());
        assert_eq!((remote.get("discovery"), remote.get("issuer")), (None, None), "only with discovery");
        let discovering = Core::new(&POLICY.replace(r#""uri":"https://idp/jwks""#, r#""discovery":true"#)).unwrap();
        let remote = info(&discovering.remote_jwks("idp").unwrap());
        assert_eq!(remote["uri"], "https://idp/.well-known/openid-configuration");
        assert_eq!((remote["discovery"].as_bool(), remote["issuer"].as_str()), (Some(true), Some("https://idp")));
    }
}
