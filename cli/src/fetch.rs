//! `--fetch-keys`: the CLI fetches the keys of each `remote_jwks` provider itself and hands the
//! documents to the core, which decides about them as it does for the Envoy filter and the npm
//! package (the core does no I/O; all of it is here).
//!
//! - With `"discovery": true`: `GET remote_jwks.uri` (by default
//!   `<issuer>/.well-known/openid-configuration`), read by [`Discovery`] (its `issuer` must be the
//!   provider's exactly), then `GET` its `jwks_uri` (which may be on another host). Without:
//!   `GET remote_jwks.uri`. The JWKS is loaded with [`Verifier::set_jwks`]; the keys it leaves
//!   out are warnings on stderr.
//! - Bounded: each request within the provider's `remote_jwks.timeout_ms` (connection, TLS,
//!   headers and body together); at most [`MAX_DISCOVERY_BYTES`] / [`MAX_JWKS_BYTES`] of body; no
//!   redirect is followed (a 3xx answer is a failure); no proxy (`https_proxy` and the like are
//!   ignored); no compression.
//! - `https://` only, unless `--allow-http`. TLS is rustls with Mozilla's root certificates built
//!   in (webpki-roots: the same roots on every machine, whatever the system has), or with
//!   `--ca-file` exactly the CA certificates of that PEM file instead.
//!
//! An http URI without `--allow-http` or an unusable CA file is bad usage (exit 2), found before
//! any request; anything that goes wrong fetching or loading is [`Failure::Fetch`] (exit 3).
//! Messages name the provider and the URI, never a key or a document's content.

use crate::args::FetchArgs;
use crate::io::{self, Failure, usage};
use edgeward::{ConfigError, Discovery, Error, MAX_DISCOVERY_BYTES, MAX_JWKS_BYTES, RemoteJwks, Verifier};
use std::path::Path;
use std::time::Duration;
use ureq::Agent;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

/// What one provider's fetch gave: where its keys came from and how many it now has.
#[derive(Debug)]
pub struct Fetched {
    /// The provider's name.
    pub provider: String,
    /// The URI the JWKS was fetched from (the `jwks_uri` with discovery).
    pub jwks_uri: String,
    /// Usable keys the provider holds now.
    pub keys: usize,
}

/// One provider to fetch for.
struct Target {
    name: String,
    issuer: String,
    remote: RemoteJwks,
}

/// Fetches and loads the keys of every `remote_jwks` provider of the verifier's policy (of
/// `only`, when given). `policy_file` names the policy in messages.
pub fn fetch_keys(
    verifier: &mut Verifier,
    only: Option<&str>,
    args: &FetchArgs,
    policy_file: &str,
) -> Result<Vec<Fetched>, Failure> {
    let targets: Vec<Target> = verifier
        .policy()
        .providers
        .iter()
        .filter(|p| only.is_none_or(|name| p.name == name))
        .filter_map(|p| {
            p.remote_jwks.as_ref().map(|remote| Target {
                name: p.name.clone(),
                issuer: p.issuer.clone(),
                remote: remote.clone(),
            })
        })
        .collect();
    if targets.is_empty() {
        let whom = match only {
            Some(name) => format!("provider \"{name}\" of {policy_file} has no remote_jwks"),
            None => format!("no provider of {policy_file} has remote_jwks"),
        };
        eprintln!("edgeward: warning: --fetch-keys: {whom}: nothing fetched");
        return Ok(Vec::new());
    }
    // Every refusal that needs no network comes first.
    for target in &targets {
        check_scheme(&target.remote.uri, args.allow_http)
            .map_err(|why| usage(format!("{policy_file}: providers.{}.remote_jwks.uri {why}", target.name)))?;
    }
    let agent = agent(args)?;

    let mut fetched = Vec::new();
    for target in &targets {
        let failed = |uri: &str, why: String| {
            Failure::Fetch(format!("cannot fetch the keys of provider \"{}\": {uri}: {why}", target.name))
        };
        let timeout = Duration::from_millis(target.remote.timeout_ms);
        let jwks_uri = if target.remote.discovery {
            let uri = &target.remote.uri;
            let document =
                get(&agent, uri, timeout, MAX_DISCOVERY_BYTES, "discovery document").map_err(|why| failed(uri, why))?;
            let discovery = Discovery::from_bytes(&document, &target.issuer)
                .map_err(|e| failed(uri, format!("the discovery document is refused: {}", refusal(&e))))?;
            check_scheme(&discovery.jwks_uri, args.allow_http)
                .map_err(|why| failed(uri, format!("its jwks_uri {why}")))?;
            discovery.jwks_uri
        } else {
            target.remote.uri.clone()
        };
        let jwks = get(&agent, &jwks_uri, timeout, MAX_JWKS_BYTES, "JWKS").map_err(|why| failed(&jwks_uri, why))?;
        let loaded = verifier
            .set_jwks(&target.name, &jwks)
            .map_err(|e| failed(&jwks_uri, format!("the JWKS is refused: {}", refusal(&e))))?;
        for refused in &loaded.refused {
            eprintln!("edgeward: warning: {jwks_uri}: key left out: {refused}");
        }
        fetched.push(Fetched { provider: target.name.clone(), jwks_uri, keys: loaded.keys });
    }
    Ok(fetched)
}

/// `https://`, or `http://` with `--allow-http`; else why not (completing "…uri ").
fn check_scheme(uri: &str, allow_http: bool) -> Result<(), String> {
    let starts = |prefix: &str| uri.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix));
    if starts("https://") {
        Ok(())
    } else if starts("http://") {
        if allow_http {
            Ok(())
        } else {
            Err(format!(
                "is plain http ({uri}): --fetch-keys fetches over https only; pass --allow-http to fetch it without \
                 TLS (anyone on the path could swap the keys)"
            ))
        }
    } else {
        Err("is not an absolute https:// URI: --fetch-keys cannot fetch it".to_owned())
    }
}

