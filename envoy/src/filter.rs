//! The proxy-wasm glue: host calls only. Decisions live in the plain modules beside this one.
//!
//! One [`Root`] per root context. In each VM (one per worker, plus the main thread's) the root
//! context that serves requests owns a [`Worker`]: the policy, the metrics' ids and the VM's own
//! [`Verifier`] (and its cache). Every ticking root context may fetch a JWKS; the shared-data
//! record of [`crate::fetch`] lets exactly one do it, and the document it stores is loaded by every
//! worker when the record's version moves.

use crate::config::{FilterConfig, JwksSource};
use crate::decision;
use crate::host_crypto::{self, EnvoyCrypto, VmConfig};
use crate::jwks;
use crate::metrics;
use crate::replay;
use edgeward::refresh::FetchState;
use edgeward::{
    Access, Algorithm, CacheUse, Error, HostCrypto, HostKey, HostVerdict, PopMissing, Request, Route, Verifier,
};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel, MetricType};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Info);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root::default()) });
}}

/// How often root contexts look at the fetch schedule and reload keys.
const TICK: Duration = Duration::from_millis(500);
/// Requests that may reuse the clock's last reading (each tick reads it anew as well): reading
/// it is a host call, a measurable part of a cached request's cost. `now` thus lags the real time
/// by at most one tick (500 ms) when traffic is light, and by the time of this many requests when
/// it is heavy (when a busy worker's timers could run late); well inside any clock skew.
const CLOCK_REUSE: u32 = 32;
/// Attempts at a compare-and-set update of a fetch record before giving up.
const CAS_ATTEMPTS: usize = 8;

thread_local! {
    /// This VM's configuration (`vm_config.configuration`), read at VM start.
    static VM_CONFIG: Cell<VmConfig> = const { Cell::new(host_crypto::DEFAULT_VM_CONFIG) };
    /// Whether this VM verifies signatures through the host: decided once, by the first plugin configured.
    static HOST_CRYPTO: RefCell<Option<bool>> = const { RefCell::new(None) };
    /// Host verifications since the last tick (added to the metric then).
    static HOST_VERIFICATIONS: Cell<u64> = const { Cell::new(0) };
}

/// [`EnvoyCrypto`], counting its calls for the `edgeward_host_crypto_verifications` metric.
struct CountedCrypto;

impl HostCrypto for CountedCrypto {
    fn supports(&self, alg: Algorithm) -> bool {
        EnvoyCrypto.supports(alg)
    }

    fn verify(&self, alg: Algorithm, key: &HostKey, signing_input: &[u8], signature: &[u8]) -> HostVerdict {
        HOST_VERIFICATIONS.with(|n| n.set(n.get().saturating_add(1)));
        EnvoyCrypto.verify(alg, key, signing_input, signature)
    }
}

/// Whether this VM hands RS256/384/512, ES384 and ES512 to the host: not when the VM's settings say
/// `host_crypto: false` ([`VmConfig`]), else only once its self-test has passed (logged once per VM).
fn use_host_crypto() -> bool {
    HOST_CRYPTO.with(|choice| {
        *choice.borrow_mut().get_or_insert_with(|| {
            if !VM_CONFIG.with(Cell::get).host_crypto {
                let why = "host_crypto: false in the VM configuration or EDGEWARD_HOST_CRYPTO=false in its environment";
                log(LogLevel::Info, &format!("host crypto: off, every signature verified in the filter ({why})"));
                return false;
            }
            match host_crypto::self_test(&EnvoyCrypto) {
                Ok(()) => {
                    log(
                        LogLevel::Info,
                        "host crypto: RS256/384/512, ES384 and ES512 verified through the host's verify_signature",
                    );
                    true
                }
                Err(reason) => {
                    log(
                        LogLevel::Warn,
                        &format!(
                            "host crypto: off, every signature verified in the filter (host self-test failed: {reason})"
                        ),
                    );
                    false
                }
            }
        })
    })
}

fn log(level: LogLevel, message: &str) {
    // Logging can only fail if the host is gone; nothing useful remains to do then.
    let _ = hostcalls::log(level, message);
}

fn now() -> SystemTime {
    hostcalls::get_current_time().unwrap_or(UNIX_EPOCH)
}

fn millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)).unwrap_or(0)
}

fn seconds(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH).map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)).unwrap_or(0)
}

