//! `edgeward check`: load a policy as the Envoy filter would, and print the core's findings.

use crate::args::CheckArgs;
use crate::io::{self, Failure};
use crate::verify::load_policy;

/// Runs `check`: `Ok` when the policy has no findings.
pub fn run(args: &CheckArgs) -> Result<(), Failure> {
    let verifier = load_policy(&args.policy)?;
    let policy = verifier.policy();
    let file = args.policy.display();
    policy.check_fetchable().map_err(|e| crate::verify::config_failure(&file.to_string(), &e))?;
    let findings = policy.lint();
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
