//! Proof of possession (docs/policy.md, "Proof of possession"): a token bound to a key the bot
//! holds is only accepted with proof that the caller holds it — the TLS client certificate the
//! token names (RFC 8705, `cnf["x5t#S256"]`) or a DPoP proof signed with the key it names
//! (RFC 9449, `cnf.jkt`) — and the client certificate's URI SAN (a SPIFFE ID) can be required to be
//! one of a rule's `peers` or the token's `sub`.
//!
//! Whatever a provider's `proof_of_possession` says, a bound token never passes as a bearer token.
//! The proof's `jti` must be recorded by the host in a replay store ([`crate::replay`]); the core
//! says which ([`ProofUse`]) and turns the store's answer into the refusal.

use crate::algorithm::Algorithm;
use crate::base64url;
use crate::error::{DpopFailure, Error, PopMissing};
use crate::host_crypto::{self, HostCrypto};
use crate::jwk::Jwk;
use crate::policy::Provider;
use crate::token::SignedToken;
use crate::{VerifiedToken, cache::TokenCache};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Default `dpop_max_age_seconds`: how old a proof's `iat` may be.
pub const DEFAULT_DPOP_MAX_AGE_SECONDS: u64 = 300;
/// Largest `dpop_max_age_seconds` accepted.
pub const MAX_DPOP_MAX_AGE_SECONDS: u64 = 3600;
/// Longest DPoP proof accepted, in bytes, checked before decoding.
pub const MAX_PROOF_BYTES: usize = 8 * 1024;
/// Longest `jti` accepted, in bytes.
pub const MAX_JTI_BYTES: usize = 256;
/// Proof keys kept verified-ready per verifier: each P-256 key with its table (~88 KiB), at most
/// ~5.5 MiB per verifier (per Envoy worker).
pub const PROOF_KEY_CACHE_SIZE: usize = 64;
/// The table width of a cached P-256 proof key: one bit narrower than a provider key's (a
/// table half the size, ~10% slower), as bots are many. Measured in `make bench` (DPoP group).
const PROOF_KEY_WINDOW_BITS: u32 = 6;

/// A provider's `proof_of_possession`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PopMode {
    /// Bearer tokens pass; a bound token still needs its proof.
    #[default]
    None,
    /// Only tokens bound to a client certificate (`cnf["x5t#S256"]`).
    Mtls,
    /// Only tokens bound to a DPoP key (`cnf.jkt`).
    Dpop,
    /// Only bound tokens, either way.
    Any,
}

/// How one provider's tokens are bound to their bots' keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PopPolicy {
    /// `proof_of_possession`.
    pub mode: PopMode,
    /// `dpop_algorithms`: the algorithms a DPoP proof may use (default `["ES256"]`).
    pub dpop_algorithms: Vec<Algorithm>,
    /// The same, as the `algs` of a `WWW-Authenticate: DPoP` challenge (`"ES256 EdDSA"`).
    pub dpop_algs: String,
    /// `dpop_max_age_seconds`: how old a proof's `iat` may be (default 300), plus the clock skew.
    pub dpop_max_age_seconds: u64,
    /// `dpop_origins`: the origins (`https://api.example.com`) a proof's `htu` may name, for a
    /// gateway behind a proxy that changes the scheme or authority; empty: the request's own.
    pub dpop_origins: Vec<String>,
    /// `bind_subject_to_peer`: the token's `sub` must be the client certificate's URI SAN.
    pub bind_subject_to_peer: bool,
}

