//! One request's decision, the same for every host: which rule, whether its token passes, and
//! what the request headers look like on the way upstream. The Envoy filter, the npm middleware
//! and `edgeward verify --path` all apply [`Verifier::decide`]'s answer and nothing else.

use crate::error::Error;
use crate::policy::{Policy, Provider, normalized_header_name};
use crate::pop::{Connection, Evidence, Presented, ProofUse};
use crate::{Access, VerifiedToken, Verifier};
use serde::Serialize;
use std::borrow::Cow;
use std::sync::Arc;

/// No scope: the verification before a rule's conditions and scopes are checked.
const NO_SCOPES: &[&str] = &[];

/// One HTTP request as a host sees it. Header names are lowercase (HTTP/2, Envoy and Node all
/// give them so); a name may appear more than once.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The method, as sent (`GET`).
    pub method: &'a str,
    /// The path with its query (`/orders/1?x=y`).
    pub path: &'a str,
    /// Every request header, `(lowercase name, value)`.
    pub headers: &'a [(&'a str, &'a str)],
    /// Match every rule's path case-insensitively, as the application behind will route it
    /// (Express does by default, even with case-sensitive app settings, in its routers).
    pub case_insensitive: bool,
    /// The scheme, authority and client certificate of the connection (for DPoP's `htu`, mTLS-bound
    /// tokens and `peers`).
    pub connection: Connection<'a>,
}

impl<'a> Request<'a> {
    /// A request with nothing known about its connection, matched case-sensitively.
    pub fn new(method: &'a str, path: &'a str, headers: &'a [(&'a str, &'a str)]) -> Request<'a> {
        Request { method, path, headers, case_insensitive: false, connection: Connection::default() }
    }

    /// The value of header `name`; repeated headers are joined with `", "` as HTTP allows, which no
    /// token and no method survives (a request cannot show one value to us and another upstream).
    pub fn header(&self, name: &str) -> Option<String> {
        let mut values = self.headers.iter().filter(|(n, _)| *n == name).map(|(_, v)| *v);
        let first = values.next()?;
        Some(values.fold(first.to_owned(), |joined, next| format!("{joined}, {next}")))
    }
}

/// Whether the verified-token cache answered this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheUse {
    /// No token was verified (public route, no token, unmatched route, a refusal before the token).
    None,
    /// Every token check was answered by the cache.
    Hit,
    /// A token was parsed and its signature checked.
    Miss,
}

impl CacheUse {
    /// What the cache did between two readings of a verifier's [`crate::CacheStats`]: a miss if
    /// any token was parsed, else a hit if any answer came from it.
    fn between(before: crate::CacheStats, after: crate::CacheStats) -> CacheUse {
        if after.misses > before.misses {
            CacheUse::Miss
        } else if after.hits > before.hits || after.replayed_failures > before.replayed_failures {
            CacheUse::Hit
        } else {
            CacheUse::None
        }
    }
}

/// An allowed request: what it was granted, by which rule, and how its headers change.
#[derive(Debug, Clone, PartialEq)]
pub struct Allowed {
    /// Public, or the verified token.
    pub access: Access,
    /// The index in the policy's `rules` of the rule that matched the request's method.
    pub rule: usize,
    /// Request headers to remove (names as sent): claim headers and token headers the client
    /// sent, under any spelling a server may read as theirs (`x_bot_id` for `x-bot-id`).
    pub remove: Vec<String>,
    /// Request headers to set after the removals, from the verified claims (`claim_to_headers`).
    pub set: Vec<(String, String)>,
    /// The DPoP proof the request used: the host records it in its replay store before letting
    /// the request through, and refuses it if it was there ([`Decision::refuse_replayed`]).
    pub proof: Option<ProofUse>,
}

