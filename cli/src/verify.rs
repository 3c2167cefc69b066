//! `edgeward verify`: one token, one policy, the core's verdict as JSON — for the token alone, or
//! (with `--method` and `--path`) for a request, by the same decision as the filter and middleware.

use crate::args::VerifyArgs;
use crate::io::{self, Failure, usage};
use edgeward::{Access, Error, PathMatch, Rule, Verifier};
use serde_json::{Value, json};
use std::path::Path;

/// Reads and loads a policy file; a refusal names the file, and a JSON syntax error its line and
/// column (`policy.json:12:5: trailing comma`).
pub fn load_policy(path: &Path) -> Result<Verifier, Failure> {
    let text = io::read_text(path, "policy file")?;
    Verifier::from_json(&text).map_err(|e| config_failure(&path.display().to_string(), &e))
}

/// A refused policy or JWKS document as one line (exit 2).
pub fn config_failure(file: &str, error: &Error) -> Failure {
    match error.position() {
        Some((line, column)) => {
            let message = match error {
                Error::Policy(e) | Error::Jwks(e) => e.message.clone(),
                other => other.to_string(),
            };
            usage(format!("{file}:{line}:{column}: {message} ({})", error.code()))
        }
        None => usage(format!("{file}: {error} ({})", error.code())),
    }
}

/// Runs `verify`: `Ok` when the token is accepted (its JSON printed), else the failure.
pub fn run(args: &VerifyArgs) -> Result<(), Failure> {
    let policy_path = args.policy.display();
    let mut verifier = load_policy(&args.policy)?;

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
        let loaded = verifier
            .set_jwks(&provider, jwks.as_bytes())
            .map_err(|e| config_failure(&jwks_path.display().to_string(), &e))?;
        for refused in &loaded.refused {
            eprintln!("edgeward: warning: {}: key left out: {refused}", jwks_path.display());
        }
    }
    if args.fetch.fetch_keys {
        crate::fetch::fetch_keys(&mut verifier, args.provider.as_deref(), &args.fetch, &policy_path.to_string())?;
    }

    let scopes: Vec<&str> = args.scopes.iter().flat_map(|s| s.split_whitespace()).collect();
    let now = io::now_or_clock(args.now)?;
    let token = io::token_argument(args.token.as_deref())?;

    let (outcome, rule) = match (&args.method, &args.path) {
        (Some(method), Some(path)) => {
            let rule = verifier.policy().rule_for(method, path).ok().map(|(index, rule)| describe_rule(index, rule));
            let request = RequestEvidence::read(args)?;
            let decision = verifier.decide_token_with(
                method,
                path,
                Some(&token),
                request.proof.as_deref(),
                request.connection(),
                now,
            );
            let outcome = decision.outcome.map(|allowed| {
                let mut output = match &allowed.access {
                    Access::Public => json!({ "access": "public" }),
                    Access::Granted(verified) => {
                        let mut output = serde_json::to_value(&**verified).unwrap_or(Value::Null);
                        output["access"] = json!("granted");
                        output
                    }
                };
                output["claim_headers"] =
                    allowed.set.iter().map(|(name, value)| (name.clone(), json!(value))).collect();
                output
            });
            (outcome, rule)
        }
        _ => {
            let outcome = verifier
                .verify(&token, args.provider.as_deref(), &scopes, now)
                .map(|verified| serde_json::to_value(&*verified).unwrap_or(Value::Null));
            (outcome, None)
        }
    };

    match outcome {
        Ok(mut output) => {
            if let Some(rule) = rule {
                output["rule"] = rule;
            }
            io::print(&io::pretty(&output))
        }
        Err(error) => {
            // stdout: the machine-readable refusal; stderr (by main): one line. Neither holds the token.
            let mut document = refusal(&error);
            if let Some(rule) = rule {
                document["rule"] = rule;
            }
            io::print(&io::pretty(&document))?;
            Err(Failure::Failed(format!("refused: {}: {error}{}", error.code(), hint(&error, &token))))
        }
    }
}

/// What `--dpop`, `--origin`, `--peer-cert` and `--peer-id` say about the request.
struct RequestEvidence {
    proof: Option<String>,
    /// `scheme`, `authority` of `--origin`.
    origin: Option<(String, String)>,
    certificate_sha256: Option<[u8; 32]>,
    peer_id: Option<String>,
}

impl RequestEvidence {
    fn read(args: &VerifyArgs) -> Result<RequestEvidence, Failure> {
        let proof = match &args.dpop {
            Some(path) => Some(io::read_text(path, "DPoP proof file")?.trim().to_owned()),
            None => None,
        };
        let origin = match &args.origin {
            Some(origin) => {
                let (scheme, rest) = origin
                    .split_once("://")
                    .ok_or_else(|| usage(format!("--origin {origin}: expected https://host[:port]")))?;
                Some((scheme.to_owned(), rest.trim_end_matches('/').to_owned()))
            }
            None => None,
        };
        let certificate_sha256 = match &args.peer_cert {
            Some(path) => Some(edgeward::certificate_sha256(&io::read_certificate_der(path)?)),
            None => None,
        };
        Ok(RequestEvidence { proof, origin, certificate_sha256, peer_id: args.peer_id.clone() })
    }

    fn connection(&self) -> edgeward::Connection<'_> {
        edgeward::Connection {
            scheme: self.origin.as_ref().map(|(scheme, _)| scheme.as_str()),
            authority: self.origin.as_ref().map(|(_, authority)| authority.as_str()),
            peer_certificate_sha256: self.certificate_sha256,
            peer_uri_san: self.peer_id.as_deref(),
        }
    }
}

/// What to do about a refusal, where the CLI can tell.
fn hint(error: &Error, token: &str) -> &'static str {
    let scheme = token.get(..7).is_some_and(|head| head.eq_ignore_ascii_case("bearer "));
    match error {
        Error::JwksUnavailable => {
            " (the provider's keys are remote_jwks: fetch them with --fetch-keys, or pass them with --jwks FILE)"
        }
        Error::Malformed(_) if scheme => " (remove the `Bearer ` prefix: give the token alone)",
        _ => "",
    }
}

/// The rule that matched: its index and its `match`, as written in a policy.
fn describe_rule(index: usize, rule: &Rule) -> Value {
    let mut matcher = match &rule.matcher.path {
        PathMatch::Prefix(prefix) => json!({ "prefix": prefix }),
        PathMatch::Exact(path) => json!({ "path": path }),
    };
    if let Some(methods) = &rule.matcher.methods {
        matcher["methods"] = json!(methods);
    }
    if !rule.matcher.case_sensitive {
        matcher["case_sensitive"] = json!(false);
    }
    let mut described = json!({ "index": index, "match": matcher });
    let requirement = |r: &edgeward::Requirement| {
        let mut described = json!({ "provider_name": r.provider_name, "scopes": r.scopes });
        if !r.claims.is_empty() {
            let claims: serde_json::Map<String, Value> =
                r.claims.iter().map(|c| (c.claim.clone(), json!(c.values))).collect();
            described["claims"] = Value::Object(claims);
        }
        if r.allow_missing {
            described["allow_missing"] = json!(true);
        }
        if !r.peers.is_empty() {
            described["peers"] = json!(r.peers);
        }
        described
    };
    match rule.requires.as_slice() {
        [] => {}
        [one] => described["requires"] = requirement(one),
        alternatives => described["requires_any"] = alternatives.iter().map(requirement).collect(),
    }
    described
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