impl PopPolicy {
    /// Checks the provider's proof-of-possession fields (`path` is the provider's).
    pub(crate) fn validate(
        path: &str,
        mode: Option<PopMode>,
        algorithms: Option<Vec<Algorithm>>,
        max_age: Option<u64>,
        origins: Vec<String>,
        bind_subject_to_peer: bool,
    ) -> Result<PopPolicy, Error> {
        let dpop_algorithms = algorithms.unwrap_or_else(|| vec![Algorithm::ES256]);
        if dpop_algorithms.is_empty() {
            return Err(Error::policy(format!("{path}.dpop_algorithms"), "at least one algorithm is needed"));
        }
        let dpop_max_age_seconds = max_age.unwrap_or(DEFAULT_DPOP_MAX_AGE_SECONDS);
        if !(1..=MAX_DPOP_MAX_AGE_SECONDS).contains(&dpop_max_age_seconds) {
            return Err(Error::policy(
                format!("{path}.dpop_max_age_seconds"),
                format!("must be 1 to {MAX_DPOP_MAX_AGE_SECONDS}"),
            ));
        }
        let mut dpop_origins = Vec::with_capacity(origins.len());
        for (i, origin) in origins.iter().enumerate() {
            let normal = split_url(origin).filter(|(_, path)| path.is_empty()).map(|(origin, _)| origin);
            let Some(normal) = normal else {
                return Err(Error::policy(
                    format!("{path}.dpop_origins[{i}]"),
                    "expected an origin: http(s)://host[:port], without a path",
                ));
            };
            dpop_origins.push(normal);
        }
        let names: Vec<&str> = dpop_algorithms.iter().map(|a| a.name()).collect();
        Ok(PopPolicy {
            mode: mode.unwrap_or_default(),
            dpop_algs: names.join(" "),
            dpop_algorithms,
            dpop_max_age_seconds,
            dpop_origins,
            bind_subject_to_peer,
        })
    }

    /// The DPoP algorithms for a challenge, when this provider takes DPoP proofs at all.
    fn challenge_algs(&self) -> String {
        if self.mode == PopMode::Mtls { String::new() } else { self.dpop_algs.clone() }
    }
}

/// What the connection says about the client, as the host knows it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Connection<'a> {
    /// The scheme the request came in on (`https`, `http`): Envoy's `:scheme`, Node's socket.
    pub scheme: Option<&'a str>,
    /// The authority it was sent to (`api.example.com`, `127.0.0.1:8443`): `:authority` / `Host`.
    pub authority: Option<&'a str>,
    /// SHA-256 of the DER of the client certificate the TLS handshake proved the client holds
    /// the key of (whether or not a CA vouched for it: enough for a certificate-bound token).
    pub peer_certificate_sha256: Option<[u8; 32]>,
    /// The first URI SAN (a SPIFFE ID) of a client certificate the TLS layer verified against
    /// its trusted CAs; `None` for an unverified certificate.
    pub peer_uri_san: Option<&'a str>,
}

/// SHA-256 of a client certificate's DER: what [`Connection::peer_certificate_sha256`] holds,
/// and (base64url) what a token bound to it carries as `cnf["x5t#S256"]`.
pub fn certificate_sha256(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

/// A DPoP proof a request used. The host records it once in a replay store before letting the
/// request through ([`crate::replay`]); a proof already there is a replay ([`crate::Decision::refuse_replayed`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofUse {
    /// Names the proof: the first 16 bytes of SHA-256 over the key's thumbprint, `.`, and `jti`.
    pub id: [u8; 16],
    /// Until when (Unix seconds) the proof could be accepted again: it must be kept that long.
    pub expires_at: i64,
}

impl ProofUse {
    /// The store key: `dpop:` and the id in lowercase hex.
    pub fn key(&self) -> String {
        let mut key = String::with_capacity(5 + 32);
        key.push_str("dpop:");
        for byte in self.id {
            key.push_str(&format!("{byte:02x}"));
        }
        key
    }

    /// How long (seconds, at least 1) it must be kept from `now`.
    pub fn ttl_seconds(&self, now: i64) -> u64 {
        u64::try_from(self.expires_at.saturating_sub(now)).unwrap_or(0).max(1)
    }
}

