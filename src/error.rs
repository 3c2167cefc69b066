//! One error type for every way a token, a key set or a policy can be refused.
//!
//! Each variant maps to exactly one stable code ([`Error::code`]); the codes are the contract
//! with the three hosts (JS `err.code`, the CLI's JSON, the filter's body, logs and counters).
//! `Display` is written by hand and never prints a token, a signature or key material: only
//! fixed text, claim names and configuration paths.

use std::fmt;

/// Every stable error code, in the order of docs/policy.md's "Error codes" table.
pub const ALL_CODES: &[&str] = &[
    "ERR_JWT_MISSING",
    "ERR_JWT_INVALID",
    "ERR_JOSE_ALG_NOT_ALLOWED",
    "ERR_JOSE_NOT_SUPPORTED",
    "ERR_JWKS_NO_MATCHING_KEY",
    "ERR_JWKS_MULTIPLE_MATCHING_KEYS",
    "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
    "ERR_JWT_EXPIRED",
    "ERR_JWT_CLAIM_VALIDATION_FAILED",
    "ERR_JWT_LIFETIME_EXCEEDED",
    "ERR_SCOPE_WILDCARD",
    "ERR_SCOPE_INSUFFICIENT",
    "ERR_PRINCIPAL_DENIED",
    "ERR_POP_MISSING",
    "ERR_MTLS_BINDING_MISMATCH",
    "ERR_DPOP_PROOF_INVALID",
    "ERR_DPOP_REPLAYED",
    "ERR_PEER_DENIED",
    "ERR_ROUTE_DENIED",
    "ERR_JWKS_UNAVAILABLE",
    "ERR_REPLAY_STORE_UNAVAILABLE",
    "ERR_HOST_CRYPTO_FAILED",
    "ERR_POLICY_INVALID",
    "ERR_JWKS_INVALID",
];