/// The HTTP client: no redirects, no proxy, statuses handled here, the chosen roots.
fn agent(args: &FetchArgs) -> Result<Agent, Failure> {
    let roots = match &args.ca_file {
        Some(path) => RootCerts::new_with_certs(&ca_certificates(path)?),
        None => RootCerts::WebPki,
    };
    let config = Agent::config_builder()
        .tls_config(TlsConfig::builder().root_certs(roots).build())
        .https_only(!args.allow_http)
        .proxy(None)
        .max_redirects(0)
        .http_status_as_error(false)
        .user_agent(concat!("edgeward/", env!("CARGO_PKG_VERSION")))
        .accept("application/json")
        .build();
    Ok(config.into())
}

/// The CA certificates of a PEM file (`--ca-file`); other PEM sections are skipped.
fn ca_certificates(path: &Path) -> Result<Vec<Certificate<'static>>, Failure> {
    let text = io::read_text(path, "CA file")?;
    let mut certificates = Vec::new();
    for item in ureq::tls::parse_pem(text.as_bytes()) {
        match item {
            Ok(PemItem::Certificate(certificate)) => certificates.push(certificate),
            Ok(_) => {}
            Err(_) => return Err(usage(format!("CA file {}: not a valid PEM file", path.display()))),
        }
    }
    if certificates.is_empty() {
        return Err(usage(format!(
            "CA file {}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it",
            path.display()
        )));
    }
    Ok(certificates)
}

/// `GET uri`: the body of a 200 answer of at most `limit` bytes, else why not.
fn get(agent: &Agent, uri: &str, timeout: Duration, limit: usize, what: &str) -> Result<Vec<u8>, String> {
    let timed_out = || format!("no complete answer within {} ms (remote_jwks.timeout_ms)", timeout.as_millis());
    let mut response =
        agent.get(uri).config().timeout_global(Some(timeout)).build().call().map_err(|e| describe(&e, &timed_out))?;
    let status = response.status().as_u16();
    if (300..400).contains(&status) {
        return Err(format!(
            "answered HTTP {status}, a redirect: redirects are not followed (put the final URI in the policy)"
        ));
    }
    if status != 200 {
        return Err(format!("answered HTTP {status} (expected 200)"));
    }
    response.body_mut().with_config().limit(u64::try_from(limit).unwrap_or(u64::MAX)).read_to_vec().map_err(|e| match e
    {
        ureq::Error::BodyExceedsLimit(_) => format!("the {what} is larger than {limit} bytes"),
        other => describe(&other, &timed_out),
    })
}

/// A ureq error in words; a certificate problem gets the hint about `--ca-file`.
fn describe(error: &ureq::Error, timed_out: &dyn Fn() -> String) -> String {
    let text = match error {
        ureq::Error::Timeout(_) => return timed_out(),
        ureq::Error::HostNotFound => return "host not found".to_owned(),
        ureq::Error::ConnectionFailed => return "connection failed".to_owned(),
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            return "connection refused (nothing listens there)".to_owned();
        }
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => return timed_out(),
        // rustls reports a failed handshake as invalid data (a bad certificate, or no TLS at all).
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::InvalidData => format!("TLS: {}", io::describe(e)),
        ureq::Error::Io(e) => io::describe(e),
        other => other.to_string(),
    };
    if text.contains("certificate") {
        let text = if text.starts_with("TLS: ") { text } else { format!("TLS: {text}") };
        format!("{text} (a private CA? pass its certificate with --ca-file)")
    } else {
        text
    }
}

/// A refused document's reason: the member at fault and what is wrong, and the code.
fn refusal(error: &Error) -> String {
    match error {
        Error::Jwks(ConfigError { path, message, .. }) if !path.is_empty() => {
            format!("{path}: {message} ({})", error.code())
        }
        Error::Jwks(ConfigError { message, .. }) => format!("{message} ({})", error.code()),
        other => format!("{other} ({})", other.code()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_only_unless_http_is_allowed() {
        assert!(check_scheme("https://idp.example.com/jwks", false).is_ok());
        assert!(check_scheme("HTTPS://idp.example.com/jwks", false).is_ok());
        let refused = check_scheme("http://127.0.0.1:9/jwks", false).unwrap_err();
        assert!(refused.contains("--allow-http"), "{refused}");
        assert!(check_scheme("http://127.0.0.1:9/jwks", true).is_ok());
        assert!(check_scheme("relative/jwks", true).unwrap_err().contains("not an absolute"));
        assert!(check_scheme("ftp://idp.example.com/jwks", true).is_err());
    }

    #[test]
    fn refusals_name_the_member_and_the_code() {
        let jwks = |path: &str, message: &str| Error::Jwks(ConfigError::new(path, message));
        let error = jwks("issuer", "the discovery document must name the issuer \"https://a\"");
        assert_eq!(
            refusal(&error),
            "issuer: the discovery document must name the issuer \"https://a\" (ERR_JWKS_INVALID)"
        );
        assert_eq!(refusal(&jwks("", "not JSON")), "not JSON (ERR_JWKS_INVALID)");
    }

    #[test]
    fn a_ca_file_needs_a_certificate() {
        let dir = std::env::temp_dir().join(format!("edgeward-ca-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let Err(Failure::Usage(message)) = ca_certificates(&empty) else { panic!("an empty CA file is usage") };
        assert!(message.contains("no PEM certificate"), "{message}");
        let Err(Failure::Usage(message)) = ca_certificates(&dir.join("missing.pem")) else { panic!("missing") };
        assert!(message.contains("no such file"), "{message}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