/// What edgeward decided for one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Allowed (with the header changes to apply), or refused.
    pub outcome: Result<Allowed, Error>,
    /// Whether the cache answered (for metrics).
    pub cache: CacheUse,
    /// The index in `rules` of the rule that matched the request's method, also when it refused
    /// the request (`None`: no rule matched, or the path is not in normal form).
    pub rule: Option<usize>,
    /// The token that verified, also when the rule then refused it (not admitted, lacking a
    /// scope): who was refused, for the decision record.
    pub token: Option<Arc<VerifiedToken>>,
    /// The scopes of the requirement that decided: the one that let the token through, else the
    /// one whose refusal is given (a verified token not admitted or lacking scope, else the rule's
    /// first alternative). Empty for a public rule, an unmatched route and an `allow_missing`
    /// requirement passed without a token.
    pub required_scopes: Vec<String>,
}

/// What `decide_with` found: the outcome (the rule's index, the access and the DPoP proof used),
/// whether the cache answered, the matched rule, and a token that verified but was refused.
struct Decided {
    outcome: Result<(usize, Access, Option<ProofUse>), Error>,
    cache: CacheUse,
    rule: Option<usize>,
    token: Option<Arc<VerifiedToken>>,
    required_scopes: Vec<String>,
}

/// A requirement's refusal, with the token when it verified (not admitted, lacking a scope).
type Refusal = (Error, Option<Arc<VerifiedToken>>);

/// A requirement that passed: the token, and the DPoP proof it came with.
type Granted = (Arc<VerifiedToken>, Option<ProofUse>);

/// What one decision was, for the rest of the gateway and for audit (docs/policy.md, "Decision
/// record"): the Envoy filter writes it into the request's filter state, the npm middleware hands
/// it to `onDecision`. Never the token, a signature or key material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecisionRecord {
    /// The provider whose token verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The verified token's `iss`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Its `sub`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Its `client_id` (RFC 9068), else `azp`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The scopes it grants.
    pub scopes: Vec<String>,
    /// The rule that matched: its `name`, else its index in `rules`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The refusal's stable code (`None`: allowed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    /// The status edgeward answered with, or 200 when it let the request through.
    pub status: u16,
    /// The scopes the deciding requirement asks for ([`Decision::required_scopes`]).
    #[serde(default)]
    pub required_scopes: Vec<String>,
    /// The verified token's `iat` (whole seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Its `exp` (whole seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
}

impl Decision {
    /// The refusal of an allowed request whose DPoP proof the replay store already held
    /// (`ERR_DPOP_REPLAYED`); a decision without a proof is left as it is.
    pub fn refuse_replayed(&mut self, policy: &Policy) {
        self.refuse_proof(Error::dpop_replayed_for, policy);
    }

    /// The refusal of an allowed request whose DPoP proof the replay store could not record
    /// (`ERR_REPLAY_STORE_UNAVAILABLE`, 503): never let through unrecorded. `reason` is for logs.
    pub fn refuse_store_unavailable(&mut self, policy: &Policy, reason: &str) {
        self.refuse_proof(|_| Error::replay_store_unavailable(reason), policy);
    }

    fn refuse_proof(&mut self, error: impl FnOnce(Option<&Provider>) -> Error, policy: &Policy) {
        let Ok(allowed) = &self.outcome else { return };
        if allowed.proof.is_none() {
            return;
        }
        let token = match &allowed.access {
            Access::Granted(token) => Some(Arc::clone(token)),
            Access::Public => None,
        };
        let provider = token.as_ref().and_then(|t| policy.provider(&t.provider));
        self.outcome = Err(error(provider));
        self.token = token;
    }