/// Why a token, a JWKS or a policy was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A rule needs a token and the request carried none.
    Missing,
    /// The token is not a well-formed compact JWS/JWT.
    Malformed(Malformed),
    /// A registered claim has the wrong JSON type (`exp` as a string, `aud` as a number, …).
    ClaimType {
        /// The claim with the wrong type.
        claim: String,
    },
    /// A resource bound was exceeded while reading untrusted input.
    LimitExceeded(Limit),
    /// `alg` is `none`, not allowed for the provider, or disagrees with the key.
    AlgorithmNotAllowed,
    /// The token asks for a JOSE feature edgeward does not process (`crit`, `b64: false`).
    NotSupported(Unsupported),
    /// No key in the provider's JWKS can verify this token.
    NoMatchingKey {
        /// The token's `kid` (printable ASCII only, at most 64 characters), to say which key is missing.
        kid: Option<String>,
    },
    /// More than one key in the provider's JWKS fits this token.
    MultipleMatchingKeys,
    /// The signature does not verify.
    BadSignature,
    /// `now` is at or past `exp + clock_skew_seconds`.
    Expired,
    /// A claim (or the `typ` header) failed validation; the claim's name is given.
    Claim {
        /// The claim (or header parameter) that failed: `iss`, `aud`, `nbf`, `iat`, `typ`, ….
        claim: String,
        /// What was wrong with it.
        reason: ClaimFailure,
        /// What the provider accepts (its issuer, audiences or token types), for the message.
        expected: Option<String>,
    },
    /// `exp - iat` is over `max_lifetime_seconds`, or `exp`/`iat` is missing while it is set.
    LifetimeExceeded {
        /// `exp - iat` in whole seconds (rounded up), or `None` when `exp` or `iat` is missing.
        lifetime: Option<u64>,
        /// The provider's bound.
        max: u64,
        /// Whether the bound is the default one (no `max_lifetime_seconds` in the policy).
        default: bool,
    },
    /// The token carries a wildcard scope and the policy refuses them.
    WildcardScope,
    /// A valid token lacks scopes the route needs; `needed` lists all the route's scopes.
    InsufficientScope {
        /// Every scope the route requires (the `scope` hint of `WWW-Authenticate`).
        needed: Vec<String>,
    },
    /// A valid token whose claims are not those of a bot the rule admits (`requires.claims`).
    PrincipalDenied {
        /// The first claim condition that failed (its name only: the admitted values are never
        /// told to the caller).
        claim: String,
    },
    /// The token must come with a proof of possession and none came: a token bound to a key
    /// (`cnf`) sent as a plain bearer token or without its client certificate, or an unbound token
    /// for a provider whose `proof_of_possession` asks for bound ones.
    PopMissing {
        /// Which case it is.
        reason: PopMissing,
        /// The provider's `dpop_algorithms` when it takes DPoP, space separated (for the
        /// `WWW-Authenticate` challenge); empty when it does not.
        dpop_algs: String,
    },
    /// The token is bound to a client certificate (`cnf["x5t#S256"]`, RFC 8705) other than this
    /// connection's, or (`bind_subject_to_peer`) its `sub` is not the peer's SPIFFE ID.
    MtlsBindingMismatch {
        /// Whether it was the subject (else the certificate) that did not match.
        subject: bool,
    },
    /// The DPoP proof (RFC 9449 §4.3) is missing a part, malformed, or does not match this request
    /// or the token.
    DpopProofInvalid {
        /// What was wrong with it.
        reason: DpopFailure,
        /// The provider's `dpop_algorithms`, space separated (the challenge's `algs`).
        algs: String,
    },
    /// The DPoP proof was used before (its `jti` within its window).
    DpopReplayed {
        /// The provider's `dpop_algorithms`, space separated (the challenge's `algs`).
        algs: String,
    },
    /// The client certificate's URI SAN (SPIFFE ID) is not one of the requirement's `peers`.
    PeerDenied,
    /// The request matched no rule of the policy (deny by default).
    RouteDenied,
    /// The provider has no usable keys yet.
    JwksUnavailable,
    /// The store of used DPoP proofs could not answer (or is full): the request is refused, never
    /// let through with a proof that might be a replay.
    ReplayStoreUnavailable {
        /// What the store said, for logs (never sent to the caller).
        reason: String,
    },
    /// The host's native signature verification (src/host_crypto.rs) could not answer; the
    /// request is refused, never let through.
    HostCrypto {
        /// What the host said, for logs (never sent to the caller).
        reason: String,
    },
    /// A policy document was refused; `path` names the field.
    Policy(ConfigError),
    /// A JWKS document was refused; `path` names the member.
    Jwks(ConfigError),
}

/// How a token is malformed (all map to `ERR_JWT_INVALID`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Malformed {
    /// Not exactly three dot-separated segments (a JWE has five).
    Segments,
    /// A segment is not strict unpadded base64url.
    Base64,
    /// The header or payload is not UTF-8 JSON, has a BOM, or is not an object.
    Json,
    /// A member name appears twice in the header or the payload.
    DuplicateMember,
    /// A header parameter has the wrong JSON type (`alg`, `kid`, `typ`, `crit`, `b64`).
    HeaderType,
}

/// Which bound was exceeded (all map to `ERR_JWT_INVALID` for tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// The token is longer than the configured maximum (checked before decoding).
    TokenBytes,
    /// JSON nesting is deeper than allowed.
    JsonDepth,
    /// The header or payload holds more JSON values than allowed.
    JsonValues,
}

/// Unsupported JOSE features (`ERR_JOSE_NOT_SUPPORTED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unsupported {
    /// `crit` names an extension edgeward does not process, or is empty or not an array.
    Crit,
    /// `b64: false` (RFC 7797 unencoded payloads).
    UnencodedPayload,
}

/// Why a token came without the proof of possession it needs (`ERR_POP_MISSING`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PopMissing {
    /// The token is bound to a DPoP key (`cnf.jkt`) and came as a bearer token, or without a `DPoP` proof.
    NoDpopProof,
    /// The token is bound to a client certificate (`cnf["x5t#S256"]`) and the connection has none.
    NoCertificate,
    /// The provider takes only bound tokens (`proof_of_possession`) and this one has no `cnf`.
    UnboundToken,
    /// `bind_subject_to_peer` and the connection has no client certificate with a URI SAN.
    NoPeer,
    /// The token is bound (`cnf`) in a way edgeward does not check (not `jkt` or `x5t#S256`).
    UnknownBinding,
}

