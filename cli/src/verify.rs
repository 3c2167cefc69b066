//! `edgeward verify`: one token, one policy, the core's verdict as JSON.

use crate::args::VerifyArgs;
use crate::io::{self, Failure, usage};
use edgeward::{Error, Verifier};
use serde_json::{Value, json};

/// Runs `verify`: `Ok` when the token is accepted (its JSON printed), else the failure.
pub fn run(args: &VerifyArgs) -> Result<(), Failure> {
    let policy_path = args.policy.display();
    let policy_text = io::read_text(&args.policy, "policy file")?;
    let mut verifier =
        Verifier::from_json(&policy_text).map_err(|e| usage(format!("{policy_path}: {}", config_message(&e))))?;

    if let Some(name) = &args.provider {
        if verifier.policy().provider(name).is_none() {
            let known: Vec<&str> = verifier.policy().providers.iter().map(|p| p.name.as_str()).collect();
            return Err(usage(format!(
                "{policy_path} has no provider \"{name}\" (it has: {})",
                if known.is_empty() { "none".to_owned() } else { known.join(", ") }
            )));
        }
    }
    if let Some(jwks_path) = &args.jwks {
        let provider = match (&args.provider, verifier.policy().providers.as_slice()) {
            (Some(name), _) => name.clone(),
            (None, [only]) => only.name.clone(),
            (None, _) => return Err(usage("--jwks needs --provider when the policy has several providers")),
        };
        let jwks = io::read_text(jwks_path, "JWKS file")?;
        verifier
            .set_jwks(&provider, jwks.as_bytes())
            .map_err(|e| usage(format!("{}: {}", jwks_path.display(), config_message(&e))))?;
    }

    let scopes: Vec<&str> = args.scopes.iter().flat_map(|s| s.split_whitespace()).collect();
    let now = io::now_or_clock(args.now)?;
    let token = match args.token.as_deref() {
        Some(token) if token != "-" => token.to_owned(),
        _ => io::read_stdin("token")?.trim().to_owned(),
    };
    if token.is_empty() {
        return Err(usage("no token given: pass it as an argument, or pipe it on stdin"));
    }

    match verifier.verify(&token, args.provider.as_deref(), &scopes, now) {
        Ok(verified) => {
            let output = serde_json::to_value(&*verified).unwrap_or(Value::Null);
            io::print(&io::pretty(&output))
        }
        Err(error) => {
            // stdout: the machine-readable refusal; stderr (by main): one line. Neither holds the token.
            io::print(&io::pretty(&refusal(&error)))?;
            let hint = if matches!(error, Error::JwksUnavailable) {
                " (the CLI does not fetch remote_jwks: pass the keys with --jwks FILE)"
            } else {
                ""
            };
            Err(Failure::Failed(format!("refused: {}: {error}{hint}", error.code())))
        }
    }
}

/// The refusal document: `{"error": {"code", "message", "claim"?, "scopes_needed"?}}`.
pub fn refusal(error: &Error) -> Value {
    let mut body = json!({ "code": error.code(), "message": error.to_string() });
    if let Some(claim) = error.claim() {
        body["claim"] = json!(claim);
    }
    if let Error::InsufficientScope { needed } = error {
        body["scopes_needed"] = json!(needed);
    }
    json!({ "error": body })
}

/// A policy or JWKS error in one line, with its code.
fn config_message(error: &Error) -> String {
    format!("{error} ({})", error.code())
}