/// The ids of this VM's metrics (a metric is one total across VMs).
struct Metrics {
    allowed: u32,
    public: u32,
    denied: u32,
    denied_by_code: Vec<u32>,
    cache_hits: u32,
    cache_misses: u32,
    fetch_ok: u32,
    fetch_failed: u32,
    keys_refused: u32,
    keys_loaded: u32,
    host_verifications: u32,
}

impl Metrics {
    fn define() -> Option<Metrics> {
        let counter = |name: &str| hostcalls::define_metric(MetricType::Counter, name).ok();
        Some(Metrics {
            allowed: counter(metrics::ALLOWED)?,
            public: counter(metrics::PUBLIC)?,
            denied: counter(metrics::DENIED)?,
            denied_by_code: metrics::denied_names().iter().map(|name| counter(name)).collect::<Option<_>>()?,
            cache_hits: counter(metrics::CACHE_HITS)?,
            cache_misses: counter(metrics::CACHE_MISSES)?,
            fetch_ok: counter(metrics::JWKS_FETCH_OK)?,
            fetch_failed: counter(metrics::JWKS_FETCH_FAILED)?,
            keys_refused: counter(metrics::JWKS_KEYS_REFUSED)?,
            keys_loaded: hostcalls::define_metric(MetricType::Gauge, metrics::KEYS_LOADED).ok()?,
            host_verifications: counter(metrics::HOST_CRYPTO_VERIFICATIONS)?,
        })
    }

    fn increment(id: u32) {
        let _ = hostcalls::increment_metric(id, 1);
    }

    fn add(id: u32, count: u64) {
        if count > 0 {
            let _ = hostcalls::increment_metric(id, i64::try_from(count).unwrap_or(i64::MAX));
        }
    }
}

/// Request counters not yet added to the host's metrics: a request only touches this VM's
/// memory, and every tick adds the totals (saving two host calls per request).
#[derive(Default)]
struct Counts {
    allowed: u64,
    public: u64,
    denied_by_code: Vec<u64>,
    cache_hits: u64,
    cache_misses: u64,
}

impl Counts {
    fn denied(&mut self, code: &str) {
        if self.denied_by_code.is_empty() {
            self.denied_by_code = vec![0; edgeward::ALL_CODES.len()];
        }
        if let Some(index) = edgeward::ALL_CODES.iter().position(|c| *c == code) {
            self.denied_by_code[index] = self.denied_by_code[index].saturating_add(1);
        }
    }

    fn flush(&mut self, metrics: &Metrics) {
        let counts = std::mem::take(self);
        Metrics::add(metrics.allowed, counts.allowed);
        Metrics::add(metrics.public, counts.public);
        Metrics::add(metrics.denied, counts.denied_by_code.iter().sum());
        for (id, count) in metrics.denied_by_code.iter().zip(&counts.denied_by_code) {
            Metrics::add(*id, *count);
        }
        Metrics::add(metrics.cache_hits, counts.cache_hits);
        Metrics::add(metrics.cache_misses, counts.cache_misses);
        Metrics::add(metrics.host_verifications, HOST_VERIFICATIONS.with(|n| n.replace(0)));
    }
}

/// What one VM needs to decide requests.
struct Worker {
    config: FilterConfig,
    metrics: Metrics,
    verifier: RefCell<Verifier>,
    counts: RefCell<Counts>,
    /// Per source, the version of the shared document this verifier holds (0: none).
    loaded: RefCell<Vec<u64>>,
    /// The clock's last reading, and how many requests may still use it ([`CLOCK_REUSE`]).
    clock: Cell<(SystemTime, u32)>,
}

impl Worker {
    /// The current time for a request: the last reading while it may be reused, else a new one.
    fn request_time(&self) -> SystemTime {
        let (time, left) = self.clock.get();
        if left > 0 {
            self.clock.set((time, left - 1));
            return time;
        }
        self.read_clock()
    }

    /// Reads the clock (at every tick, and every [`CLOCK_REUSE`] requests).
    fn read_clock(&self) -> SystemTime {
        let time = now();
        self.clock.set((time, CLOCK_REUSE));
        time
    }

