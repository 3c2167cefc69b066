//! `edgeward mint`: a signed development token from a private JWK and a few flags.

use crate::args::{MintArgs, ProofArgs};
use crate::io::{self, Failure, usage};
use crate::keygen::read_private_jwk;
use edgeward::base64url;
use edgeward::issuer;
use serde_json::{Map, Value};

/// Runs `mint`: prints the token.
pub fn run(args: &MintArgs) -> Result<(), Failure> {
    let extra = args.claims.iter().map(|claim| parse_claim(claim)).collect::<Result<Vec<_>, _>>()?;
    let key = read_private_jwk(&args.key)?;
    let now = io::now_or_clock(args.now)?;
    let ttl = i64::try_from(args.ttl).map_err(|_| usage("--ttl is too large"))?;

    let mut claims = Map::new();
    claims.insert("iss".to_owned(), Value::from(args.iss.as_str()));
    if let Some(sub) = &args.sub {
        claims.insert("sub".to_owned(), Value::from(sub.as_str()));
    }
    let aud = match args.aud.as_slice() {
        [one] => Value::from(one.as_str()),
        many => Value::from(many.to_vec()),
    };
    claims.insert("aud".to_owned(), aud);
    if let Some(scope) = &args.scope {
        claims.insert("scope".to_owned(), Value::from(scope.split_whitespace().collect::<Vec<_>>().join(" ")));
    }
    claims.insert("iat".to_owned(), Value::from(now));
    claims.insert("exp".to_owned(), Value::from(now.saturating_add(ttl)));
    claims.insert("jti".to_owned(), Value::from(jti()?));
    if let Some(path) = &args.bind_key {
        claims.insert("cnf".to_owned(), serde_json::json!({ "jkt": key_thumbprint(path)? }));
    }
    if let Some(path) = &args.bind_cert {
        let sha256 = edgeward::certificate_sha256(&io::read_certificate_der(path)?);
        claims.insert("cnf".to_owned(), serde_json::json!({ "x5t#S256": base64url::encode(&sha256) }));
    }
    for (name, value) in extra {
        claims.insert(name, value);
    }

    let mut header = Map::new();
    if let Some(typ) = &args.typ {
        header.insert("typ".to_owned(), Value::from(typ.as_str()));
    }
    if let Some(kid) = &args.kid {
        header.insert("kid".to_owned(), Value::from(kid.as_str()));
    }
    let token = issuer::try_sign_token(&key, &header, &claims)
        .map_err(|e| Failure::Failed(format!("cannot sign the token: {e}")))?;
    io::print(&token)
}

/// Runs `proof`: prints a DPoP proof for one request.
pub fn proof(args: &ProofArgs) -> Result<(), Failure> {
    let key = read_private_jwk(&args.key)?;
    let now = io::now_or_clock(args.now)?;
    let token = io::token_argument(args.token.as_deref())?;
    let proof = issuer::dpop_proof(&key, &args.method, &args.url, &token, now, &jti()?)
        .map_err(|e| Failure::Failed(format!("cannot sign the proof: {e}")))?;
    io::print(&proof)
}

/// The RFC 7638 thumbprint of the key in a JWK file (private or public, or a JWKS of one key).
fn key_thumbprint(path: &std::path::Path) -> Result<String, Failure> {
    let text = io::read_text(path, "key file")?;
    let value: Value = serde_json::from_str(&text).map_err(|_| usage(format!("{}: not JSON", path.display())))?;
    let jwk = match value.get("keys").and_then(Value::as_array).map(Vec::as_slice) {
        Some([one]) => one.clone(),
        Some(_) => return Err(usage(format!("{}: a JWKS of exactly one key is needed", path.display()))),
        None => value,
    };
    jwk.as_object()
        .and_then(edgeward::jwk_thumbprint)
        .ok_or_else(|| usage(format!("{}: not a JWK (kty and its public members)", path.display())))
}

/// `k=v`: `v` is JSON when it parses as JSON, else the string itself.
fn parse_claim(text: &str) -> Result<(String, Value), Failure> {
    let (name, value) = text.split_once('=').ok_or_else(|| usage(format!("--claim {text}: expected NAME=VALUE")))?;
    if name.is_empty() {
        return Err(usage(format!("--claim {text}: the claim name is empty")));
    }
    let value = serde_json::from_str(value).unwrap_or_else(|_| Value::from(value));
    Ok((name.to_owned(), value))
}

/// A random token id (RFC 7519 `jti`): 16 bytes from the system's random number generator.
fn jti() -> Result<String, Failure> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|_| Failure::Failed("the system random number generator failed".to_owned()))?;
    Ok(base64url::encode(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn claim_values_are_json_when_they_parse_else_strings() {
        let parse = |text: &str| parse_claim(text).map_err(|e| e.to_string());
        assert_eq!(parse("n=7").unwrap(), ("n".to_owned(), json!(7)));
        assert_eq!(parse("roles=[\"a\",\"b\"]").unwrap(), ("roles".to_owned(), json!(["a", "b"])));
        assert_eq!(parse("ok=true").unwrap(), ("ok".to_owned(), json!(true)));
        assert_eq!(parse("client_id=bot-7").unwrap(), ("client_id".to_owned(), json!("bot-7")));
        assert_eq!(parse("quoted=\"7\"").unwrap(), ("quoted".to_owned(), json!("7")));
        assert_eq!(parse("eq=a=b").unwrap(), ("eq".to_owned(), json!("a=b")));
        assert_eq!(parse("empty=").unwrap(), ("empty".to_owned(), json!("")));
        assert!(parse("novalue").unwrap_err().contains("NAME=VALUE"));
        assert!(parse("=x").unwrap_err().contains("empty"));
    }
}