    /// This decision's record, by `policy`'s rule names.
    pub fn record(&self, policy: &Policy) -> DecisionRecord {
        let token = match &self.outcome {
            Ok(Allowed { access: Access::Granted(token), .. }) => Some(token),
            _ => self.token.as_ref(),
        };
        let text = |name: &str| token.and_then(|t| t.claims.get(name)).and_then(|v| v.as_str()).map(str::to_owned);
        let rule = self.rule.map(|i| match policy.rules.get(i).and_then(|r| r.name.clone()) {
            Some(name) => name,
            None => i.to_string(),
        });
        let (code, status) = match &self.outcome {
            Ok(_) => (None, 200),
            Err(e) => (Some(e.code()), e.denial().status),
        };
        let seconds = |name: &str| token.and_then(|t| t.claims.get(name)).and_then(crate::record::whole_seconds);
        DecisionRecord {
            provider: token.map(|t| t.provider.clone()),
            iss: text("iss"),
            sub: text("sub"),
            client_id: text("client_id").or_else(|| text("azp")),
            scopes: token.map(|t| t.scopes.clone()).unwrap_or_default(),
            rule,
            code,
            status,
            required_scopes: self.required_scopes.clone(),
            iat: seconds("iat"),
            exp: seconds("exp"),
        }
    }
}

impl Error {
    /// `ERR_DPOP_REPLAYED` for a proof used with a token of `provider` (the challenge names its
    /// `dpop_algorithms`): what [`Decision::refuse_replayed`] gives, for a host that no longer
    /// holds the decision when its store answers (the npm middleware awaits the store).
    pub fn dpop_replayed_for(provider: Option<&Provider>) -> Error {
        Error::DpopReplayed { algs: provider.map(|p| p.pop.dpop_algs.clone()).unwrap_or_default() }
    }

    /// `ERR_REPLAY_STORE_UNAVAILABLE` (503) with the store's `reason` (for logs): what
    /// [`Decision::refuse_store_unavailable`] gives.
    pub fn replay_store_unavailable(reason: &str) -> Error {
        Error::ReplayStoreUnavailable { reason: reason.to_owned() }
    }
}

impl Verifier {
    /// Decides one request at `now` (Unix seconds): the rule for its method and path, the token
    /// its provider's `from_headers` find, the rule's scopes, and — when it is allowed — the
    /// header changes for the upstream. A request that names another method in a
    /// `method_override_headers` header must satisfy that method's rule as well.
    pub fn decide(&mut self, request: &Request<'_>, now: i64) -> Decision {
        let policy = Arc::clone(self.policy_arc());
        // Every name as servers read it, once: override headers and header changes both compare so
        // (`x_http_method_override` is `x-http-method-override`).
        let normalized: Vec<Cow<'_, str>> =
            request.headers.iter().map(|(name, _)| normalized_header_name(name)).collect();
        let overrides: Vec<String> = request
            .headers
            .iter()
            .zip(&normalized)
            .filter(|(_, name)| policy.method_override_headers.iter().any(|o| o == name.as_ref()))
            .map(|((_, method), _)| method.to_ascii_uppercase())
            .collect();
        let mut token_for = |provider: &Provider| provider.extract_presented(|name| request.header(name));
        let dpop: Vec<&str> = request.headers.iter().filter(|(name, _)| *name == "dpop").map(|(_, v)| *v).collect();
        let evidence =
            Evidence { method: request.method, path: request.path, dpop: &dpop, connection: request.connection };
        let Decided { outcome, cache, rule, token, required_scopes } =
            self.decide_with(request.case_insensitive, &overrides, &mut token_for, &evidence, now);
        let outcome = outcome.map(|(rule, access, proof)| {
            let (remove, set) = header_changes(&policy, &access, request.headers, &normalized);
            Allowed { access, rule, remove, set, proof }
        });
        Decision { outcome, cache, rule, token, required_scopes }
    }

    /// Decides a request to `method` and `path` that carries `token` (or none), by the same rules
    /// as [`Verifier::decide`]: for hosts that hold the token itself (the CLI). There are no
    /// request headers, so nothing is removed; `set` shows the claim headers an upstream would get.
    pub fn decide_token(&mut self, method: &str, path: &str, token: Option<&str>, now: i64) -> Decision {
        self.decide_token_with(method, path, token, None, Connection::default(), now)
    }

