//! A refusal as Envoy's local reply: status, headers and body, all from the core's one mapping
//! ([`edgeward::Error::denial`]). What a request is allowed and how its headers change is the
//! core's [`edgeward::Verifier::decide`].

use edgeward::Error;

/// The local answer to a refused request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// HTTP status.
    pub status: u32,
    /// Response headers (`content-type`, `cache-control`, `www-authenticate`, `retry-after`).
    pub headers: Vec<(&'static str, String)>,
    /// `{"error":"…","code":"…"}`.
    pub body: String,
}

/// The local response for a refusal.
pub fn response(error: &Error) -> Response {
    let denial = error.denial();
    Response { status: u32::from(denial.status), headers: denial.headers(), body: denial.body() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_map_through_the_core() {
        let r = response(&Error::Missing);
        assert_eq!(r.status, 401);
        assert!(r.headers.contains(&("www-authenticate", r#"Bearer realm="edgeward""#.to_owned())));
        assert_eq!(r.body, r#"{"error":"unauthorized","code":"ERR_JWT_MISSING"}"#);

        let r = response(&Error::RouteDenied);
        assert_eq!((r.status, r.headers.iter().any(|(n, _)| *n == "www-authenticate")), (403, false));

        let r = response(&Error::JwksUnavailable);
        assert_eq!(r.status, 503);
        assert!(r.headers.contains(&("retry-after", edgeward::RETRY_AFTER_SECONDS.to_string())));
    }
}