/// A token as the request presented it: its text and whether it came with the `DPoP` scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Presented {
    pub token: String,
    pub dpop_scheme: bool,
}

/// What the request brings besides its token.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Evidence<'a> {
    pub method: &'a str,
    /// The path with its query, as sent.
    pub path: &'a str,
    /// Every `DPoP` header value.
    pub dpop: &'a [&'a str],
    pub connection: Connection<'a>,
}

/// Proof keys parsed (and their tables built) once, by thumbprint.
pub(crate) type ProofKeys = TokenCache<Arc<Jwk>>;

impl crate::cache::OfProvider for Arc<Jwk> {
    fn provider(&self) -> usize {
        usize::MAX
    }
}

/// Whether `peer` can name a client certificate's URI SAN: an absolute URI (`scheme:` and more),
/// printable ASCII without spaces.
pub(crate) fn is_peer_id(peer: &str) -> bool {
    let scheme_end = peer.find(':').unwrap_or(0);
    scheme_end > 0
        && scheme_end + 1 < peer.len()
        && peer[..scheme_end].bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        && peer.bytes().all(|b| b.is_ascii_graphic())
}

/// The binding checks for a token that verified: its `cnf` proven (DPoP, certificate), the
/// provider's mode, and `bind_subject_to_peer`. `Some` names the DPoP proof the host must record.
pub(crate) fn check_binding(
    provider: &Provider,
    verified: &VerifiedToken,
    presented: &Presented,
    evidence: &Evidence<'_>,
    now: i64,
    keys: &mut ProofKeys,
    host: Option<&dyn HostCrypto>,
) -> Result<Option<ProofUse>, Error> {
    let pop = &provider.pop;
    let missing = |reason| Error::PopMissing { reason, dpop_algs: pop.challenge_algs() };
    let (jkt, x5t) = match verified.claims.get("cnf") {
        None => (None, None),
        Some(Value::Object(cnf)) => {
            let member = |name: &str| match cnf.get(name) {
                None => Ok(None),
                Some(Value::String(value)) => Ok(Some(value.as_str())),
                Some(_) => Err(missing(PopMissing::UnknownBinding)),
            };
            let (jkt, x5t) = (member("jkt")?, member("x5t#S256")?);
            // Bound some other way (RFC 7800 `jwk`, `kid`, …): nothing here can check it.
            if jkt.is_none() && x5t.is_none() {
                return Err(missing(PopMissing::UnknownBinding));
            }
            (jkt, x5t)
        }
        Some(_) => return Err(missing(PopMissing::UnknownBinding)),
    };
    let bound_as_needed = match pop.mode {
        PopMode::None => true,
        PopMode::Mtls => x5t.is_some(),
        PopMode::Dpop => jkt.is_some(),
        PopMode::Any => jkt.is_some() || x5t.is_some(),
    };
    if !bound_as_needed {
        return Err(missing(PopMissing::UnboundToken));
    }
    let mut proof = None;
    match jkt {
        Some(jkt) if presented.dpop_scheme && !evidence.dpop.is_empty() => {
            proof = Some(check_proof(provider, jkt, &presented.token, evidence, now, keys, host)?);
        }
        // RFC 9449 §7.1: a DPoP-bound token sent as a bearer token (or without its proof).
        Some(_) => return Err(missing(PopMissing::NoDpopProof)),
        None if presented.dpop_scheme => {
            return Err(Error::DpopProofInvalid { reason: DpopFailure::UnboundToken, algs: pop.dpop_algs.clone() });
        }
        None => {}
    }
    if let Some(x5t) = x5t {
        let Some(sha256) = evidence.connection.peer_certificate_sha256 else {
            return Err(missing(PopMissing::NoCertificate));
        };
        if base64url::encode(&sha256) != x5t {
            return Err(Error::MtlsBindingMismatch { subject: false });
        }
    }
    if pop.bind_subject_to_peer {
        let Some(peer) = evidence.connection.peer_uri_san else {
            return Err(missing(PopMissing::NoPeer));
        };
        if verified.claims.get("sub").and_then(Value::as_str) != Some(peer) {
            return Err(Error::MtlsBindingMismatch { subject: true });
        }
    }
    Ok(proof)
}

