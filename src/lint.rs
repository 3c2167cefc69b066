//! What `edgeward check` reports about a policy that loads: rules that can never match, and
//! choices that weaken the rules (wildcard scopes, no lifetime bound, a public catch-all, a weaker
//! fallback behind a protected rule, a provider no rule uses).

use crate::policy::{PathMatch, Policy, RouteMatch, Rule};
use serde::Serialize;

/// One finding about a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// A stable name: `shadowed-rule`, `weaker-fallback`, `public-catch-all`,
    /// `wildcard-scopes-allowed`, `no-lifetime-bound`, `long-lived-tokens`, `unused-provider`.
    pub kind: &'static str,
    /// The field it is about (`rules[2]`, `providers.corp-idp.max_lifetime_seconds`).
    pub path: String,
    /// What it means, in a sentence.
    pub message: String,
}

impl Policy {
    /// The filter's own requirements, checked when it loads a policy: every `remote_jwks` names a
    /// cluster and an absolute http(s) URI.
    pub fn check_fetchable(&self) -> Result<(), crate::Error> {
        for provider in &self.providers {
            if let Some(remote) = &provider.remote_jwks {
                remote.fetch_target(&provider.name)?;
            }
        }
        Ok(())
    }

    /// Findings about this policy, in the order of its fields.
    pub fn lint(&self) -> Vec<Finding> {
        let mut findings = Vec::new();
        let mut add = |kind, path: String, message: String| findings.push(Finding { kind, path, message });
        let mut shadowed = vec![false; self.rules.len()];
        for (j, later) in self.rules.iter().enumerate() {
            if let Some(i) = self.rules[..j].iter().position(|earlier| covers(&earlier.matcher, &later.matcher)) {
                add(
                    "shadowed-rule",
                    format!("rules[{j}]"),
                    format!("never matches: rules[{i}] matches every request it would"),
                );
                shadowed[j] = true;
                continue;
            }
            if later.requires.is_empty() && matches!(&later.matcher.path, PathMatch::Prefix(p) if p == "/") {
                add(
                    "public-catch-all",
                    format!("rules[{j}]"),
                    "lets every request no earlier rule matches through without a token; without it they are denied"
                        .to_owned(),
                );
            }
        }
        // Rules that never match neither need a fallback nor are one.
        let live = |k: &usize| !shadowed[*k];
        for (i, rule) in self.rules.iter().enumerate().filter(|(i, _)| live(i)) {
            let Some(j) = self.rules.iter().enumerate().skip(i + 1).filter(|(j, _)| live(j)).find_map(|(j, later)| {
                (catches_near_misses(&later.matcher, &rule.matcher) && weaker(later, rule)).then_some(j)
            }) else {
                continue;
            };
            add(
                "weaker-fallback",
                format!("rules[{j}]"),
                format!(
                    "catches requests that miss rules[{i}] (another method, case or trailing slash, a path the \
                     upstream routes to the same handler) with a weaker requirement; make the upstream route exactly \
                     as the rules match, or make rules[{j}] deny"
                ),
            );
        }
        if !self.deny_wildcard_scopes {
            add(
                "wildcard-scopes-allowed",
                "deny_wildcard_scopes".to_owned(),
                "is false: tokens carrying `*` scopes (read:*, admin:*) are accepted".to_owned(),
            );
        }
        for provider in &self.providers {
            let at = |field: &str| format!("providers.{}.{field}", provider.name);
            match provider.max_lifetime_seconds {
                None => add(
                    "no-lifetime-bound",
                    at("max_lifetime_seconds"),
                    "is null: tokens of any lifetime (and without iat) are accepted".to_owned(),
                ),
                Some(max) if max > crate::LONG_LIVED_SECONDS => add(
                    "long-lived-tokens",
                    at("max_lifetime_seconds"),
                    format!("accepts tokens living up to {max} s (over a day)"),
                ),
                Some(_) => {}
            }
            let used = self.rules.iter().any(|r| r.requires.iter().any(|q| q.provider_name == provider.name));
            if !used {
                add("unused-provider", format!("providers.{}", provider.name), "no rule requires it".to_owned());
            }
        }
        findings
    }
}

/// The path pattern of `m` in the case `other` compares with.
fn pattern(m: &RouteMatch) -> &str {
    match &m.path {
        PathMatch::Prefix(p) | PathMatch::Exact(p) => p,
    }
}

/// Whether every request `later` matches is matched by `earlier` (so `later` never decides one).
fn covers(earlier: &RouteMatch, later: &RouteMatch) -> bool {
    if earlier.case_sensitive && !later.case_sensitive {
        return false;
    }
    let (e, l) = if earlier.case_sensitive {
        (pattern(earlier).to_owned(), pattern(later).to_owned())
    } else {
        (pattern(earlier).to_owned(), pattern(later).to_ascii_lowercase())
    };
    let path_covered = match (&earlier.path, &later.path) {
        (PathMatch::Prefix(_), _) => l.starts_with(&e),
        (PathMatch::Exact(_), PathMatch::Exact(_)) => l == e || l.strip_suffix('/') == Some(e.as_str()),
        (PathMatch::Exact(_), PathMatch::Prefix(_)) => false,
    };
    let methods_covered = match (&earlier.methods, &later.methods) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(e), Some(l)) => l.iter().all(|m| e.contains(m) || (m == "HEAD" && e.iter().any(|x| x == "GET"))),
    };
    path_covered && methods_covered
}

/// Whether `fallback` matches paths near `rule`'s (its path pattern is a prefix of `rule`'s, in
/// any case): requests that miss `rule` by method, case or a trailing slash may land on it.
fn catches_near_misses(fallback: &RouteMatch, rule: &RouteMatch) -> bool {
    match &fallback.path {
        PathMatch::Prefix(p) => pattern(rule).to_ascii_lowercase().starts_with(&p.to_ascii_lowercase()),
        PathMatch::Exact(p) => p.eq_ignore_ascii_case(pattern(rule)),
    }
}

/// Whether `fallback` demands strictly less than `rule`: nothing (public), or the same provider
/// with only some of `rule`'s scopes (none: authentication only). A fallback asking for other
/// scopes is a different rule, not a weaker one.
fn weaker(fallback: &Rule, rule: &Rule) -> bool {
    match (fallback.requires.as_slice(), rule.requires.as_slice()) {
        (_, []) => false,
        ([], _) => true,
        ([got], [needed]) => {
            got.provider_name == needed.provider_name
                && got.scopes.iter().all(|s| needed.scopes.contains(s))
                && got.scopes.len() < needed.scopes.len()
        }
        // Alternatives are not ordered by strength.
        _ => false,
    }
}