    /// [`Verifier::decide_token`] with what else the request would bring: a DPoP proof (the token
    /// then comes with the `DPoP` scheme) and the connection (origin, client certificate).
    pub fn decide_token_with(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        dpop_proof: Option<&str>,
        connection: Connection<'_>,
        now: i64,
    ) -> Decision {
        let policy = Arc::clone(self.policy_arc());
        let dpop_scheme = dpop_proof.is_some();
        let mut token_for = |_: &Provider| token.map(|token| Presented { token: token.to_owned(), dpop_scheme });
        let proofs: Vec<&str> = dpop_proof.into_iter().collect();
        let evidence = Evidence { method, path, dpop: &proofs, connection };
        let Decided { outcome, cache, rule, token, required_scopes } =
            self.decide_with(false, &[], &mut token_for, &evidence, now);
        let outcome = outcome.map(|(rule, access, proof)| {
            let (_, set) = header_changes(&policy, &access, &[], &[]);
            Allowed { access, rule, remove: Vec::new(), set, proof }
        });
        Decision { outcome, cache, rule, token, required_scopes }
    }

    /// Authenticates one request without the policy's rules (a per-route guard: the npm package's
    /// `authenticate`): the token `provider`'s `from_headers` find, verified, with its proof of
    /// possession checked against the request (DPoP header, connection). Without `provider`, each
    /// provider's sources are read and the token's `iss` picks the provider, as in a rule's
    /// `requires_any` (with one provider: that one). No scopes and no claim conditions: those are
    /// [`Verifier::check_requirement`]'s. A token is needed (`ERR_JWT_MISSING` without one); an
    /// allowed request gets the same header changes as under a rule. `rule` is `None`.
    pub fn authenticate(&mut self, request: &Request<'_>, provider: Option<&str>, now: i64) -> Decision {
        let policy = Arc::clone(self.policy_arc());
        let guard = |name: &str| crate::policy::Requirement {
            provider_name: name.to_owned(),
            scopes: Vec::new(),
            claims: Vec::new(),
            allow_missing: false,
            peers: Vec::new(),
        };
        let alternatives: Vec<crate::policy::Requirement> = match provider {
            Some(name) if policy.provider(name).is_none() => {
                let error = Error::policy("provider", format!("unknown provider \"{name}\""));
                return Decision {
                    outcome: Err(error),
                    cache: CacheUse::None,
                    rule: None,
                    token: None,
                    required_scopes: Vec::new(),
                };
            }
            Some(name) => vec![guard(name)],
            None => policy.providers.iter().map(|p| guard(&p.name)).collect(),
        };
        let normalized: Vec<Cow<'_, str>> =
            request.headers.iter().map(|(name, _)| normalized_header_name(name)).collect();
        let mut token_for = |provider: &Provider| provider.extract_presented(|name| request.header(name));
        let dpop: Vec<&str> = request.headers.iter().filter(|(name, _)| *name == "dpop").map(|(_, v)| *v).collect();
        let evidence =
            Evidence { method: request.method, path: request.path, dpop: &dpop, connection: request.connection };
        let before = self.cache_stats();
        let mut decided = None;
        let satisfied = self.satisfy(&policy, &alternatives, &mut token_for, &evidence, now, &mut decided);
        let after = self.cache_stats();
        let cache = CacheUse::between(before, after);
        let (outcome, token) = match satisfied {
            Ok(Some((verified, proof))) => {
                let access = Access::Granted(verified);
                let (remove, set) = header_changes(&policy, &access, request.headers, &normalized);
                (Ok(Allowed { access, rule: 0, remove, set, proof }), None)
            }
            // No alternative allows a missing token: unreachable, refused all the same.
            Ok(None) => (Err(Error::Missing), None),
            Err((error, verified)) => (Err(error), verified),
        };
        Decision { outcome, cache, rule: None, token, required_scopes: Vec::new() }
    }

