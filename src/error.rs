//! One error type for every way a token, a key set or a policy can be refused.
//!
//! Each variant maps to exactly one stable code ([`Error::code`]); the codes are the contract
//! with the three hosts (JS `err.code`, the CLI's JSON, the filter's body, logs and counters).
//! `Display` is written by hand and never prints a token, a signature or key material: only
//! fixed text, claim names and configuration paths.

use std::fmt;

/// Every stable error code, in the order of DESIGN.md's table.
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
    "ERR_ROUTE_DENIED",
    "ERR_JWKS_UNAVAILABLE",
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
    NoMatchingKey,
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
    },
    /// `exp - iat` is over `max_lifetime_seconds`, or `exp`/`iat` is missing while it is set.
    LifetimeExceeded,
    /// The token carries a wildcard scope and the policy refuses them.
    WildcardScope,
    /// A valid token lacks scopes the route needs; `needed` lists all the route's scopes.
    InsufficientScope {
        /// Every scope the route requires (the `scope` hint of `WWW-Authenticate`).
        needed: Vec<String>,
    },
    /// The request matched no rule of the policy (deny by default).
    RouteDenied,
    /// The provider has no usable keys yet.
    JwksUnavailable,
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
}

impl ConfigError {
    /// A config error at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError { path: path.into(), message: message.into() }
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
            Error::NoMatchingKey => "ERR_JWKS_NO_MATCHING_KEY",
            Error::MultipleMatchingKeys => "ERR_JWKS_MULTIPLE_MATCHING_KEYS",
            Error::BadSignature => "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
            Error::Expired => "ERR_JWT_EXPIRED",
            Error::Claim { .. } => "ERR_JWT_CLAIM_VALIDATION_FAILED",
            Error::LifetimeExceeded => "ERR_JWT_LIFETIME_EXCEEDED",
            Error::WildcardScope => "ERR_SCOPE_WILDCARD",
            Error::InsufficientScope { .. } => "ERR_SCOPE_INSUFFICIENT",
            Error::RouteDenied => "ERR_ROUTE_DENIED",
            Error::JwksUnavailable => "ERR_JWKS_UNAVAILABLE",
            Error::Policy(_) => "ERR_POLICY_INVALID",
            Error::Jwks(_) => "ERR_JWKS_INVALID",
        }
    }

    /// The claim a claim-validation failure is about (`iss`, `aud`, `exp`, …), if any.
    pub fn claim(&self) -> Option<&str> {
        match self {
            Error::Claim { claim, .. } | Error::ClaimType { claim } => Some(claim),
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

    pub(crate) fn claim_error(claim: &str, reason: ClaimFailure) -> Self {
        Error::Claim { claim: claim.to_owned(), reason }
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
            }),
            Error::AlgorithmNotAllowed => f.write_str("token algorithm is not allowed"),
            Error::NotSupported(u) => f.write_str(match u {
                Unsupported::Crit => "token has a critical header edgeward does not process",
                Unsupported::UnencodedPayload => "unencoded payloads (b64: false) are not supported",
            }),
            Error::NoMatchingKey => f.write_str("no key in the JWKS matches the token"),
            Error::MultipleMatchingKeys => f.write_str("more than one key in the JWKS matches the token"),
            Error::BadSignature => f.write_str("signature verification failed"),
            Error::Expired => f.write_str("token has expired"),
            Error::Claim { claim, reason } => {
                let why = match reason {
                    ClaimFailure::Missing => "is missing",
                    ClaimFailure::Mismatch => "has an unexpected value",
                    ClaimFailure::NotYetValid => "is in the future (token not yet valid)",
                    ClaimFailure::IssuedInFuture => "is in the future",
                };
                write!(f, "\"{claim}\" claim {why}")
            }
            Error::LifetimeExceeded => f.write_str("token lifetime exceeds the maximum (or exp/iat is missing)"),
            Error::WildcardScope => f.write_str("token carries a wildcard scope"),
            Error::InsufficientScope { needed } => {
                write!(f, "token lacks a required scope (needs \"{}\")", needed.join(" "))
            }
            Error::RouteDenied => f.write_str("no rule allows this request"),
            Error::JwksUnavailable => f.write_str("no keys are available for the provider yet"),
            Error::Policy(e) => write!(f, "invalid policy: {}: {}", display_path(&e.path), e.message),
            Error::Jwks(e) => write!(f, "invalid JWKS: {}: {}", display_path(&e.path), e.message),
        }
    }
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
            Error::NoMatchingKey,
            Error::MultipleMatchingKeys,
            Error::BadSignature,
            Error::Expired,
            Error::claim_error("aud", ClaimFailure::Mismatch),
            Error::LifetimeExceeded,
            Error::WildcardScope,
            Error::InsufficientScope { needed: vec!["read:orders".into()] },
            Error::RouteDenied,
            Error::JwksUnavailable,
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
        let e = Error::claim_error("iss", ClaimFailure::Mismatch);
        assert_eq!(e.claim(), Some("iss"));
        assert!(e.to_string().contains("\"iss\""));
    }
}