    /// Loads every shared document whose version moved; returns whether any keys changed.
    fn sync_keys(&self) -> bool {
        let mut changed = false;
        for (index, source) in self.config.sources.iter().enumerate() {
            let (state, _) = hostcalls::get_shared_data(&source.state_key()).unwrap_or((None, None));
            let version = FetchState::decode(state.as_deref()).version;
            if version == 0 || self.loaded.borrow().get(index) == Some(&version) {
                continue;
            }
            let (document, _) = hostcalls::get_shared_data(&source.document_key()).unwrap_or((None, None));
            let Some(document) = document else { continue };
            match self.verifier.borrow_mut().set_jwks(&source.provider, &document) {
                Ok(loaded) => {
                    log(LogLevel::Info, &format!("provider {}: {} keys loaded", source.provider, loaded.keys));
                    for refused in &loaded.refused {
                        log(LogLevel::Debug, &format!("provider {}: key left out: {refused}", source.provider));
                    }
                    changed = true;
                }
                Err(e) => log(LogLevel::Warn, &format!("provider {}: keys kept: {e}", source.provider)),
            }
            if let Some(slot) = self.loaded.borrow_mut().get_mut(index) {
                *slot = version;
            }
        }
        if changed {
            self.record_keys_loaded();
        }
        changed
    }

    fn record_keys_loaded(&self) {
        let verifier = self.verifier.borrow();
        let total: usize = verifier
            .policy()
            .providers
            .iter()
            .filter_map(|p| verifier.key_set(&p.name))
            .map(|set| set.keys().len())
            .sum();
        let _ = hostcalls::record_metric(self.metrics.keys_loaded, u64::try_from(total).unwrap_or(u64::MAX));
    }

    /// An unknown `kid` on this route: ask for one early fetch of its providers' keys (each of
    /// a `requires_any`'s; the cooldown bounds them).
    fn request_early_fetch(&self, method: &str, path: &str, now_ms: u64) {
        let providers: Vec<String> = match self.verifier.borrow().policy().route(method, path) {
            Ok(Route::Protected(alternatives)) => alternatives.iter().map(|r| r.provider_name.clone()).collect(),
            _ => return,
        };
        for source in self.config.sources.iter().filter(|s| providers.contains(&s.provider)) {
            update_state(source, |state| state.request_early(now_ms, source.cooldown_ms));
        }
    }
}

/// Applies `change` to a source's shared fetch record with compare-and-set; returns the stored
/// record, or `None` if `change` declined or the record kept moving under us.
fn update_state(source: &JwksSource, change: impl Fn(&FetchState) -> Option<FetchState>) -> Option<FetchState> {
    let key = source.state_key();
    for _ in 0..CAS_ATTEMPTS {
        let (bytes, cas) = hostcalls::get_shared_data(&key).ok()?;
        let next = change(&FetchState::decode(bytes.as_deref()))?;
        if hostcalls::set_shared_data(&key, Some(&next.encode()), cas).is_ok() {
            return Some(next);
        }
    }
    None
}

/// Which document a call fetches.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// The source's `uri`: a JWKS, or with discovery the discovery document.
    First,
    /// With discovery: the keys at the discovered `jwks_uri`.
    Keys { jwks_uri: String },
}

/// A root context.
#[derive(Default)]
pub struct Root {
    worker: Option<Rc<Worker>>,
    /// Fetches this context started: call token → source index and step.
    calls: HashMap<u32, (usize, Step)>,
}

impl Root {
    fn start_due_fetches(&mut self, worker: &Worker) {
        let now_ms = millis(now());
        for (index, source) in worker.config.sources.iter().enumerate() {
            if update_state(source, |state| state.claim(now_ms, source.timeout_ms)).is_none() {
                continue;
            }
            self.dispatch(worker, index, (&source.cluster, &source.authority, &source.path), Step::First);
        }
    }

    /// Sends one GET of a claimed fetch; a call that cannot be sent fails the fetch.
    fn dispatch(&mut self, worker: &Worker, index: usize, (cluster, authority, path): (&str, &str, &str), step: Step) {
        let Some(source) = worker.config.sources.get(index) else { return };
        let headers = vec![
            (":method", "GET"),
            (":path", path),
            (":authority", authority),
            ("accept", "application/json"),
            ("user-agent", "edgeward"),
        ];
        let timeout = Duration::from_millis(source.timeout_ms);
        match hostcalls::dispatch_http_call(cluster, headers, None, vec![], timeout) {
            Ok(token) => {
                self.calls.insert(token, (index, step));
            }
            Err(status) => Root::fetch_failed(worker, source, &format!("cannot call cluster {cluster} ({status:?})")),
        }
    }