    /// Whether a verified token meets a per-route guard's `requirement` ([`Requirement::for_guard`]
    /// or a rule's): its claim conditions first (`ERR_PRINCIPAL_DENIED`, 403; a bot the guard
    /// does not admit is not told its scopes), then its scopes (`ERR_SCOPE_INSUFFICIENT`, 403,
    /// with the scopes in the challenge), by the same checks a rule makes. `peer_uri_san`: the
    /// verified client certificate's URI SAN, for a requirement with `peers`.
    ///
    /// [`Requirement::for_guard`]: crate::Requirement::for_guard
    pub fn check_requirement(
        &self,
        token: &VerifiedToken,
        requirement: &crate::policy::Requirement,
        peer_uri_san: Option<&str>,
    ) -> Result<(), Error> {
        requirement.check(&token.claims, &token.scopes, peer_uri_san)
    }

    /// The rule of `method` (and of every overriding method), each one's token check; the
    /// access of the last protected rule, or public.
    fn decide_with(
        &mut self,
        case_insensitive: bool,
        overrides: &[String],
        token_for: &mut dyn FnMut(&Provider) -> Option<Presented>,
        evidence: &Evidence<'_>,
        now: i64,
    ) -> Decided {
        let before = self.cache_stats();
        let policy = Arc::clone(self.policy_arc());
        let (method, path) = (evidence.method, evidence.path);
        let mut matched = None;
        let mut refused_token = None;
        let mut required: &[String] = &[];
        let mut run = || -> Result<(usize, Access, Option<ProofUse>), Error> {
            let (index, rule) = policy.rule_for_case(method, path, case_insensitive)?;
            matched = Some(index);
            let mut access = Access::Public;
            let mut proof = None;
            let overriding = overrides.iter().map(|m| {
                let method = override_method(m)?;
                policy.rule_for_case(method, path, case_insensitive).map(|(_, rule)| rule)
            });
            for rule in std::iter::once(Ok(rule)).chain(overriding) {
                let rule = rule?;
                if rule.requires.is_empty() {
                    continue;
                }
                let mut decided = None;
                let satisfied = self.satisfy(&policy, &rule.requires, token_for, evidence, now, &mut decided);
                if let Some(requirement) = decided.and_then(|i| rule.requires.get(i)) {
                    required = &requirement.scopes;
                }
                match satisfied {
                    Ok(Some((verified, used))) => {
                        access = Access::Granted(verified);
                        proof = used.or(proof);
                    }
                    Ok(None) => {}
                    Err((error, verified)) => {
                        refused_token = verified;
                        return Err(error);
                    }
                }
            }
            Ok((index, access, proof))
        };
        let outcome = run();
        let after = self.cache_stats();
        let cache = CacheUse::between(before, after);
        Decided { outcome, cache, rule: matched, token: refused_token, required_scopes: required.to_vec() }
    }