/// RFC 9449 §4.3 for the one `DPoP` header of a request whose token is bound to `jkt`; the cheap
/// checks first, and the signature only under the key the token names.
fn check_proof(
    provider: &Provider,
    jkt: &str,
    token: &str,
    evidence: &Evidence<'_>,
    now: i64,
    keys: &mut ProofKeys,
    host: Option<&dyn HostCrypto>,
) -> Result<ProofUse, Error> {
    let pop = &provider.pop;
    let fail = |reason| Error::DpopProofInvalid { reason, algs: pop.dpop_algs.clone() };
    let [proof] = evidence.dpop else {
        return Err(fail(DpopFailure::HeaderCount));
    };
    let signed = SignedToken::parse(proof, MAX_PROOF_BYTES).map_err(|_| fail(DpopFailure::Malformed))?;
    if signed.typ.as_deref().is_none_or(|typ| crate::policy::media_type(typ) != "application/dpop+jwt") {
        return Err(fail(DpopFailure::Type));
    }
    let alg = Algorithm::from_name(&signed.alg)
        .filter(|alg| pop.dpop_algorithms.contains(alg))
        .ok_or_else(|| fail(DpopFailure::Algorithm))?;
    let Some(Value::Object(jwk)) = signed.header.get("jwk") else {
        return Err(fail(DpopFailure::Key));
    };
    // The key the token names, or nothing is verified.
    let thumbprint = crate::jwk::thumbprint_of(jwk).ok_or_else(|| fail(DpopFailure::Key))?;
    if thumbprint != jkt {
        return Err(fail(DpopFailure::KeyMismatch));
    }
    let key = match keys.get(&thumbprint) {
        // The same public members (strict base64url: one text per key); private ones are
        // refused whatever the cache holds.
        Some(key) if !crate::jwk::has_private_members(jwk) => Arc::clone(key),
        Some(_) => return Err(fail(DpopFailure::Key)),
        None => {
            let key =
                Arc::new(crate::jwk::proof_key(jwk, alg, PROOF_KEY_WINDOW_BITS).ok_or_else(|| fail(DpopFailure::Key))?);
            keys.insert(&thumbprint, Arc::clone(&key));
            key
        }
    };
    if !key.key.fits(alg) {
        return Err(fail(DpopFailure::Key));
    }
    match host_crypto::verify(host, alg, &key, signed.signing_input.as_bytes(), &signed.signature) {
        Ok(()) => {}
        Err(Error::BadSignature | Error::AlgorithmNotAllowed) => return Err(fail(DpopFailure::Signature)),
        Err(other) => return Err(other),
    }
    let proof = signed.with_claims().map_err(|_| fail(DpopFailure::Malformed))?;
    let text = |name: &str| proof.claims.get(name).and_then(Value::as_str);
    if text("htm") != Some(evidence.method) {
        return Err(fail(DpopFailure::Method));
    }
    if !text("htu").is_some_and(|htu| htu_matches(htu, pop, evidence)) {
        return Err(fail(DpopFailure::Url));
    }
    let (max_age, skew) = (pop.dpop_max_age_seconds, provider.clock_skew_seconds);
    if !proof.registered.iat.is_some_and(|iat| crate::claims::within_age(iat, now, max_age, skew)) {
        return Err(fail(DpopFailure::Age));
    }
    let jti =
        text("jti").filter(|j| !j.is_empty() && j.len() <= MAX_JTI_BYTES).ok_or_else(|| fail(DpopFailure::Jti))?;
    if text("ath") != Some(base64url::encode(&Sha256::digest(token.as_bytes())).as_str()) {
        return Err(fail(DpopFailure::TokenHash));
    }
    let mut hash = Sha256::new();
    hash.update(thumbprint.as_bytes());
    hash.update(b".");
    hash.update(jti.as_bytes());
    let mut id = [0u8; 16];
    id.copy_from_slice(&hash.finalize()[..16]);
    // Accepted until `iat + max_age + skew` at the latest, and `iat` is at most `now + skew`:
    // kept until `now + max_age + 2·skew`, and a second beyond.
    let window = i64::try_from(max_age.saturating_add(skew.saturating_mul(2))).unwrap_or(i64::MAX);
    Ok(ProofUse { id, expires_at: now.saturating_add(window).saturating_add(1) })
}