/// What was wrong with a DPoP proof (`ERR_DPOP_PROOF_INVALID`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DpopFailure {
    /// Not exactly one `DPoP` header.
    HeaderCount,
    /// Not a compact JWS, or a part of it has the wrong type.
    Malformed,
    /// `typ` is not `dpop+jwt`.
    Type,
    /// `alg` is not one of the provider's `dpop_algorithms`.
    Algorithm,
    /// `jwk` is missing, private, or not a key for `alg`.
    Key,
    /// The proof's key is not the one the token is bound to (`cnf.jkt`).
    KeyMismatch,
    /// The signature does not verify with the proof's key.
    Signature,
    /// `htm` is missing or not the request's method.
    Method,
    /// `htu` is missing or not the request's URL.
    Url,
    /// `iat` is missing, older than `dpop_max_age_seconds`, or in the future.
    Age,
    /// `jti` is missing or not a string of 1 to 256 bytes.
    Jti,
    /// `ath` is missing or not the hash of the access token.
    TokenHash,
    /// The token came with the `DPoP` scheme but is not bound to a DPoP key (`cnf.jkt`).
    UnboundToken,
}

/// What was wrong with a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClaimFailure {
    /// A required claim is absent.
    Missing,
    /// The value is not one the provider accepts (`iss`, `aud`, `typ`).
    Mismatch,
    /// `nbf` is in the future.
    NotYetValid,
    /// `iat` is in the future.
    IssuedInFuture,
}

/// A refused policy or JWKS document: the path of the offending field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Dotted path, with `[i]` for array elements: `providers.corp-idp.audiences[0]`.
    pub path: String,
    /// What is wrong; never contains key material.
    pub message: String,
    /// For a JSON syntax error: 1-based line and column.
    pub position: Option<(usize, usize)>,
}

impl ConfigError {
    /// A config error at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError { path: path.into(), message: message.into(), position: None }
    }

    /// A JSON syntax error at `line`, `column` of the document.
    pub fn at_position(line: usize, column: usize, message: impl Into<String>) -> Self {
        ConfigError { path: String::new(), message: message.into(), position: Some((line, column)) }
    }
}

impl fmt::Display for ConfigError {
    /// `path: message`, `line:column: message` for a syntax error, `(document): message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, column)) => write!(f, "{line}:{column}: {}", self.message),
            None => write!(f, "{}: {}", display_path(&self.path), self.message),
        }
    }
}

