//! One request's decision, without host calls: the core's [`Verifier::authorize`] result turned
//! into header mutations (accept) or a local response (refuse, via [`Error::denial`]).

use edgeward::{Access, Error, Verifier};

/// What to do with the request headers of an accepted request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mutations {
    /// Headers to remove: the token's header unless the provider has `forward: true`, and every
    /// claim header the client sent that is not set below (a client never chooses its own `x-bot-id`).
    pub remove: Vec<String>,
    /// Headers to set (replacing any value the client sent) from the verified claims.
    pub set: Vec<(String, String)>,
}

/// The local answer to a refused request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// HTTP status.
    pub status: u32,
    /// Response headers (`www-authenticate`, `retry-after`, `content-type`, `cache-control`).
    pub headers: Vec<(&'static str, String)>,
    /// `{"error":"…","code":"…"}`.
    pub body: String,
}

/// Whether the verified-token cache answered (from the core's [`Verifier::cache_stats`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheUse {
    /// No token was looked up (public route, no token, unmatched route).
    None,
    /// The token was found in the cache.
    Hit,
    /// The token had to be parsed and verified.
    Miss,
}

/// Decides one request. `header` looks a request header up by its lowercase name;
/// `claim_headers` are all headers any provider fills from claims.
pub fn decide(
    verifier: &mut Verifier,
    claim_headers: &[String],
    method: &str,
    path: &str,
    header: &mut dyn FnMut(&str) -> Option<String>,
    now: i64,
) -> (Result<Mutations, Error>, CacheUse) {
    let before = verifier.cache_stats();
    let result = verifier.authorize(method, path, &mut *header, now);
    let after = verifier.cache_stats();
    let cache = if after.hits > before.hits {
        CacheUse::Hit
    } else if after.misses > before.misses {
        CacheUse::Miss
    } else {
        CacheUse::None
    };
    let mutations = result.map(|access| {
        let mut mutations = Mutations::default();
        if let Access::Granted(token) = access {
            if let Some(provider) = verifier.policy().provider(&token.provider) {
                for mapping in &provider.claim_to_headers {
                    if let Some(value) = token.claim_header_value(&mapping.claim_name).filter(|v| is_header_value(v)) {
                        mutations.set.push((mapping.header_name.clone(), value));
                    }
                }
                if !provider.forward {
                    // The header that actually carried the token: the first source that yields one.
                    let source = provider.from_headers.iter().find(|source| {
                        provider.extract_token(|name| if name == source.name { header(name) } else { None }).is_some()
                    });
                    mutations.remove.extend(source.map(|s| s.name.clone()));
                }
            }
        }
        // Claim headers the client sent and that are not set (replaced) from a claim go.
        for name in claim_headers {
            if !mutations.set.iter().any(|(set, _)| set == name) && header(name).is_some() {
                mutations.remove.push(name.clone());
            }
        }
        mutations
    });
    (mutations, cache)
}

/// A claim value that can travel in a header unchanged: visible ASCII, space and tab, no
/// leading or trailing whitespace. Anything else is left out (the header stays removed).
fn is_header_value(value: &str) -> bool {
    value.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b)) && value.trim() == value
}