/// Whether a proof's `htu` names this request (RFC 9449 §4.3 item 9): the same origin (scheme and
/// host compared case-insensitively, a default port the same as none; one of `dpop_origins` when
/// the policy names them, else the request's own) and the same path, unreserved escapes decoded,
/// without query or fragment.
fn htu_matches(htu: &str, pop: &PopPolicy, evidence: &Evidence<'_>) -> bool {
    let Some((origin, path)) = split_url(htu) else { return false };
    let origin_ok = if pop.dpop_origins.is_empty() {
        let (Some(scheme), Some(authority)) = (evidence.connection.scheme, evidence.connection.authority) else {
            return false;
        };
        normal_origin(scheme, authority).is_some_and(|own| own == origin)
    } else {
        pop.dpop_origins.contains(&origin)
    };
    let request_path = evidence.path.split(['?', '#']).next().unwrap_or_default();
    let path = if path.is_empty() { "/" } else { path };
    origin_ok && crate::policy::decode_unreserved(path) == crate::policy::decode_unreserved(request_path)
}

/// An absolute http(s) URL as its normal origin (`https://api.example.com`) and its path (query
/// and fragment left out).
fn split_url(url: &str) -> Option<(String, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, rest) = rest.split_at(end);
    let path = rest.split(['?', '#']).next().unwrap_or_default();
    Some((normal_origin(scheme, authority)?, path))
}

/// `scheme://authority` with the scheme and host lowercase and a default port left out; `None`
/// for another scheme, userinfo or an authority that is not a host with an optional port.
fn normal_origin(scheme: &str, authority: &str) -> Option<String> {
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => ":443",
        "http" => ":80",
        _ => return None,
    };
    let valid = !authority.is_empty() && authority.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._:[]".contains(&b));
    if !valid {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    let authority = authority.strip_suffix(default_port).unwrap_or(&authority);
    Some(format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_compared_in_normal_form() {
        assert_eq!(
            split_url("HTTPS://API.example.com:443/orders?x=1#f"),
            Some(("https://api.example.com".into(), "/orders"))
        );
        assert_eq!(split_url("http://127.0.0.1:8080"), Some(("http://127.0.0.1:8080".into(), "")));
        assert_eq!(split_url("http://h:80/a"), Some(("http://h".into(), "/a")));
        assert_eq!(split_url("ftp://h/a"), None);
        assert_eq!(split_url("https://user@h/a"), None);
        assert_eq!(split_url("/relative"), None);
    }

    #[test]
    fn peer_ids_are_absolute_uris() {
        assert!(is_peer_id("spiffe://example.org/ns/bots/sa/billing"));
        assert!(!is_peer_id("billing"));
        assert!(!is_peer_id("spiffe:"));
        assert!(!is_peer_id("spiffe://a b"));
    }

    #[test]
    fn a_proof_is_kept_until_its_window_closes() {
        let proof = ProofUse { id: [0xab; 16], expires_at: 1_000 };
        assert_eq!(proof.key(), format!("dpop:{}", "ab".repeat(16)));
        assert_eq!((proof.ttl_seconds(700), proof.ttl_seconds(1_000), proof.ttl_seconds(5_000)), (300, 1, 1));
    }
}
