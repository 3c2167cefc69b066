//! OpenID Connect Discovery / RFC 8414 metadata, read as strictly as a JWKS: what a host that
//! fetched `<issuer>/.well-known/openid-configuration` for a `remote_jwks` with `discovery: true`
//! may take from it. No I/O: the host fetches both documents, the core decides.
//!
//! The document must be a JSON object (no member twice, bounded size and depth) whose `issuer` is
//! exactly the provider's `issuer` (OIDC Discovery §4.3, RFC 8414 §3.3: a document that names
//! another issuer is refused, so a compromised or confused endpoint cannot point one provider's
//! keys at another's), with a `jwks_uri` that is an absolute `https://` URI (`http://` only for an
//! `http://` issuer). Every other member is ignored.

use crate::error::Error;
use crate::json;
use crate::policy::{FetchTarget, RemoteJwks, split_uri};
use serde_json::Value;

/// Largest discovery document accepted, in bytes (as a JWKS: [`crate::MAX_JWKS_BYTES`]).
pub const MAX_DISCOVERY_BYTES: usize = 256 * 1024;
const MAX_DISCOVERY_DEPTH: usize = 16;

/// The path a discovery document is published under, appended to the issuer (OIDC Discovery §4).
pub const WELL_KNOWN_OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";

/// What a discovery document tells a host: where the keys are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    /// The `jwks_uri` (absolute, `http(s)://`).
    pub jwks_uri: String,
}

/// The discovery document URI of `issuer`: the issuer without a terminating `/`, then
/// `/.well-known/openid-configuration` (an issuer with a path keeps it in front).
pub fn discovery_uri(issuer: &str) -> String {
    format!("{}{WELL_KNOWN_OPENID_CONFIGURATION}", issuer.strip_suffix('/').unwrap_or(issuer))
}

fn refuse<T>(path: &str, message: impl Into<String>) -> Result<T, Error> {
    Err(Error::jwks(path, message))
}

impl Discovery {
    /// Reads a discovery document of the provider whose `issuer` is `expected_issuer`. Refusals
    /// are `ERR_JWKS_INVALID` with the member at fault (`issuer`, `jwks_uri`); they name the
    /// expected issuer, never what the document says.
    pub fn from_bytes(bytes: &[u8], expected_issuer: &str) -> Result<Discovery, Error> {
        if bytes.len() > MAX_DISCOVERY_BYTES {
            return refuse("", format!("discovery document is larger than {MAX_DISCOVERY_BYTES} bytes"));
        }
        let value = json::parse(bytes, MAX_DISCOVERY_DEPTH).map_err(|e| e.into_error(Error::Jwks))?;
        let Value::Object(document) = value else {
            return refuse("", "a discovery document must be a JSON object");
        };
        match document.get("issuer") {
            Some(Value::String(issuer)) if issuer == expected_issuer => {}
            Some(Value::String(_)) => {
                return refuse("issuer", format!("the discovery document must name the issuer \"{expected_issuer}\""));
            }
            Some(_) => return refuse("issuer", "expected a string"),
            None => return refuse("issuer", "missing (the discovery document must name the provider's issuer)"),
        }
        let jwks_uri = match document.get("jwks_uri") {
            Some(Value::String(uri)) => uri,
            Some(_) => return refuse("jwks_uri", "expected a string"),
            None => return refuse("jwks_uri", "missing"),
        };
        if split_uri(jwks_uri).is_none() {
            return refuse("jwks_uri", "expected an absolute http:// or https:// URI");
        }
        if expected_issuer.starts_with("https://") && !jwks_uri.starts_with("https://") {
            return refuse("jwks_uri", "an https:// issuer's keys must be at an https:// URI");
        }
        Ok(Discovery { jwks_uri: jwks_uri.clone() })
    }