    /// The discovery document arrived: check it with the core, then fetch its `jwks_uri` (the
    /// claimed fetch's lease is renewed for this second call).
    fn discovered(&mut self, worker: &Worker, index: usize, body_size: usize) {
        let Some(source) = worker.config.sources.get(index) else { return };
        let Some(discovery) = &source.discovery else { return };
        let status = self.get_http_call_response_header(":status");
        let found = jwks::check_head(status.as_deref(), body_size).and_then(|()| {
            let body = self.get_http_call_response_body(0, body_size).unwrap_or_default();
            jwks::check_discovery(&body, &discovery.issuer)
        });
        let found = match found {
            Ok(found) => found,
            Err(refused) => return Root::fetch_failed(worker, source, &format!("discovery document: {refused}")),
        };
        let target = match found.fetch_target(&discovery.remote, &source.provider) {
            Ok(target) => target,
            Err(e) => return Root::fetch_failed(worker, source, &format!("discovery document refused: {e}")),
        };
        let now_ms = millis(now());
        let lease = now_ms.saturating_add(source.timeout_ms).saturating_add(edgeward::refresh::LEASE_MARGIN_MS);
        update_state(source, |state| Some(FetchState { lease_until_ms: lease, ..*state }));
        let step = Step::Keys { jwks_uri: found.jwks_uri.clone() };
        self.dispatch(worker, index, (&target.cluster, &target.authority, &target.path), step);
    }

    fn fetch_failed(worker: &Worker, source: &JwksSource, reason: &str) {
        Metrics::increment(worker.metrics.fetch_failed);
        let now_ms = millis(now());
        let next = update_state(source, |state| Some(state.failed(now_ms, source.cache_duration_ms)));
        let retry = next.map(|s| s.next_due_ms.saturating_sub(now_ms)).unwrap_or_default();
        log(LogLevel::Warn, &format!("provider {}: JWKS fetch failed: {reason}; retry in {retry} ms", source.provider));
    }
}

impl Context for Root {
    fn on_http_call_response(&mut self, token_id: u32, num_headers: usize, body_size: usize, _trailers: usize) {
        let Some((index, step)) = self.calls.remove(&token_id) else { return };
        let Some(worker) = self.worker.clone() else { return };
        let Some(source) = worker.config.sources.get(index) else { return };
        // A call that failed without an answer (e.g. Envoy reset it when the body overflowed its
        // buffer) has no header map: reading one then is a host error, on which the SDK panics.
        if num_headers == 0 {
            return Root::fetch_failed(&worker, source, "no response (reset, or the body overflowed Envoy's buffer)");
        }
        if step == Step::First && source.discovery.is_some() {
            return self.discovered(&worker, index, body_size);
        }
        let status = self.get_http_call_response_header(":status");
        let checked = jwks::check_head(status.as_deref(), body_size).and_then(|()| {
            let body = self.get_http_call_response_body(0, body_size).unwrap_or_default();
            let provider = worker.config.policy.provider(&source.provider);
            let algorithms = provider.map(|p| p.algorithms.as_slice()).unwrap_or_default();
            let max_rsa_bits = provider.map_or(edgeward::DEFAULT_MAX_RSA_BITS, |p| p.max_rsa_bits);
            jwks::check_document(&body, algorithms, max_rsa_bits).map(|checked| (body, checked))
        });
        match checked {
            Ok((body, checked)) => {
                if hostcalls::set_shared_data(&source.document_key(), Some(&body), None).is_err() {
                    return Root::fetch_failed(&worker, source, "cannot store the document");
                }
                if let Step::Keys { jwks_uri } = &step {
                    // The configuration the stored keys came from (for operators; workers need only the keys).
                    let _ = hostcalls::set_shared_data(&source.jwks_uri_key(), Some(jwks_uri.as_bytes()), None);
                    log(LogLevel::Info, &format!("provider {}: discovered jwks_uri {jwks_uri}", source.provider));
                }
                let now_ms = millis(now());
                update_state(source, |state| Some(state.succeeded(now_ms, source.cache_duration_ms)));
                Metrics::increment(worker.metrics.fetch_ok);
                log(LogLevel::Info, &format!("provider {}: JWKS fetched, {} keys", source.provider, checked.keys));
                for refused in &checked.refused {
                    log(LogLevel::Warn, &format!("provider {}: fetched key left out: {refused}", source.provider));
                }
                Metrics::add(worker.metrics.keys_refused, u64::try_from(checked.refused.len()).unwrap_or(u64::MAX));
                worker.sync_keys();
            }
            Err(refused) => Root::fetch_failed(&worker, source, &refused.to_string()),
        }
    }
}

