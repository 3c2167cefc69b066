//! What `edgeward check` reports about a policy that loads: rules and alternatives that can never
//! decide a request, and choices that weaken the rules (wildcard scopes, no lifetime bound, a public
//! catch-all, a weaker fallback behind a protected rule, optional tokens on a route that forwards
//! claims, a provider no rule uses); with an example token, the claims the policy relies on that
//! the token does not carry.

use crate::error::{ClaimFailure, Error};
use crate::policy::{PathMatch, Policy, Provider, Requirement, RouteMatch, Rule, claim_at};
use crate::token::UnverifiedToken;
use serde::Serialize;

/// One finding about a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// A stable name: `shadowed-rule`, `public-catch-all`, `unreachable-alternative`,
    /// `allow-missing-forwards-claims`, `weaker-fallback`, `wildcard-scopes-allowed`,
    /// `no-lifetime-bound`, `long-lived-tokens`, `unused-provider` ([`Policy::lint`]), and
    /// `claim-never-carried` ([`Policy::lint_example`]).
    pub kind: &'static str,
    /// The field it is about (`rules[2]`, `rules[0].requires_any[1]`,
    /// `providers.corp-idp.max_lifetime_seconds`).
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

    /// Findings about this policy, in the order of its fields (docs/policy.md, "Checking a
    /// policy"). Two are about a rule's requirements (of rules some request reaches):
    ///
    /// - `unreachable-alternative` (`rules[j].requires_any[k]`): alternative `k` never lets a request
    ///   through that an earlier one would not. Alternatives are tried in order and the first that
    ///   passes decides; a token is found by its provider's `from_headers` and verified the same way
    ///   for every alternative of that provider. So `k` is unreachable when both hold: an earlier
    ///   alternative of the same provider admits every token `k` admits (its scopes are among `k`'s,
    ///   and each of its claim conditions is one of `k`'s on the same claim, with all of `k`'s values
    ///   among its own; a repeat is one case), and `k` has no `allow_missing`, or an earlier
    ///   `allow_missing` alternative finds no token in every request where `k`'s provider finds none
    ///   (its provider reads only headers, with their prefixes, that `k`'s provider reads too: the
    ///   same provider, or one reading the same headers). An earlier `allow_missing` alternative
    ///   does not make the later ones unreachable: a request whose token is there but fails it goes
    ///   on to them. It only makes their own `allow_missing` moot, reported at
    ///   `rules[j].requires_any[k].allow_missing` with the same kind when the rest of `k` is live.
    ///   Alternatives of other providers are never compared (other keys, other tokens).
    /// - `allow-missing-forwards-claims` (`….allow_missing`): a requirement whose `allow_missing`
    ///   takes effect, on a rule one of whose alternatives that can grant is of a provider with
    ///   `claim_to_headers`: the upstream gets the route's requests both with and without those
    ///   headers.
    pub fn lint(&self) -> Vec<Finding> {
        let mut findings = Vec::new();
        let mut add = |kind, path: String, message: String| findings.push(Finding { kind, path, message });
        let shadowing = self.shadowing();
        let shadowed: Vec<bool> = shadowing.iter().map(Option::is_some).collect();
        for (j, later) in self.rules.iter().enumerate() {
            if let Some(i) = shadowing[j] {
                add(
                    "shadowed-rule",
                    format!("rules[{j}]"),
                    format!("never matches: rules[{i}] matches every request it would"),
                );
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
            for Finding { kind, path, message } in self.requirement_findings(j, later) {
                add(kind, path, message);
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

impl Policy {
    /// For each rule, the first earlier rule that matches every request it would (so it never
    /// decides one), if any.
    fn shadowing(&self) -> Vec<Option<usize>> {
        (0..self.rules.len())
            .map(|j| self.rules[..j].iter().position(|earlier| covers(&earlier.matcher, &self.rules[j].matcher)))
            .collect()
    }

    /// Which of a rule's alternatives can decide a request, and which `allow_missing` can take
    /// effect ([`Policy::lint`]'s `unreachable-alternative`).
    fn reach(&self, rule: &Rule) -> Vec<Reach> {
        let alternatives = &rule.requires;
        alternatives
            .iter()
            .enumerate()
            .map(|(k, later)| {
                let earlier = &alternatives[..k];
                // With a token: the same provider reads the same token and verifies it the same way,
                // so an earlier alternative asking no more admits every token this one would.
                let token_case = earlier
                    .iter()
                    .position(|e| e.provider_name == later.provider_name && admits_every_token_of(e, later));
                // Without this provider's token: an earlier `allow_missing` alternative whose provider
                // finds no token either (it reads only headers this one reads) lets the request through.
                let missing_case = earlier.iter().position(|e| {
                    e.allow_missing
                        && match (self.provider(&e.provider_name), self.provider(&later.provider_name)) {
                            (Some(e), Some(l)) => token_found_implies(e, l),
                            _ => false,
                        }
                });
                match (token_case, missing_case) {
                    (Some(by), missing) if !later.allow_missing || missing.is_some() => {
                        Reach::Never { by, missing: missing.filter(|_| later.allow_missing) }
                    }
                    (None, Some(by)) if later.allow_missing => Reach::MissingMoot { by },
                    _ => Reach::Live,
                }
            })
            .collect()
    }

    /// The `unreachable-alternative` and `allow-missing-forwards-claims` findings of rule `j` (one
    /// that some request reaches).
    fn requirement_findings(&self, j: usize, rule: &Rule) -> Vec<Finding> {
        let reach = self.reach(rule);
        // The claim headers requests on this route may carry: those of the providers of the
        // alternatives that can grant.
        let mut headers: Vec<&str> = Vec::new();
        for (requirement, _) in rule.requires.iter().zip(&reach).filter(|(_, r)| !matches!(r, Reach::Never { .. })) {
            for mapping in self.provider(&requirement.provider_name).map_or(&[][..], |p| &p.claim_to_headers) {
                if !headers.contains(&mapping.header_name.as_str()) {
                    headers.push(&mapping.header_name);
                }
            }
        }
        let mut findings = Vec::new();
        for (k, (requirement, state)) in rule.requires.iter().zip(&reach).enumerate() {
            let at = requirement_path(j, rule, k);
            let (kind, path, message) = match *state {
                Reach::Never { by, missing } => {
                    let same = rule.requires.get(by).is_some_and(|e| same_requirement(e, requirement));
                    let message = match missing {
                        _ if same => {
                            format!("never decides a request: it repeats requires_any[{by}], which is tried first")
                        }
                        Some(m) if m != by => format!(
                            "never decides a request: requires_any[{by}] is tried first and admits every token it \
                             would (same provider; its scopes and claim conditions are all among this one's), and \
                             requires_any[{m}] already lets requests without its token through"
                        ),
                        _ => format!(
                            "never decides a request: requires_any[{by}] is tried first and admits every token it \
                             would (same provider; its scopes and claim conditions are all among this one's)"
                        ),
                    };
                    ("unreachable-alternative", at, message)
                }
                Reach::MissingMoot { by } => (
                    "unreachable-alternative",
                    format!("{at}.allow_missing"),
                    format!(
                        "never takes effect: requires_any[{by}] is tried first and already lets every request \
                         without this provider's token through, so only requests with a token reach this alternative"
                    ),
                ),
                Reach::Live if requirement.allow_missing && !headers.is_empty() => (
                    "allow-missing-forwards-claims",
                    format!("{at}.allow_missing"),
                    format!(
                        "lets requests without a token through, so the upstream gets this route's requests with \
                         and without the claim headers ({}): it must read a missing one as an anonymous caller \
                         (edgeward removes client copies on every route, so one that is there comes from a verified \
                         token)",
                        headers.join(", ")
                    ),
                ),
                Reach::Live => continue,
            };
            findings.push(Finding { kind, path, message });
        }
        findings
    }

    /// What an example token of one of this policy's providers shows: each claim the policy relies
    /// on for that provider that the token does not carry (`claim-never-carried`). The claim
    /// conditions (`requires.claims`) of the rules that can decide a request, on the alternatives
    /// that can, and the provider's `claim_to_headers`: tokens like the example are refused by such
    /// a condition (`ERR_PRINCIPAL_DENIED`), and get no such header. The provider is the one whose
    /// `issuer` is the token's `iss` (every one, if several are). The token is decoded as strictly as
    /// for verification ([`UnverifiedToken::parse`], `max_token_bytes`) but not verified: its
    /// signature, keys, audience and times are not looked at. Findings name claims and fields,
    /// never the token or a claim's value.
    ///
    /// These findings come in addition to [`Policy::lint`]'s. An error when the token does not
    /// decode (its code, as for verification), has no `iss`, or no provider's `issuer` is its `iss`
    /// (`ERR_JWT_CLAIM_VALIDATION_FAILED` for `iss`, naming the issuers the policy has).
    pub fn lint_example(&self, token: &str) -> Result<Vec<Finding>, Error> {
        let token = UnverifiedToken::parse(token, self.max_token_bytes)?;
        let Some(iss) = token.registered.iss.as_deref() else {
            return Err(Error::claim_error("iss", ClaimFailure::Missing));
        };
        let providers: Vec<&Provider> = self.providers.iter().filter(|p| p.issuer == iss).collect();
        if providers.is_empty() {
            let issuers: Vec<&String> = self.providers.iter().map(|p| &p.issuer).collect();
            let list = crate::claims::quoted(&issuers);
            let expected = if issuers.len() == 1 { list } else { format!("one of {list}") };
            return Err(Error::claim_mismatch("iss", expected));
        }
        let carried = |claim: &str| claim_at(&token.claims, claim).is_some();
        let mut findings = Vec::new();
        let shadowing = self.shadowing();
        for (j, rule) in self.rules.iter().enumerate().filter(|(j, _)| shadowing[*j].is_none()) {
            let reach = self.reach(rule);
            for (k, requirement) in rule.requires.iter().enumerate() {
                if matches!(reach[k], Reach::Never { .. })
                    || !providers.iter().any(|p| p.name == requirement.provider_name)
                {
                    continue;
                }
                for condition in requirement.claims.iter().filter(|c| !carried(&c.claim)) {
                    findings.push(Finding {
                        kind: "claim-never-carried",
                        path: format!("{}.claims.{}", requirement_path(j, rule, k), condition.claim),
                        message: format!(
                            "the example token of providers.{} has no `{}` claim: tokens like it are refused here \
                             (ERR_PRINCIPAL_DENIED)",
                            requirement.provider_name, condition.claim
                        ),
                    });
                }
            }
        }
        for provider in providers {
            for (i, mapping) in provider.claim_to_headers.iter().enumerate().filter(|(_, m)| !carried(&m.claim_name)) {
                findings.push(Finding {
                    kind: "claim-never-carried",
                    path: format!("providers.{}.claim_to_headers[{i}].claim_name", provider.name),
                    message: format!(
                        "the example token has no `{}` claim: requests with tokens like it reach the upstream \
                         without the {} header",
                        mapping.claim_name, mapping.header_name
                    ),
                });
            }
        }
        Ok(findings)
    }
}

/// Whether an alternative of a rule can decide a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// Some request can be let through by it.
    Live,
    /// Never: alternative `by` (tried first) admits every token it would, and it has no
    /// `allow_missing`, or alternative `missing` (tried first) already lets requests without its
    /// token through.
    Never { by: usize, missing: Option<usize> },
    /// Only with a token: its `allow_missing` never takes effect, because alternative `by` (tried
    /// first, `allow_missing`) already lets every request without this provider's token through.
    MissingMoot { by: usize },
}

/// `rules[j].requires` or `rules[j].requires_any[k]`, as the document wrote it.
fn requirement_path(j: usize, rule: &Rule, k: usize) -> String {
    if rule.requires_any { format!("rules[{j}].requires_any[{k}]") } else { format!("rules[{j}].requires") }
}

/// Whether `earlier` (of the same provider) admits every verified token `later` admits: it asks
/// for no scope `later` does not, each of its claim conditions is also one of `later`'s, with
/// only values it admits (so a claim `later` admits passes `earlier` too), and it admits every
/// peer `later` does (no `peers`, or `later`'s among them).
fn admits_every_token_of(earlier: &Requirement, later: &Requirement) -> bool {
    let peers =
        earlier.peers.is_empty() || (!later.peers.is_empty() && later.peers.iter().all(|p| earlier.peers.contains(p)));
    peers
        && earlier.scopes.iter().all(|s| later.scopes.contains(s))
        && earlier
            .claims
            .iter()
            .all(|e| later.claims.iter().any(|l| l.claim == e.claim && l.values.iter().all(|v| e.values.contains(v))))
}

/// The same requirement written twice (scopes and values in any order).
fn same_requirement(a: &Requirement, b: &Requirement) -> bool {
    a.provider_name == b.provider_name
        && a.allow_missing == b.allow_missing
        && admits_every_token_of(a, b)
        && admits_every_token_of(b, a)
}

/// Whether `later` finds a token in every request `earlier` finds one in: each of `earlier`'s
/// sources is also one of `later`'s (the same header, with the same prefix or none).
fn token_found_implies(earlier: &Provider, later: &Provider) -> bool {
    earlier.from_headers.iter().all(|e| {
        later.from_headers.iter().any(|l| {
            l.name == e.name
                && match (&l.value_prefix, &e.value_prefix) {
                    (None, _) => true,
                    (Some(l), Some(e)) => l.eq_ignore_ascii_case(e),
                    (Some(_), None) => false,
                }
        })
    })
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
                && got.peers.is_empty()
                && got.scopes.iter().all(|s| needed.scopes.contains(s))
                && got.scopes.len() < needed.scopes.len()
        }
        // Alternatives are not ordered by strength.
        _ => false,
    }
}
