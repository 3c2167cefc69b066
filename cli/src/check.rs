//! `edgeward check`: load a policy as the Envoy filter would, and print the core's findings.

use crate::args::CheckArgs;
use crate::io::{self, Failure};
use crate::verify::load_policy;

/// Runs `check`: `Ok` when the policy has no findings.
pub fn run(args: &CheckArgs) -> Result<(), Failure> {
    let mut verifier = load_policy(&args.policy)?;
    let file = args.policy.display();
    verifier.policy().check_fetchable().map_err(|e| crate::verify::config_failure(&file.to_string(), &e))?;
    if args.fetch.fetch_keys {
        // The live keys load under the provider's algorithms and limits, or the check fails (exit 3).
        for fetched in crate::fetch::fetch_keys(&mut verifier, None, &args.fetch, &file.to_string())? {
            let (keys, uri) = (fetched.keys, &fetched.jwks_uri);
            let plural = if keys == 1 { "" } else { "s" };
            io::print(&format!("{file}: providers.{}: {keys} key{plural} fetched from {uri}", fetched.provider))?;
        }
    }
    let policy = verifier.policy();
    let mut findings = policy.lint();
    if let Some(path) = &args.example_token {
        let (token, source) = if path.as_os_str() == "-" {
            (io::read_stdin("example token")?, "the example token (stdin)".to_owned())
        } else {
            (io::read_text(path, "example token file")?, format!("the example token {}", path.display()))
        };
        let token = token.trim();
        if token.is_empty() {
            return Err(io::usage(format!("{source} is empty")));
        }
        // Neither the token nor a claim value is in the error: its code, a claim's name and the
        // policy's issuers.
        let example = policy.lint_example(token).map_err(|e| io::usage(format!("{source}: {e} ({})", e.code())))?;
        findings.extend(example);
    }
    if findings.is_empty() {
        let count = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        let (providers, rules) = (count(policy.providers.len(), "provider"), count(policy.rules.len(), "rule"));
        return io::print(&format!("{file}: ok ({providers}, {rules})"));
    }
    for finding in &findings {
        io::print(&format!("{file}: {}: {} [{}]", finding.path, finding.message, finding.kind))?;
    }
    Err(Failure::Failed(format!("{} finding{} in {file}", findings.len(), if findings.len() == 1 { "" } else { "s" })))
}