impl RootContext for Root {
    fn on_vm_start(&mut self, _size: usize) -> bool {
        let bytes = self.get_vm_configuration().unwrap_or_default();
        // vm_config.environment_variables; a name or value that is not UTF-8 is not ours.
        let env =
            std::env::vars_os().filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)));
        match VmConfig::load(&bytes, env) {
            Ok(config) => {
                VM_CONFIG.with(|c| c.set(config));
                true
            }
            Err(e) => {
                log(LogLevel::Error, &format!("VM configuration refused: {e}"));
                false
            }
        }
    }

    fn on_configure(&mut self, _size: usize) -> bool {
        let bytes = self.get_plugin_configuration().unwrap_or_default();
        let config = match FilterConfig::from_bytes(&bytes) {
            Ok(config) => config,
            Err(e) => {
                log(LogLevel::Error, &format!("plugin configuration refused: {e}"));
                return false;
            }
        };
        let Some(metrics) = Metrics::define() else {
            log(LogLevel::Error, "cannot define metrics");
            return false;
        };
        let loaded = RefCell::new(vec![0; config.sources.len()]);
        let mut verifier = Verifier::new(config.policy.clone());
        if use_host_crypto() {
            verifier.set_host_crypto(Arc::new(CountedCrypto));
        }
        let verifier = RefCell::new(verifier);
        let clock = Cell::new((now(), CLOCK_REUSE));
        let worker = Rc::new(Worker { config, metrics, verifier, counts: RefCell::default(), loaded, clock });
        worker.record_keys_loaded();
        worker.sync_keys();
        // Ticks add request counts to the metrics and, with remote keys, drive the fetches.
        self.set_tick_period(TICK);
        self.worker = Some(worker);
        true
    }

    fn on_tick(&mut self) {
        let Some(worker) = self.worker.clone() else { return };
        worker.read_clock();
        worker.counts.borrow_mut().flush(&worker.metrics);
        if !worker.config.sources.is_empty() {
            worker.sync_keys();
            self.start_due_fetches(&worker);
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        let worker = Rc::clone(self.worker.as_ref()?);
        Some(Box::new(Http { worker }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

/// DANGER, tests only (feature `danger-test-trap`): a request carrying this header makes the
/// filter panic, which aborts (a wasm trap), to show that Envoy then refuses the request.
#[cfg(feature = "danger-test-trap")]
const DANGER_TRAP_HEADER: &str = "x-edgeward-danger-trap";

#[cfg(feature = "danger-test-trap")]
fn danger_test_trap(request: &Request<'_>) {
    if request.header(DANGER_TRAP_HEADER).is_some() {
        panic!("danger-test-trap: forced trap");
    }
}

/// Tests only (feature `test-signature-hook`, built into the danger-test-trap wasm, never into
/// dist/): a request with this header, base64url of `{"alg","jwk","msg","sig"}` (msg and sig
/// base64url), is answered with the core's verdict on that one signature, `OK` or the error code,
/// through the path this VM uses (the host's crypto or the filter's own). It lets the Wycheproof
/// RSA vectors, which are not tokens, run through a real Envoy (envoy/tests/host-crypto.test.mjs).
#[cfg(feature = "test-signature-hook")]
const TEST_SIGNATURE_HEADER: &str = "x-edgeward-test-signature";

#[cfg(feature = "test-signature-hook")]
fn test_signature_verdict(value: &str) -> String {
    let verdict = || -> Result<(), String> {
        let bytes = edgeward::base64url::decode(value).ok_or("not base64url")?;
        let doc: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        let text = |name: &str| doc[name].as_str().map(str::to_owned).ok_or(format!("no {name}"));
        let alg = Algorithm::from_name(&text("alg")?).ok_or("unknown alg")?;
        let msg = edgeward::base64url::decode(&text("msg")?).ok_or("msg")?;
        let sig = edgeward::base64url::decode(&text("sig")?).ok_or("sig")?;
        let host: Option<&dyn HostCrypto> = if use_host_crypto() { Some(&CountedCrypto) } else { None };
        edgeward::verify_with_jwk(host, alg, &doc["jwk"].to_string(), &msg, &sig).map_err(|e| e.code().to_owned())
    };
    match verdict() {
        Ok(()) => "OK".to_owned(),
        Err(reason) => reason,
    }
}

/// With `filter_state: true` in the VM configuration: the decision record (docs/policy.md,
/// "Decision record") in the request's filter state, for
/// Envoy's access log (`%FILTER_STATE(wasm.edgeward.sub:PLAIN)%`; envoy/decision-log.yaml writes
/// the core's decision line), its RBAC filter (`filter_state` matchers on
/// `wasm.edgeward.client_id`) and later filters: one property per field that has a value
/// (`edgeward.provider`, `.iss`, `.sub`, `.client_id`, `.scopes` and `.required_scopes` space
/// separated, `.rule`, `.iat` and `.exp` in decimal seconds, `.code` for refusals). Never the token.
fn write_record(record: &edgeward::DecisionRecord) {
    let scopes = record.scopes.join(" ");
    let required = record.required_scopes.join(" ");
    let (iat, exp) = (record.iat.map(|s| s.to_string()), record.exp.map(|s| s.to_string()));
    let fields: [(&str, Option<&str>); 10] = [
        ("edgeward.provider", record.provider.as_deref()),
        ("edgeward.iss", record.iss.as_deref()),
        ("edgeward.sub", record.sub.as_deref()),
        ("edgeward.client_id", record.client_id.as_deref()),
        ("edgeward.scopes", Some(scopes.as_str()).filter(|s| !s.is_empty())),
        ("edgeward.required_scopes", Some(required.as_str()).filter(|s| !s.is_empty())),
        ("edgeward.rule", record.rule.as_deref()),
        ("edgeward.iat", iat.as_deref()),
        ("edgeward.exp", exp.as_deref()),
        ("edgeward.code", record.code),
    ];
    for (name, value) in fields {
        if let Some(value) = value {
            // Fails only outside a request; nothing depends on it then.
            let _ = hostcalls::set_property(vec![name], Some(value.as_bytes()));
        }
    }
}

/// The connection's client certificate, as Envoy's TLS layer saw it (docs/policy.md, "Proof of
/// possession"): `connection.sha256_peer_certificate_digest` (hex SHA-256 of its DER) and
/// `connection.uri_san_peer_certificate` (its first URI SAN), both absent without mTLS.
#[derive(Default)]
struct PeerCertificate {
    /// Whether the properties were read.
    read: bool,
    sha256: Option<[u8; 32]>,
    uri_san: Option<String>,
}

impl PeerCertificate {
    fn read_if(context: &dyn Context, wanted: bool) -> PeerCertificate {
        if !wanted {
            return PeerCertificate::default();
        }
        let property =
            |name: &str| context.get_property(vec!["connection", name]).and_then(|b| String::from_utf8(b).ok());
        let sha256 = property("sha256_peer_certificate_digest").and_then(|hex| decode_sha256_hex(&hex));
        // Envoy gives the URI SAN only for a certificate its validation context accepted.
        let uri_san = property("uri_san_peer_certificate").filter(|s| !s.is_empty());
        PeerCertificate { read: true, sha256, uri_san }
    }

    fn apply<'a>(&'a self, connection: &mut edgeward::Connection<'a>) {
        connection.peer_certificate_sha256 = self.sha256;
        connection.peer_uri_san = self.uri_san.as_deref();
    }
}

/// 64 hex digits as 32 bytes.
fn decode_sha256_hex(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let digit = |b: u8| char::from(b).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

/// Shared data of this VM id, for the replay store.
impl replay::SharedData for Http {
    fn get(&self, key: &str) -> (Option<Vec<u8>>, Option<u32>) {
        self.get_shared_data(key)
    }

    fn set(&self, key: &str, value: &[u8], cas: Option<u32>) -> Result<bool, String> {
        match self.set_shared_data(key, Some(value), cas) {
            Ok(()) => Ok(true),
            Err(proxy_wasm::types::Status::CasMismatch) => Ok(false),
            Err(status) => Err(format!("set_shared_data failed: {status:?}")),
        }
    }
}

/// One request.
struct Http {
    worker: Rc<Worker>,
}

impl Context for Http {}

impl HttpContext for Http {
    fn on_http_request_headers(&mut self, _headers: usize, _end_of_stream: bool) -> Action {
        let time = self.worker.request_time();
        // One host call for all headers; lookups below are local. Values are read as bytes: a
        // client may send any obs-text byte, and the SDK's String accessor panics (a trap, which
        // kills the VM) on a value that is not UTF-8. Such a value cannot be a valid token, route
        // or claim; read lossily, it is still seen (and refused or removed), never trusted.
        let owned: Vec<(String, String)> = self
            .get_http_request_headers_bytes()
            .into_iter()
            .map(|(name, value)| {
                // The value's own buffer when it is UTF-8 (no copy); a lossy copy otherwise.
                let value =
                    String::from_utf8(value).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
                (name, value)
            })
            .collect();
        let headers: Vec<(&str, &str)> = owned.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let header = |name: &str| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        let mut request = Request::new(header(":method").unwrap_or(""), header(":path").unwrap_or(""), &headers);
        request.connection.scheme = header(":scheme");
        request.connection.authority = header(":authority").or_else(|| header("host"));
        // The client certificate costs two host calls: read up front when the policy may need it,
        // else only for a certificate-bound token (below).
        let peer = PeerCertificate::read_if(self, self.worker.verifier.borrow().policy().reads_peer_certificates());
        peer.apply(&mut request.connection);
        #[cfg(feature = "danger-test-trap")]
        danger_test_trap(&request);
        #[cfg(feature = "test-signature-hook")]
        if let Some(value) = request.header(TEST_SIGNATURE_HEADER) {
            let body = test_signature_verdict(&value);
            self.send_http_response(200, vec![("content-type", "text/plain")], Some(body.as_bytes()));
            return Action::Pause;
        }
        let worker = Rc::clone(&self.worker);
        let run = || worker.verifier.borrow_mut().decide(&request, seconds(time));
        let mut decision = run();
        let needs_keys =
            |d: &edgeward::Decision| matches!(d.outcome, Err(Error::NoMatchingKey { .. } | Error::JwksUnavailable));
        if needs_keys(&decision) && worker.sync_keys() {
            decision = run();
        }
        if matches!(decision.outcome, Err(Error::NoMatchingKey { .. })) {
            worker.request_early_fetch(request.method, request.path, millis(time));
        }
        let needs_peer = |d: &edgeward::Decision| {
            matches!(d.outcome, Err(Error::PopMissing { reason: PopMissing::NoCertificate | PopMissing::NoPeer, .. }))
        };
        // A certificate-bound token under a policy that does not read certificates up front.
        let late = PeerCertificate::read_if(self, !peer.read && needs_peer(&decision));
        if late.sha256.is_some() {
            let mut with_peer = request;
            late.apply(&mut with_peer.connection);
            decision = worker.verifier.borrow_mut().decide(&with_peer, seconds(time));
        }
        if let Ok(edgeward::Allowed { proof: Some(proof), .. }) = &decision.outcome {
            let recorded = replay::record_in(self, proof, seconds(time));
            let verifier = worker.verifier.borrow();
            match recorded {
                Ok(()) => {}
                Err(replay::Refused::Replayed) => decision.refuse_replayed(verifier.policy()),
                Err(replay::Refused::Unavailable(reason)) => {
                    log(LogLevel::Warn, &format!("DPoP replay store: {reason}"));
                    decision.refuse_store_unavailable(verifier.policy(), &reason);
                }
            }
        }
        if VM_CONFIG.with(Cell::get).filter_state {
            write_record(&decision.record(worker.verifier.borrow().policy()));
        }
        let mut counts = worker.counts.borrow_mut();
        match decision.cache {
            CacheUse::Hit => counts.cache_hits += 1,
            CacheUse::Miss => counts.cache_misses += 1,
            CacheUse::None => {}
        }
        match decision.outcome {
            Ok(allowed) => {
                for name in &allowed.remove {
                    self.set_http_request_header(name, None);
                }
                for (name, value) in &allowed.set {
                    self.set_http_request_header(name, Some(value));
                }
                counts.allowed += 1;
                if allowed.access == Access::Public {
                    counts.public += 1;
                }
                Action::Continue
            }
            Err(error) => {
                counts.denied(error.code());
                let route = request.path.split(['?', '#']).next().unwrap_or_default();
                log(LogLevel::Debug, &format!("{} {route} refused: {}", request.method, error.code()));
                let response = decision::response(&error);
                let headers = response.headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
                self.send_http_response(response.status, headers, Some(response.body.as_bytes()));
                Action::Pause
            }
        }
    }
}
