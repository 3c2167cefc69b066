//! The one place where an [`Error`] becomes an HTTP answer (docs/policy.md, "Error codes"), shared by the
//! Envoy filter and the Node middleware. Nothing from the token is ever echoed: the body holds a
//! fixed error word and the stable code; only a caller whose token verified gets a scope hint.

use crate::error::Error;

/// The realm named in every `WWW-Authenticate` challenge.
pub const REALM: &str = "edgeward";

/// An HTTP refusal: status, headers and a small JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// HTTP status (401, 403, 503, or 500 for a configuration error).
    pub status: u16,
    /// `WWW-Authenticate` value, where the status calls for one.
    pub www_authenticate: Option<String>,
    /// `Retry-After` in seconds, for 503.
    pub retry_after: Option<u32>,
    /// The error word of the body (`invalid_token`, `insufficient_scope`, …).
    pub error: &'static str,
    /// The stable code.
    pub code: &'static str,
}

impl Denial {
    /// The JSON body: `{"error":"…","code":"…"}`.
    pub fn body(&self) -> String {
        // Both fields are fixed ASCII identifiers: no escaping is needed.
        format!(r#"{{"error":"{}","code":"{}"}}"#, self.error, self.code)
    }

    /// Every response header of the refusal, lowercase names: `content-type`, `cache-control`,
    /// and `www-authenticate` / `retry-after` where the status calls for them.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers =
            vec![("content-type", "application/json".to_owned()), ("cache-control", "no-store".to_owned())];
        if let Some(challenge) = &self.www_authenticate {
            headers.push(("www-authenticate", challenge.clone()));
        }
        if let Some(seconds) = self.retry_after {
            headers.push(("retry-after", seconds.to_string()));
        }
        headers
    }
}

/// Seconds a client is asked to wait after `ERR_JWKS_UNAVAILABLE`.
pub const RETRY_AFTER_SECONDS: u32 = 5;

impl Error {
    /// How this error is answered over HTTP.
    pub fn denial(&self) -> Denial {
        let challenge = |error: &str| Some(format!(r#"Bearer realm="{REALM}", error="{error}""#));
        let (status, www_authenticate, retry_after, error) = match self {
            Error::Missing => (401, Some(format!(r#"Bearer realm="{REALM}""#)), None, "unauthorized"),
            Error::InsufficientScope { needed } => (
                403,
                Some(format!(r#"Bearer realm="{REALM}", error="insufficient_scope", scope="{}""#, needed.join(" "))),
                None,
                "insufficient_scope",
            ),
            Error::RouteDenied | Error::PrincipalDenied { .. } | Error::PeerDenied => (403, None, None, "forbidden"),
            Error::JwksUnavailable | Error::ReplayStoreUnavailable { .. } => {
                (503, None, Some(RETRY_AFTER_SECONDS), "temporarily_unavailable")
            }
            // RFC 9449 §7.1: a DPoP challenge naming the algorithms a proof may use.
            Error::DpopProofInvalid { algs, .. } | Error::DpopReplayed { algs } => (
                401,
                Some(format!(r#"DPoP realm="{REALM}", error="invalid_dpop_proof", algs="{algs}""#)),
                None,
                "invalid_dpop_proof",
            ),
            Error::PopMissing { dpop_algs, .. } if !dpop_algs.is_empty() => (
                401,
                Some(format!(r#"DPoP realm="{REALM}", error="invalid_token", algs="{dpop_algs}""#)),
                None,
                "invalid_token",
            ),
            Error::Policy(_) | Error::Jwks(_) | Error::HostCrypto { .. } => (500, None, None, "server_error"),
            _ => (401, challenge("invalid_token"), None, "invalid_token"),
        };
        Denial { status, www_authenticate, retry_after, error, code: self.code() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ALL_CODES;

    #[test]
    fn the_table_of_design_md() {
        let d = Error::Missing.denial();
        assert_eq!((d.status, d.www_authenticate.as_deref()), (401, Some(r#"Bearer realm="edgeward""#)));
        let d = Error::Expired.denial();
        assert_eq!(
            (d.status, d.www_authenticate.as_deref()),
            (401, Some(r#"Bearer realm="edgeward", error="invalid_token""#))
        );
        assert_eq!(d.body(), r#"{"error":"invalid_token","code":"ERR_JWT_EXPIRED"}"#);
        let d = Error::InsufficientScope { needed: vec!["read:orders".into(), "b".into()] }.denial();
        assert_eq!(
            (d.status, d.www_authenticate.as_deref()),
            (403, Some(r#"Bearer realm="edgeward", error="insufficient_scope", scope="read:orders b""#))
        );
        let d = Error::RouteDenied.denial();
        assert_eq!((d.status, d.www_authenticate), (403, None));
        let d = Error::JwksUnavailable.denial();
        assert_eq!((d.status, d.retry_after), (503, Some(RETRY_AFTER_SECONDS)));
    }

    #[test]
    fn every_token_failure_is_an_invalid_token_401() {
        let token_codes = &ALL_CODES[1..11];
        assert!(token_codes.iter().all(|c| c.starts_with("ERR_J") || c.starts_with("ERR_SCOPE_WILDCARD")));
        for e in [
            Error::BadSignature,
            Error::AlgorithmNotAllowed,
            Error::WildcardScope,
            Error::no_matching_key(None),
            Error::LifetimeExceeded { lifetime: None, max: 60, default: false },
        ] {
            let d = e.denial();
            assert_eq!(d.status, 401, "{}", e.code());
            assert_eq!(d.error, "invalid_token");
        }
    }
}
