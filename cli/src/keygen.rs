//! `edgeward keygen`: a fresh signing key as a private JWK, its public JWKS, or both files.

use crate::args::KeygenArgs;
use crate::io::{self, Failure, usage};
use edgeward::issuer::{self, PrivateJwk};
use edgeward::{Algorithm, Error, KeySet};

/// Runs `keygen`.
pub fn run(args: &KeygenArgs) -> Result<(), Failure> {
    let wanted = args.alg.map(Algorithm::from);
    let key = match &args.from {
        Some(path) => {
            let mut key = read_private_jwk(path)?;
            if let Some(alg) = wanted.filter(|alg| *alg != key.algorithm()) {
                return Err(usage(format!(
                    "{} holds a key for {}, not {}",
                    path.display(),
                    key.algorithm().name(),
                    alg.name()
                )));
            }
            if let Some(kid) = &args.kid {
                key.set_kid(Some(kid));
            }
            key
        }
        None => {
            let alg = wanted.unwrap_or(Algorithm::ES256);
            let mut key = PrivateJwk::generate(alg, args.kid.as_deref())
                .map_err(|e| Failure::Failed(format!("cannot generate a key: {e}")))?;
            if key.kid().is_none() {
                let thumbprint = thumbprint(&key)?;
                key.set_kid(Some(&thumbprint));
            }
            key
        }
    };

    let public = io::pretty(&issuer::jwks(&[&key]));
    match (&args.private_out, &args.public_out) {
        (Some(private_out), Some(public_out)) => {
            io::write_file(private_out, &io::pretty(&key.to_json()), true, args.force)?;
            io::write_file(public_out, &public, false, args.force)
        }
        _ if args.public => io::print(&public),
        _ => io::print(&io::pretty(&key.to_json())),
    }
}

/// Reads a private JWK file (for `keygen --from` and `mint --key`).
pub fn read_private_jwk(path: &std::path::Path) -> Result<PrivateJwk, Failure> {
    let text = io::read_text(path, "private key file")?;
    PrivateJwk::from_json(&text).map_err(|error| {
        let why = match &error {
            _ if serde_json::from_str::<serde_json::Value>(&text).is_ok_and(|v| v.get("keys").is_some()) => {
                "it looks like a JWKS (public keys); this needs a private JWK from `edgeward keygen`".to_owned()
            }
            // The path names the member (never its value): safe to print.
            Error::Jwks(e) if e.path.is_empty() => e.message.clone(),
            Error::Jwks(e) => format!("{}: {}", e.path, e.message),
            other => other.to_string(),
        };
        usage(format!("{}: not a usable private JWK: {why}", path.display()))
    })
}

/// The RFC 7638 SHA-256 thumbprint of the key, as the core computes it.
fn thumbprint(key: &PrivateJwk) -> Result<String, Failure> {
    let set = KeySet::from_value(&issuer::jwks(&[key]), &[key.algorithm()], "")
        .map_err(|e| Failure::Failed(format!("the generated key was refused by the verifier: {e}")))?;
    set.keys()
        .first()
        .map(|jwk| jwk.thumbprint.clone())
        .ok_or_else(|| Failure::Failed("the generated key was refused by the verifier".to_owned()))
}