/// The local response for a refusal: status, `WWW-Authenticate`, `Retry-After` and the JSON body,
/// all from the core's single mapping.
pub fn response(error: &Error) -> Response {
    let denial = error.denial();
    let mut headers = vec![("content-type", "application/json".to_owned()), ("cache-control", "no-store".to_owned())];
    if let Some(challenge) = denial.www_authenticate.clone() {
        headers.push(("www-authenticate", challenge));
    }
    if let Some(seconds) = denial.retry_after {
        headers.push(("retry-after", seconds.to_string()));
    }
    Response { status: u32::from(denial.status), headers, body: denial.body() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgeward::issuer;

    // Times far in the future, as Envoy's jwt_authn tests do.
    const NOW: i64 = 2_000_000_000;

    struct Fixture {
        verifier: Verifier,
        claim_headers: Vec<String>,
        signer: issuer::PrivateJwk,
    }

    fn fixture(provider_extra: &str) -> Fixture {
        let signer = issuer::PrivateJwk::generate(edgeward::Algorithm::ES256, Some("k1")).unwrap();
        let policy = format!(
            r#"{{"providers":{{"idp":{{"issuer":"https://idp","audiences":["api"],"local_jwks":{},{provider_extra}
                "claim_to_headers":[{{"claim_name":"sub","header_name":"x-bot-id"}},{{"claim_name":"n","header_name":"x-n"}}]}}}},
                "rules":[{{"match":{{"prefix":"/healthz"}}}},
                         {{"match":{{"prefix":"/orders","methods":["GET"]}},"requires":{{"provider_name":"idp","scopes":["read"]}}}}]}}"#,
            issuer::jwks(&[&signer])
        );
        let config = crate::config::FilterConfig::from_bytes(policy.as_bytes()).unwrap();
        Fixture { verifier: Verifier::new(config.policy.clone()), claim_headers: config.claim_headers, signer }
    }

    fn token(f: &Fixture, claims: &str) -> String {
        let claims = format!(r#"{{"iss":"https://idp","aud":"api","exp":{},{claims}}}"#, NOW + 600);
        let claims: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&claims).unwrap();
        let header = serde_json::json!({"alg": "ES256", "kid": "k1"});
        issuer::sign_token(&f.signer, header.as_object().unwrap(), &claims)
    }

    fn run(f: &mut Fixture, path: &str, headers: &[(&str, String)]) -> (Result<Mutations, Error>, CacheUse) {
        let mut lookup = |name: &str| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
        decide(&mut f.verifier, &f.claim_headers, "GET", path, &mut lookup, NOW)
    }

    #[test]
    fn accepted_requests_lose_spoofable_headers_and_get_claims() {
        let mut f = fixture("");
        let t = token(&f, r#""sub":"bot-7","n":42,"scope":"read""#);
        let (result, cache) = run(&mut f, "/orders/1?x=y", &[("authorization", format!("bearer {t}"))]);
        let m = result.unwrap();
        assert_eq!(m.remove, vec!["authorization"]);
        assert_eq!(m.set, vec![("x-bot-id".to_owned(), "bot-7".to_owned()), ("x-n".to_owned(), "42".to_owned())]);
        assert_eq!(cache, CacheUse::Miss);
        let (_, cache) = run(&mut f, "/orders/2", &[("authorization", format!("Bearer {t}"))]);
        assert_eq!(cache, CacheUse::Hit);
    }

    #[test]
    fn a_spoofed_claim_header_is_replaced_or_removed() {
        let mut f = fixture("");
        let t = token(&f, r#""sub":"bot-7","scope":"read""#);
        let spoofed = [("authorization", format!("Bearer {t}")), ("x-bot-id", "admin".into()), ("x-n", "1".into())];
        let m = run(&mut f, "/orders", &spoofed).0.unwrap();
        assert_eq!(m.set, vec![("x-bot-id".to_owned(), "bot-7".to_owned())], "replaces the client's value");
        assert_eq!(m.remove, vec!["authorization", "x-n"], "no claim n: the client's x-n goes");
    }

    #[test]
    fn forward_keeps_the_token_header_and_bad_claim_values_are_left_out() {
        let mut f = fixture(r#""forward":true,"#);
        let t = token(&f, "\"sub\":\"a\\r\\nx-admin: 1\",\"scope\":\"read\"");
        let m =
            run(&mut f, "/orders", &[("authorization", format!("Bearer {t}")), ("x-bot-id", "me".into())]).0.unwrap();
        assert_eq!(m.remove, vec!["x-bot-id"]);
        assert!(m.set.is_empty());
    }

    #[test]
    fn public_routes_still_drop_claim_headers() {
        let mut f = fixture("");
        let (result, cache) = run(&mut f, "/healthz", &[("x-n", "7".into())]);
        assert_eq!(result.unwrap(), Mutations { remove: vec!["x-n".into()], set: vec![] });
        assert_eq!(cache, CacheUse::None);
    }

    #[test]
    fn refusals_map_through_the_core() {
        let mut f = fixture("");
        let err = run(&mut f, "/orders", &[]).0.unwrap_err();
        let r = response(&err);
        assert_eq!(r.status, 401);
        assert!(r.headers.contains(&("www-authenticate", r#"Bearer realm="edgeward""#.to_owned())));
        assert_eq!(r.body, r#"{"error":"unauthorized","code":"ERR_JWT_MISSING"}"#);

        let t = token(&f, r#""sub":"a","scope":"write""#);
        let err = run(&mut f, "/orders", &[("authorization", format!("Bearer {t}"))]).0.unwrap_err();
        let r = response(&err);
        assert_eq!(r.status, 403);
        assert!(r.headers.iter().any(|(n, v)| *n == "www-authenticate" && v.contains(r#"scope="read""#)));
        assert!(!r.body.contains(&t));

        let err = run(&mut f, "/elsewhere", &[]).0.unwrap_err();
        let r = response(&err);
        assert_eq!((r.status, r.headers.iter().any(|(n, _)| *n == "www-authenticate")), (403, false));

        let r = response(&Error::JwksUnavailable);
        assert_eq!(r.status, 503);
        assert!(r.headers.contains(&("retry-after", edgeward::RETRY_AFTER_SECONDS.to_string())));
    }
}