impl Error {
    /// The stable code of this error (one of [`ALL_CODES`]).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Missing => "ERR_JWT_MISSING",
            Error::Malformed(_) | Error::ClaimType { .. } | Error::LimitExceeded(_) => "ERR_JWT_INVALID",
            Error::AlgorithmNotAllowed => "ERR_JOSE_ALG_NOT_ALLOWED",
            Error::NotSupported(_) => "ERR_JOSE_NOT_SUPPORTED",
            Error::NoMatchingKey { .. } => "ERR_JWKS_NO_MATCHING_KEY",
            Error::MultipleMatchingKeys => "ERR_JWKS_MULTIPLE_MATCHING_KEYS",
            Error::BadSignature => "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
            Error::Expired => "ERR_JWT_EXPIRED",
            Error::Claim { .. } => "ERR_JWT_CLAIM_VALIDATION_FAILED",
            Error::LifetimeExceeded { .. } => "ERR_JWT_LIFETIME_EXCEEDED",
            Error::WildcardScope => "ERR_SCOPE_WILDCARD",
            Error::InsufficientScope { .. } => "ERR_SCOPE_INSUFFICIENT",
            Error::PrincipalDenied { .. } => "ERR_PRINCIPAL_DENIED",
            Error::PopMissing { .. } => "ERR_POP_MISSING",
            Error::MtlsBindingMismatch { .. } => "ERR_MTLS_BINDING_MISMATCH",
            Error::DpopProofInvalid { .. } => "ERR_DPOP_PROOF_INVALID",
            Error::DpopReplayed { .. } => "ERR_DPOP_REPLAYED",
            Error::PeerDenied => "ERR_PEER_DENIED",
            Error::RouteDenied => "ERR_ROUTE_DENIED",
            Error::JwksUnavailable => "ERR_JWKS_UNAVAILABLE",
            Error::ReplayStoreUnavailable { .. } => "ERR_REPLAY_STORE_UNAVAILABLE",
            Error::HostCrypto { .. } => "ERR_HOST_CRYPTO_FAILED",
            Error::Policy(_) => "ERR_POLICY_INVALID",
            Error::Jwks(_) => "ERR_JWKS_INVALID",
        }
    }

    /// The claim a claim-validation failure is about (`iss`, `aud`, `exp`, …), if any.
    pub fn claim(&self) -> Option<&str> {
        match self {
            Error::Claim { claim, .. } | Error::ClaimType { claim } | Error::PrincipalDenied { claim } => Some(claim),
            Error::Expired => Some("exp"),
            _ => None,
        }
    }

    /// The path of the refused field, for policy and JWKS errors.
    pub fn path(&self) -> Option<&str> {
        match self {
            Error::Policy(e) | Error::Jwks(e) => Some(&e.path),
            _ => None,
        }
    }

    /// Line and column of a JSON syntax error in a policy or JWKS document.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            Error::Policy(e) | Error::Jwks(e) => e.position,
            _ => None,
        }
    }

    pub(crate) fn claim_error(claim: &str, reason: ClaimFailure) -> Self {
        Error::Claim { claim: claim.to_owned(), reason, expected: None }
    }

    pub(crate) fn claim_mismatch(claim: &str, expected: String) -> Self {
        Error::Claim { claim: claim.to_owned(), reason: ClaimFailure::Mismatch, expected: Some(expected) }
    }

    pub(crate) fn no_matching_key(kid: Option<&str>) -> Self {
        Error::NoMatchingKey { kid: kid.map(printable) }
    }

    pub(crate) fn policy(path: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Policy(ConfigError::new(path, message))
    }

    pub(crate) fn jwks(path: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Jwks(ConfigError::new(path, message))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Missing => f.write_str("no token was sent"),
            Error::Malformed(m) => f.write_str(match m {
                Malformed::Segments => "token is not a compact JWS (three segments)",
                Malformed::Base64 => "token segment is not strict base64url",
                Malformed::Json => "token header or payload is not a UTF-8 JSON object",
                Malformed::DuplicateMember => "token header or payload repeats a member name",
                Malformed::HeaderType => "token header parameter has the wrong type",
            }),
            Error::ClaimType { claim } => write!(f, "\"{claim}\" claim has the wrong type"),
            Error::LimitExceeded(l) => f.write_str(match l {
                Limit::TokenBytes => "token is longer than the maximum size",
                Limit::JsonDepth => "token JSON is nested too deeply",
                Limit::JsonValues => "token JSON holds too many values",
            }),
            Error::AlgorithmNotAllowed => f.write_str("token algorithm is not allowed"),
            Error::NotSupported(u) => f.write_str(match u {
                Unsupported::Crit => "token has a critical header edgeward does not process",
                Unsupported::UnencodedPayload => "unencoded payloads (b64: false) are not supported",
            }),
            Error::NoMatchingKey { kid: None } => f.write_str("no key in the JWKS matches the token (it has no kid)"),
            Error::NoMatchingKey { kid: Some(kid) } => write!(f, "no key in the JWKS has the token's kid \"{kid}\""),
            Error::MultipleMatchingKeys => f.write_str("more than one key in the JWKS matches the token"),
            Error::BadSignature => f.write_str("signature verification failed"),
            Error::Expired => f.write_str("token has expired"),
            Error::Claim { claim, reason, expected } => {
                let why = match reason {
                    ClaimFailure::Missing => "is missing",
                    ClaimFailure::Mismatch => "has an unexpected value",
                    ClaimFailure::NotYetValid => "is in the future (token not yet valid)",
                    ClaimFailure::IssuedInFuture => "is in the future",
                };
                write!(f, "\"{claim}\" claim {why}")?;
                match expected {
                    Some(expected) => write!(f, " (expected {expected})"),
                    None => Ok(()),
                }
            }
            Error::LifetimeExceeded { lifetime, max, default } => {
                match lifetime {
                    Some(lifetime) => write!(f, "token lifetime (exp - iat) of {lifetime} s exceeds {max} s")?,
                    None => write!(f, "token has no iat (or exp), needed to bound its lifetime to {max} s")?,
                }
                if *default {
                    write!(
                        f,
                        ": {max} s is the default max_lifetime_seconds; set the provider's max_lifetime_seconds \
                         to allow longer tokens (null turns the bound off)"
                    )
                } else {
                    f.write_str(" (the provider's max_lifetime_seconds)")
                }
            }
            Error::WildcardScope => f.write_str("token carries a wildcard scope"),
            Error::InsufficientScope { needed } => {
                write!(f, "token lacks a required scope (needs \"{}\")", needed.join(" "))
            }
            Error::PrincipalDenied { claim } => {
                write!(f, "the token's \"{claim}\" claim is not one of the values this rule admits")
            }
            Error::PopMissing { reason, .. } => f.write_str(match reason {
                PopMissing::NoDpopProof => "the token is bound to a DPoP key and came without a DPoP proof",
                PopMissing::NoCertificate => "the token is bound to a client certificate and the connection has none",
                PopMissing::UnboundToken => "the provider takes only tokens bound to a key (proof_of_possession)",
                PopMissing::NoPeer => "the connection has no client certificate with a URI SAN (bind_subject_to_peer)",
                PopMissing::UnknownBinding => "the token is bound (cnf) in a way edgeward does not check",
            }),
            Error::MtlsBindingMismatch { subject: false } => {
                f.write_str("the token is bound to another client certificate than this connection's")
            }
            Error::MtlsBindingMismatch { subject: true } => {
                f.write_str("the token's \"sub\" is not the client certificate's URI SAN (bind_subject_to_peer)")
            }
            Error::DpopProofInvalid { reason, .. } => f.write_str(match reason {
                DpopFailure::HeaderCount => "DPoP proof: expected exactly one DPoP header",
                DpopFailure::Malformed => "DPoP proof: not a well-formed compact JWS",
                DpopFailure::Type => "DPoP proof: typ is not dpop+jwt",
                DpopFailure::Algorithm => "DPoP proof: alg is not one of the provider's dpop_algorithms",
                DpopFailure::Key => "DPoP proof: jwk is missing, not public, or not a key for alg",
                DpopFailure::KeyMismatch => "DPoP proof: its key is not the one the token is bound to (cnf.jkt)",
                DpopFailure::Signature => "DPoP proof: signature verification failed",
                DpopFailure::Method => "DPoP proof: htm is not the request's method",
                DpopFailure::Url => "DPoP proof: htu is not the request's URL",
                DpopFailure::Age => "DPoP proof: iat is missing, too old (dpop_max_age_seconds) or in the future",
                DpopFailure::Jti => "DPoP proof: jti is missing or not a string of 1 to 256 bytes",
                DpopFailure::TokenHash => "DPoP proof: ath is missing or not the access token's hash",
                DpopFailure::UnboundToken => "the token came with the DPoP scheme but is not bound to a DPoP key",
            }),
            Error::DpopReplayed { .. } => f.write_str("DPoP proof: used before (its jti, within its window)"),
            Error::PeerDenied => {
                f.write_str("the client certificate's URI SAN is not one of the peers this rule admits")
            }
            Error::RouteDenied => f.write_str("no rule allows this request"),
            Error::JwksUnavailable => f.write_str("no keys are available for the provider yet"),
            Error::ReplayStoreUnavailable { reason } => {
                write!(f, "the DPoP replay store could not answer: {}", printable(reason))
            }
            Error::HostCrypto { reason } => {
                write!(f, "the host's signature verification failed: {}", printable(reason))
            }
            Error::Policy(e) => write!(f, "invalid policy: {e}"),
            Error::Jwks(e) => write!(f, "invalid JWKS: {e}"),
        }
    }
}