    /// Where the Envoy filter fetches `jwks_uri` for `remote` (the `remote_jwks` whose `uri` gave
    /// this document): through `jwks_cluster` when it has one, else through `cluster`, which
    /// serves the discovery URI's authority only: a `jwks_uri` on another host (or port) is
    /// refused, since the cluster would send the request to the wrong server.
    pub fn fetch_target(&self, remote: &RemoteJwks, provider: &str) -> Result<FetchTarget, Error> {
        let discovery = remote.fetch_target(provider)?;
        let Some((authority, path)) = split_uri(&self.jwks_uri) else {
            return refuse("jwks_uri", "expected an absolute http:// or https:// URI");
        };
        match remote.jwks_cluster.as_deref() {
            Some(cluster) if !cluster.is_empty() => Ok(FetchTarget { cluster: cluster.to_owned(), authority, path }),
            _ if authority.eq_ignore_ascii_case(&discovery.authority) => {
                Ok(FetchTarget { cluster: discovery.cluster, authority, path })
            }
            _ => refuse(
                "jwks_uri",
                format!(
                    "on another host than the discovery document ({}): set remote_jwks.jwks_cluster to a cluster that \
                     reaches it",
                    discovery.authority
                ),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://idp.example.com";

    fn doc(issuer: &str, jwks_uri: &str) -> Vec<u8> {
        serde_json::json!({ "issuer": issuer, "jwks_uri": jwks_uri, "token_endpoint": "https://idp.example.com/token" })
            .to_string()
            .into_bytes()
    }

    fn refused_at(bytes: &[u8], issuer: &str) -> String {
        let error = Discovery::from_bytes(bytes, issuer).unwrap_err();
        assert_eq!(error.code(), "ERR_JWKS_INVALID");
        error.path().unwrap_or_default().to_owned()
    }

    fn remote(json: Value) -> RemoteJwks {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn the_well_known_uri_follows_the_issuer() {
        assert_eq!(
            discovery_uri("https://idp.example.com"),
            "https://idp.example.com/.well-known/openid-configuration"
        );
        assert_eq!(
            discovery_uri("https://idp.example.com/"),
            "https://idp.example.com/.well-known/openid-configuration"
        );
        assert_eq!(
            discovery_uri("https://idp.example.com/tenant/"),
            "https://idp.example.com/tenant/.well-known/openid-configuration"
        );
    }

    #[test]
    fn a_good_document_gives_its_jwks_uri() {
        let found = Discovery::from_bytes(&doc(ISSUER, "https://keys.example.com/jwks"), ISSUER).unwrap();
        assert_eq!(found.jwks_uri, "https://keys.example.com/jwks");
        let http = Discovery::from_bytes(&doc("http://127.0.0.1:9", "http://127.0.0.1:9/jwks"), "http://127.0.0.1:9");
        assert_eq!(http.unwrap().jwks_uri, "http://127.0.0.1:9/jwks");
    }

    #[test]
    fn the_issuer_must_be_the_providers_exactly() {
        let error =
            Discovery::from_bytes(&doc("https://evil.example", "https://idp.example.com/j"), ISSUER).unwrap_err();
        assert_eq!(error.path(), Some("issuer"));
        assert!(error.to_string().contains(ISSUER), "{error}");
        assert!(!error.to_string().contains("evil"), "never echoes the document: {error}");
        assert_eq!(refused_at(&doc("https://idp.example.com/", "https://idp.example.com/j"), ISSUER), "issuer");
        assert_eq!(refused_at(&doc("HTTPS://IDP.EXAMPLE.COM", "https://idp.example.com/j"), ISSUER), "issuer");
        assert_eq!(refused_at(br#"{"jwks_uri":"https://idp.example.com/j"}"#, ISSUER), "issuer");
        assert_eq!(refused_at(br#"{"issuer":1,"jwks_uri":"https://idp.example.com/j"}"#, ISSUER), "issuer");
    }

    #[test]
    fn the_jwks_uri_must_be_absolute_and_not_a_downgrade() {
        assert_eq!(refused_at(br#"{"issuer":"https://idp.example.com"}"#, ISSUER), "jwks_uri");
        assert_eq!(refused_at(br#"{"issuer":"https://idp.example.com","jwks_uri":7}"#, ISSUER), "jwks_uri");
        assert_eq!(refused_at(&doc(ISSUER, "/jwks"), ISSUER), "jwks_uri");
        assert_eq!(refused_at(&doc(ISSUER, "https://user@idp.example.com/jwks"), ISSUER), "jwks_uri");
        assert_eq!(refused_at(&doc(ISSUER, "http://idp.example.com/jwks"), ISSUER), "jwks_uri");
    }

    #[test]
    fn garbage_duplicates_and_oversize_are_refused() {
        assert_eq!(refused_at(b"<html>", ISSUER), "");
        assert_eq!(refused_at(b"[]", ISSUER), "");
        let twice = br#"{"issuer":"https://idp.example.com","issuer":"https://idp.example.com","jwks_uri":"https://idp.example.com/j"}"#;
        assert_eq!(refused_at(twice, ISSUER), "");
        let mut big = doc(ISSUER, "https://idp.example.com/j");
        big.resize(MAX_DISCOVERY_BYTES + 1, b' ');
        assert_eq!(refused_at(&big, ISSUER), "");
    }

    fn load(issuer: &str, remote: Value) -> Result<crate::Policy, Error> {
        let policy = serde_json::json!({
            "providers": { "idp": { "issuer": issuer, "audiences": ["api"], "remote_jwks": remote } },
        });
        crate::Policy::from_json(&policy.to_string())
    }

    #[test]
    fn a_policy_with_discovery_defaults_its_uri_to_the_well_known_one() {
        let policy = load("https://idp.example.com/", serde_json::json!({ "discovery": true })).unwrap();
        let remote = policy.providers[0].remote_jwks.as_ref().unwrap();
        assert!(remote.discovery);
        assert_eq!(remote.uri, "https://idp.example.com/.well-known/openid-configuration");
        let given =
            serde_json::json!({ "discovery": true, "uri": "https://meta.example.com/oidc", "jwks_cluster": "k" });
        let policy = load(ISSUER, given).unwrap();
        assert_eq!(policy.providers[0].remote_jwks.as_ref().unwrap().uri, "https://meta.example.com/oidc");
    }

    #[test]
    fn a_policy_with_discovery_needs_an_absolute_uri_and_without_it_a_uri() {
        let path =
            |issuer: &str, remote: Value| load(issuer, remote).unwrap_err().path().unwrap_or_default().to_owned();
        let at = "providers.idp.remote_jwks.uri";
        assert_eq!(path("urn:idp", serde_json::json!({ "discovery": true })), at);
        assert_eq!(path(ISSUER, serde_json::json!({ "discovery": true, "uri": "/oidc" })), at);
        assert_eq!(path(ISSUER, serde_json::json!({})), at);
        assert_eq!(path(ISSUER, serde_json::json!({ "uri": "" })), at);
        let jwks_cluster = "providers.idp.remote_jwks.jwks_cluster";
        assert_eq!(
            path(ISSUER, serde_json::json!({ "uri": "https://idp.example.com/j", "jwks_cluster": "k" })),
            jwks_cluster
        );
        assert_eq!(path(ISSUER, serde_json::json!({ "discovery": true, "jwks_cluster": "" })), jwks_cluster);
        assert_eq!(path(ISSUER, serde_json::json!({ "discovery": "yes" })), "providers.idp.remote_jwks.discovery");
        assert!(load(ISSUER, serde_json::json!({ "uri": "relative/jwks" })).is_ok(), "without discovery, as before");
    }

    #[test]
    fn the_filter_fetches_keys_through_the_cluster_only_on_its_own_host() {
        let uri = "https://idp.example.com/.well-known/openid-configuration";
        let same = Discovery { jwks_uri: "https://IDP.example.com/keys?v=2".into() };
        let other = Discovery { jwks_uri: "https://keys.example.net/jwks".into() };
        let plain = remote(serde_json::json!({ "discovery": true, "cluster": "idp", "uri": uri }));
        let target = same.fetch_target(&plain, "p").unwrap();
        assert_eq!((target.cluster.as_str(), target.path.as_str()), ("idp", "/keys?v=2"));
        let error = other.fetch_target(&plain, "p").unwrap_err();
        assert_eq!(error.path(), Some("jwks_uri"));
        assert!(error.to_string().contains("jwks_cluster"), "{error}");
        let split =
            remote(serde_json::json!({ "discovery": true, "cluster": "idp", "jwks_cluster": "keys", "uri": uri }));
        let target = other.fetch_target(&split, "p").unwrap();
        assert_eq!(
            (target.cluster.as_str(), target.authority.as_str(), target.path.as_str()),
            ("keys", "keys.example.net", "/jwks")
        );
    }
}