    /// Whether one of a rule's requirements (alternatives) passes: `Some(token)` for the first
    /// whose token verifies and that admits it, `None` for an `allow_missing` one without a token.
    /// When none passes, the most useful refusal: the 403 of an alternative whose token verified
    /// but was not admitted or lacked scope, else the first error of an alternative whose issuer
    /// the token names (a rotated key of the second provider is said as a key error, and asks for
    /// its keys early), else the first alternative's error. `decided` gets the index of the
    /// alternative that decided (the one that passed, the 403's, else the first; `None` for an
    /// `allow_missing` pass without a token), for the decision record's required scopes.
    fn satisfy(
        &mut self,
        policy: &Policy,
        alternatives: &[crate::policy::Requirement],
        token_for: &mut dyn FnMut(&Provider) -> Option<Presented>,
        evidence: &Evidence<'_>,
        now: i64,
        decided: &mut Option<usize>,
    ) -> Result<Option<Granted>, Refusal> {
        let mut first: Option<Error> = None;
        let mut other_issuer: Option<Error> = None;
        let mut forbidden: Option<(Error, Arc<VerifiedToken>)> = None;
        // Alternatives of several issuers: the token's `iss` picks the ones worth verifying, so a
        // token of the second provider costs no failed attempt (nor a key refetch) at the first.
        let issuer_of = |r: &crate::policy::Requirement| policy.provider(&r.provider_name).map(|p| p.issuer.as_str());
        let several_issuers = alternatives.iter().any(|r| issuer_of(r) != alternatives.first().and_then(issuer_of));
        let mut claimed: Option<(String, Option<String>)> = None;
        let mut forbidden_at = None;
        for (index, requirement) in alternatives.iter().enumerate() {
            let provider = policy.provider(&requirement.provider_name).ok_or((Error::RouteDenied, None))?;
            let error = match token_for(provider) {
                None if requirement.allow_missing => return Ok(None),
                None => Error::Missing,
                Some(presented)
                    if several_issuers && self.names_another_issuer(&mut claimed, &presented.token, provider) =>
                {
                    other_issuer
                        .get_or_insert(Error::claim_mismatch("iss", crate::claims::quoted(&[&provider.issuer])));
                    continue;
                }
                Some(presented) => match self.verify(&presented.token, Some(&provider.name), NO_SCOPES, now) {
                    // Whether the caller holds the key the token is bound to first, then who it is
                    // (peer, claims), then what it may do: a bot the rule does not admit is not
                    // told its scopes.
                    Ok(verified) => {
                        let proof = match self.check_binding(provider, &verified, &presented, evidence, now) {
                            Ok(proof) => proof,
                            Err(error) => {
                                first.get_or_insert(error);
                                continue;
                            }
                        };
                        let error = match admits(requirement, &verified.claims, evidence.connection.peer_uri_san) {
                            Err(error) => error,
                            Ok(()) => match crate::claims::check_scopes(&verified.scopes, &requirement.scopes) {
                                Ok(()) => {
                                    *decided = Some(index);
                                    return Ok(Some((verified, proof)));
                                }
                                Err(e) => e,
                            },
                        };
                        // A verified token's 403 is the most useful refusal (the first one).
                        if forbidden.is_none() {
                            forbidden = Some((error, verified));
                            forbidden_at = Some(index);
                        }
                        continue;
                    }
                    Err(e) => match issuer_mismatch(&e, &presented.token, provider, policy.max_token_bytes) {
                        Some(mismatch) => {
                            other_issuer.get_or_insert(mismatch);
                            continue;
                        }
                        None => e,
                    },
                },
            };
            first.get_or_insert(error);
        }
        *decided = forbidden_at.or(Some(0));
        match forbidden {
            Some((error, verified)) => Err((error, Some(verified))),
            None => Err((first.or(other_issuer).unwrap_or(Error::RouteDenied), None)),
        }
    }
}

/// Whether `requirement` admits this bot (its verified `claims`): the client certificate's URI
/// SAN among its `peers`, and every claim condition.
fn admits(
    requirement: &crate::policy::Requirement,
    claims: &serde_json::Map<String, serde_json::Value>,
    peer: Option<&str>,
) -> Result<(), Error> {
    if !requirement.peers.is_empty() && !peer.is_some_and(|peer| requirement.peers.iter().any(|p| p == peer)) {
        return Err(Error::PeerDenied);
    }
    match requirement.claims.iter().find(|c| !c.admits(crate::policy::claim_at(claims, &c.claim))) {
        Some(failed) => Err(Error::PrincipalDenied { claim: failed.claim.clone() }),
        None => Ok(()),
    }
}

impl Verifier {
    /// The proof-of-possession checks of a verified token (src/pop.rs), with this verifier's
    /// cache of proof keys and its host crypto.
    fn check_binding(
        &mut self,
        provider: &Provider,
        verified: &VerifiedToken,
        presented: &Presented,
        evidence: &Evidence<'_>,
        now: i64,
    ) -> Result<Option<ProofUse>, Error> {
        let host = self.host.as_deref();
        crate::pop::check_binding(provider, verified, presented, evidence, now, &mut self.proof_keys, host)
    }

