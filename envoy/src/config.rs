//! The plugin configuration: the policy JSON (docs/policy.md), plus what only the filter needs.
//!
//! The core validates the policy, including the filter's own requirements for a `remote_jwks`
//! (a `cluster`, an absolute `uri`: [`edgeward::RemoteJwks::fetch_target`], which `edgeward check`
//! applies too); this module derives one [`JwksSource`] per remote provider. Everything here runs
//! natively in tests.

use edgeward::{ConfigError, Error, Policy};

/// A provider whose keys the host fetches (`remote_jwks`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksSource {
    /// The provider's name.
    pub provider: String,
    /// The Envoy cluster the fetch goes through.
    pub cluster: String,
    /// `:authority` of the fetch (the host of `uri`).
    pub authority: String,
    /// `:path` of the fetch (path and query of `uri`).
    pub path: String,
    /// How long fetched keys are used before the next scheduled fetch.
    pub cache_duration_ms: u64,
    /// Timeout of one fetch.
    pub timeout_ms: u64,
    /// Least time between two early fetches triggered by an unknown `kid`.
    pub cooldown_ms: u64,
    /// Shared-data key prefix: one fetch serves every worker (and every plugin with the same source).
    pub shared_key: String,
    /// With `remote_jwks.discovery`: `authority` and `path` are the discovery document's; its
    /// `jwks_uri` is fetched next, through [`edgeward::Discovery::fetch_target`].
    pub discovery: Option<DiscoverySource>,
}

/// What the second step of a discovery fetch needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoverySource {
    /// The provider's `issuer`: the discovery document must name it exactly.
    pub issuer: String,
    /// The provider's `remote_jwks` (`cluster`, `jwks_cluster`, `uri`).
    pub remote: edgeward::RemoteJwks,
}

impl JwksSource {
    /// Shared-data key holding the last good JWKS document.
    pub fn document_key(&self) -> String {
        format!("{}/document", self.shared_key)
    }

    /// Shared-data key holding the fetch schedule ([`edgeward::refresh::FetchState`]).
    pub fn state_key(&self) -> String {
        format!("{}/state", self.shared_key)
    }

    /// Shared-data key holding the `jwks_uri` the stored document came from (discovery only).
    pub fn jwks_uri_key(&self) -> String {
        format!("{}/jwks_uri", self.shared_key)
    }
}

/// A validated plugin configuration.
#[derive(Debug, Clone)]
pub struct FilterConfig {
    /// The policy.
    pub policy: Policy,
    /// Providers with `remote_jwks`, in provider order.
    pub sources: Vec<JwksSource>,
}

fn refuse<T>(path: impl Into<String>, message: impl Into<String>) -> Result<T, Error> {
    Err(Error::Policy(ConfigError::new(path, message)))
}