/// Text from a token that may appear in a message: printable ASCII only (anything else as `?`),
/// at most 64 characters (a `kid` chosen by an attacker must not forge log lines).
fn printable(text: &str) -> String {
    const MAX: usize = 64;
    let mut out: String =
        text.chars().take(MAX).map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' }).collect();
    if text.chars().count() > MAX {
        out.push('…');
    }
    out.replace('"', "'")
}

fn display_path(path: &str) -> &str {
    if path.is_empty() { "(document)" } else { path }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_of_each() -> Vec<Error> {
        vec![
            Error::Missing,
            Error::Malformed(Malformed::Base64),
            Error::AlgorithmNotAllowed,
            Error::NotSupported(Unsupported::Crit),
            Error::no_matching_key(Some("k1")),
            Error::MultipleMatchingKeys,
            Error::BadSignature,
            Error::Expired,
            Error::claim_error("aud", ClaimFailure::Mismatch),
            Error::LifetimeExceeded { lifetime: Some(7200), max: 3600, default: true },
            Error::WildcardScope,
            Error::InsufficientScope { needed: vec!["read:orders".into()] },
            Error::PrincipalDenied { claim: "client_id".into() },
            Error::PopMissing { reason: PopMissing::NoDpopProof, dpop_algs: "ES256".into() },
            Error::MtlsBindingMismatch { subject: false },
            Error::DpopProofInvalid { reason: DpopFailure::Url, algs: "ES256".into() },
            Error::DpopReplayed { algs: "ES256".into() },
            Error::PeerDenied,
            Error::RouteDenied,
            Error::JwksUnavailable,
            Error::ReplayStoreUnavailable { reason: "down".into() },
            Error::HostCrypto { reason: "call failed".into() },
            Error::policy("providers.a.issuer", "expected a string"),
            Error::jwks("keys[0].x", "expected 32 bytes"),
        ]
    }

    #[test]
    fn every_code_is_reachable_and_listed_once() {
        let codes: Vec<&str> = one_of_each().iter().map(Error::code).collect();
        assert_eq!(codes, ALL_CODES);
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ALL_CODES.len());
    }

    #[test]
    fn limits_and_malformed_share_the_invalid_code() {
        assert_eq!(Error::LimitExceeded(Limit::JsonDepth).code(), "ERR_JWT_INVALID");
        assert_eq!(Error::ClaimType { claim: "exp".into() }.code(), "ERR_JWT_INVALID");
    }

    #[test]
    fn display_names_paths_and_claims() {
        let e = Error::policy("providers.corp-idp.audiences[0]", "expected a string");
        assert_eq!(e.to_string(), "invalid policy: providers.corp-idp.audiences[0]: expected a string");
        assert_eq!(e.path(), Some("providers.corp-idp.audiences[0]"));
        let e = Error::claim_mismatch("iss", "\"https://idp\"".into());
        assert_eq!(e.claim(), Some("iss"));
        assert_eq!(e.to_string(), "\"iss\" claim has an unexpected value (expected \"https://idp\")");
    }

    #[test]
    fn a_refusal_under_the_default_lifetime_bound_names_the_field() {
        let e = Error::LifetimeExceeded { lifetime: Some(86_400), max: 3600, default: true };
        let text = e.to_string();
        assert!(text.contains("86400 s exceeds 3600 s") && text.contains("max_lifetime_seconds"), "{text}");
        let e = Error::LifetimeExceeded { lifetime: None, max: 600, default: false };
        assert!(e.to_string().contains("no iat"));
    }

    #[test]
    fn a_kid_in_a_message_cannot_forge_lines() {
        let e = Error::no_matching_key(Some("k2\r\nadmin: yes\"x"));
        assert_eq!(e.to_string(), "no key in the JWKS has the token's kid \"k2??admin: yes'x\"");
        let long = "a".repeat(100);
        assert!(Error::no_matching_key(Some(&long)).to_string().contains(&format!("{}…", "a".repeat(64))));
    }
}