    /// Whether `token` names an issuer other than `provider`'s (read once per token string into
    /// `claimed`). A token whose issuer cannot be read is verified, which says why it fails.
    fn names_another_issuer(
        &self,
        claimed: &mut Option<(String, Option<String>)>,
        token: &str,
        provider: &Provider,
    ) -> bool {
        if claimed.as_ref().is_none_or(|(seen, _)| seen != token) {
            *claimed = Some((token.to_owned(), self.claimed_issuer(token)));
        }
        matches!(claimed, Some((_, Some(iss))) if *iss != provider.issuer)
    }
}

/// A token that failed for `provider` over its key or signature because it is another issuer's:
/// said as what it is (`iss`), not as a key error (a partner's token on a corp rule). Only read
/// after such a failure, so a valid token's payload is still read only once its signature verified.
fn issuer_mismatch(error: &Error, token: &str, provider: &Provider, max_token_bytes: usize) -> Option<Error> {
    let about_keys = matches!(
        error,
        Error::NoMatchingKey { .. }
            | Error::MultipleMatchingKeys
            | Error::BadSignature
            | Error::AlgorithmNotAllowed
            | Error::JwksUnavailable
    );
    if !about_keys {
        return None;
    }
    let signed = crate::token::SignedToken::parse(token, max_token_bytes).ok()?;
    let unverified = signed.with_claims().ok()?;
    let iss = unverified.registered.iss.as_deref()?;
    (iss != provider.issuer).then(|| Error::claim_mismatch("iss", crate::claims::quoted(&[&provider.issuer])))
}

/// The method an override header names (upper-cased, as `method-override` does): one token;
/// anything else (a list, a space) is refused.
fn override_method(value: &str) -> Result<&str, Error> {
    let valid = !value.is_empty() && value.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-' || b == b'_');
    if valid { Ok(value) } else { Err(Error::RouteDenied) }
}

/// The header changes of an allowed request: remove every header whose normalized name is a claim
/// header or a token header (a `forward: true` provider's own token header stays, under its exact
/// name), then set the claim headers of the verified token.
/// `normalized` holds each header's name as servers read it, in `headers`' order.
fn header_changes(
    policy: &Policy,
    access: &Access,
    headers: &[(&str, &str)],
    normalized: &[Cow<'_, str>],
) -> (Vec<String>, Vec<(String, String)>) {
    let mut remove: Vec<String> = Vec::new();
    for ((name, _), normalized) in headers.iter().zip(normalized) {
        if remove.iter().any(|r| r == name) || policy.forwarded_headers.iter().any(|f| f == name) {
            continue;
        }
        let normalized = normalized.as_ref();
        if policy.claim_headers.binary_search_by(|h| h.as_str().cmp(normalized)).is_ok()
            || policy.token_headers.binary_search_by(|h| h.as_str().cmp(normalized)).is_ok()
        {
            remove.push((*name).to_owned());
        }
    }
    let mut set = Vec::new();
    if let Access::Granted(token) = access {
        if let Some(provider) = policy.provider(&token.provider) {
            for mapping in &provider.claim_to_headers {
                if let Some(value) = token.claim_header_value(&mapping.claim_name).filter(|v| is_header_value(v)) {
                    set.push((mapping.header_name.clone(), value));
                }
            }
        }
    }
    (remove, set)
}

/// A claim value that can travel in a header unchanged: visible ASCII, space and tab, no
/// leading or trailing whitespace. Anything else is left out (the header stays removed).
fn is_header_value(value: &str) -> bool {
    value.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b)) && value.trim() == value
}

impl crate::policy::Requirement {
    /// [`Verifier::check_requirement`] over a verified token's `claims` and `scopes` (for hosts
    /// that hold the token's JSON, not the token: the npm glue).
    pub fn check(
        &self,
        claims: &serde_json::Map<String, serde_json::Value>,
        scopes: &[String],
        peer_uri_san: Option<&str>,
    ) -> Result<(), Error> {
        admits(self, claims, peer_uri_san)?;
        crate::claims::check_scopes(scopes, &self.scopes)
    }
}