impl FilterConfig {
    /// Reads the plugin configuration (the policy JSON).
    pub fn from_bytes(bytes: &[u8]) -> Result<FilterConfig, Error> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return refuse("", "the plugin configuration is empty (expected the policy JSON)");
        }
        let policy = Policy::from_bytes(bytes)?;
        let mut sources = Vec::new();
        for provider in &policy.providers {
            let Some(remote) = &provider.remote_jwks else { continue };
            let target = remote.fetch_target(&provider.name)?;
            // Everything that decides what a fetch stores is in the key: plugins share a source
            // only when they would fetch and accept the same documents.
            let (shared_key, discovery) = if remote.discovery {
                let jwks_cluster = remote.jwks_cluster.as_deref().unwrap_or_default();
                let key =
                    format!("edgeward/discovery/{}/{jwks_cluster}/{}/{}", target.cluster, provider.issuer, remote.uri);
                (key, Some(DiscoverySource { issuer: provider.issuer.clone(), remote: remote.clone() }))
            } else {
                (format!("edgeward/jwks/{}/{}", target.cluster, remote.uri), None)
            };
            sources.push(JwksSource {
                provider: provider.name.clone(),
                shared_key,
                discovery,
                cluster: target.cluster,
                authority: target.authority,
                path: target.path,
                cache_duration_ms: remote.cache_duration_seconds.saturating_mul(1000),
                timeout_ms: remote.timeout_ms,
                cooldown_ms: remote.refetch_cooldown_seconds.saturating_mul(1000),
            });
        }
        Ok(FilterConfig { policy, sources })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = r#"{"kty":"EC","crv":"P-256","kid":"k1","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;

    fn policy(provider_extra: &str) -> String {
        format!(
            r#"{{"providers":{{"idp":{{"issuer":"https://idp","audiences":["api"],{provider_extra}
                "claim_to_headers":[{{"claim_name":"sub","header_name":"X-Bot-Id"}}]}}}},
                "rules":[{{"match":{{"prefix":"/"}},"requires":{{"provider_name":"idp"}}}}]}}"#
        )
    }

    fn error_path(text: &str) -> String {
        match FilterConfig::from_bytes(text.as_bytes()) {
            Err(e) => {
                assert_eq!(e.code(), "ERR_POLICY_INVALID");
                e.path().unwrap_or_default().to_owned()
            }
            Ok(_) => panic!("configuration accepted: {text}"),
        }
    }

    #[test]
    fn remote_jwks_needs_a_cluster_for_the_filter() {
        let path = error_path(&policy(r#""remote_jwks":{"uri":"https://idp/jwks"},"#));
        assert_eq!(path, "providers.idp.remote_jwks.cluster");
    }

    #[test]
    fn remote_uri_must_be_absolute_http() {
        let path = error_path(&policy(r#""remote_jwks":{"cluster":"c","uri":"idp/jwks"},"#));
        assert_eq!(path, "providers.idp.remote_jwks.uri");
        let path = error_path(&policy(r#""remote_jwks":{"cluster":"c","uri":"https:///jwks"},"#));
        assert_eq!(path, "providers.idp.remote_jwks.uri");
    }

    #[test]
    fn core_errors_keep_their_path() {
        let path = error_path(&policy(r#""remote_jwks":{"cluster":"c","uri":"https://idp/j","bogus":1},"#));
        assert_eq!(path, "providers.idp.remote_jwks.bogus");
        assert_eq!(error_path(""), "");
        assert_eq!(error_path("{"), "");
    }

    #[test]
    fn a_remote_source_is_derived_with_its_timings() {
        let text = policy(&format!(
            r#""local_jwks":{{"keys":[{KEY}]}},
               "remote_jwks":{{"cluster":"idp_cluster","uri":"http://idp.test:8080/keys?x=1","cache_duration_seconds":7,
               "timeout_ms":900,"refetch_cooldown_seconds":3}},"#
        ));
        let config = FilterConfig::from_bytes(text.as_bytes()).unwrap();
        let source = &config.sources[0];
        assert_eq!(source.provider, "idp");
        assert_eq!(source.cluster, "idp_cluster");
        assert_eq!((source.authority.as_str(), source.path.as_str()), ("idp.test:8080", "/keys?x=1"));
        assert_eq!((source.cache_duration_ms, source.timeout_ms, source.cooldown_ms), (7000, 900, 3000));
        assert_ne!(source.document_key(), source.state_key());
        assert_eq!(config.policy.claim_headers, vec!["x-bot-id".to_owned()]);
    }

    #[test]
    fn a_discovery_source_fetches_the_well_known_uri_first() {
        let config =
            FilterConfig::from_bytes(policy(r#""remote_jwks":{"cluster":"idp_cluster","discovery":true},"#).as_bytes())
                .unwrap();
        let source = &config.sources[0];
        assert_eq!((source.authority.as_str(), source.path.as_str()), ("idp", "/.well-known/openid-configuration"));
        let discovery = source.discovery.as_ref().unwrap();
        assert_eq!(discovery.issuer, "https://idp");
        assert!(source.shared_key.starts_with("edgeward/discovery/idp_cluster/"), "{}", source.shared_key);
        let plain =
            policy(r#""remote_jwks":{"cluster":"idp_cluster","uri":"https://idp/.well-known/openid-configuration"},"#);
        let plain = FilterConfig::from_bytes(plain.as_bytes()).unwrap();
        assert_ne!(plain.sources[0].shared_key, source.shared_key, "a JWKS source never shares a discovery's record");
        assert!(plain.sources[0].discovery.is_none());
    }

    #[test]
    fn discovery_fields_are_checked_at_load() {
        let path = error_path(&policy(
            r#""remote_jwks":{"cluster":"c","uri":"idp/.well-known/openid-configuration","discovery":true},"#,
        ));
        assert_eq!(path, "providers.idp.remote_jwks.uri");
        let path = error_path(&policy(r#""remote_jwks":{"cluster":"c","uri":"https://idp/jwks","jwks_cluster":"k"},"#));
        assert_eq!(path, "providers.idp.remote_jwks.jwks_cluster");
        let path = error_path(&policy(r#""remote_jwks":{"cluster":"c"},"#));
        assert_eq!(path, "providers.idp.remote_jwks.uri");
        let path = error_path(&policy(r#""remote_jwks":{"discovery":true},"#));
        assert_eq!(path, "providers.idp.remote_jwks.cluster");
    }

    #[test]
    fn local_only_policies_have_no_sources() {
        let config = FilterConfig::from_bytes(policy(&format!(r#""local_jwks":{{"keys":[{KEY}]}},"#)).as_bytes());
        assert!(config.unwrap().sources.is_empty());
    }

    #[test]
    fn uris_split_into_authority_and_path() {
        use edgeward::split_uri;
        assert_eq!(split_uri("https://a.b/c/d"), Some(("a.b".into(), "/c/d".into())));
        assert_eq!(split_uri("http://a.b:81"), Some(("a.b:81".into(), "/".into())));
        assert_eq!(split_uri("https://a.b?q=1"), Some(("a.b".into(), "/?q=1".into())));
        assert_eq!(split_uri("https://a.b/p#frag"), Some(("a.b".into(), "/p".into())));
        assert_eq!(split_uri("ftp://a.b/c"), None);
        assert_eq!(split_uri("https://user@a.b/c"), None);
        assert_eq!(split_uri("https://a.b/c d"), None);
    }
}
