//! `edgeward jwks diff`: the core's view of a key rotation (src/rotation.rs), for one provider.

use crate::args::{DiffFormat, JwksDiffArgs};
use crate::io::{self, Failure, usage};
use crate::verify::{config_failure, load_policy};
use edgeward::rotation::{diff_documents, is_safe};
use serde_json::json;

/// Runs `jwks diff`: `Ok` when the rotation only adds keys.
pub fn diff(args: &JwksDiffArgs) -> Result<(), Failure> {
    let verifier = load_policy(&args.policy)?;
    let policy = verifier.policy();
    let provider = match (&args.provider, policy.providers.as_slice()) {
        (Some(name), _) => {
            policy.provider(name).ok_or_else(|| usage(format!("{}: no provider \"{name}\"", args.policy.display())))?
        }
        (None, [only]) => only,
        (None, _) => return Err(usage("--provider is needed when the policy has several providers")),
    };
    let read = |path: &std::path::Path| io::read_text(path, "JWKS file");
    let (old, new) = (read(&args.old)?, read(&args.new)?);
    let diff = diff_documents(provider, old.as_bytes(), new.as_bytes())
        .map_err(|e| config_failure(&args.old.display().to_string(), &e))?;
    let safe = is_safe(&diff);
    match args.format {
        DiffFormat::Json => {
            io::print(&io::pretty(&json!({ "keys": diff.keys, "findings": diff.findings, "safe": safe })))?
        }
        DiffFormat::Text => {
            for key in &diff.keys {
                let kid = key.kid.as_deref().unwrap_or("(no kid)");
                let alg = key.alg.as_deref().map(|a| format!(" {a}")).unwrap_or_default();
                io::print(&format!("{:<8} {kid}{alg} {}", key.change, key.thumbprint))?;
            }
            for finding in &diff.findings {
                let about = if finding.key.is_empty() { String::new() } else { format!("{}: ", finding.key) };
                io::print(&format!("{about}{} [{}]", finding.message, finding.kind))?;
            }
        }
    }
    if safe {
        Ok(())
    } else {
        let n = diff.findings.iter().filter(|f| f.kind != "new-key").count();
        Err(Failure::Failed(format!("the rotation needs care: {n} finding{}", if n == 1 { "" } else { "s" })))
    }
}
