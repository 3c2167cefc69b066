//! `edgeward report`'s logic: decision lines ([`crate::record`]) fed one by one, aggregated per
//! principal in bounded memory, judged against the policy; and the policy's permissions
//! inventory. Pure: the host reads the files and renders the [`Summary`].
//!
//! What the words mean:
//! - a **principal** is a token's `iss` and `sub` (its `client_id`s are shown with it); lines
//!   without `iss` (no token, or a refusal before the token verified) are counted apart;
//! - **granted**: every scope its tokens carried, on any line;
//! - **exercised**: the scopes required by the requirements that let it through (allowed lines'
//!   `required_scopes`): what it needed;
//! - **unused**: granted and never exercised; the recommendation is "reduce to" the exercised
//!   ones (nothing, when no scope was ever needed);
//! - a **wildcard grant** is a granted scope containing `*`;
//! - a token is **long-lived** when `exp - iat` is over [`LONG_LIVED_TOKEN_SECONDS`] (the
//!   policy's default bound); a principal whose every token with both dates was long-lived is
//!   listed as such. Its longest lifetime is shown against its provider's `max_lifetime_seconds`;
//! - a **refusal** is counted by code and by the scopes it lacked (`required_scopes` less
//!   `scopes`): "ERR_SCOPE_INSUFFICIENT, needed `write:orders`, 12 times".
//!
//! Bounds: at most [`Limits::max_principals`] principals (later ones' lines are counted, not
//! aggregated, and the summary says so), and per principal at most [`Limits::max_set`] scopes,
//! rules, client ids and refusal kinds, each name at most [`MAX_NAME_BYTES`] (longer ones are
//! cut and the principal marked `truncated`).

use crate::policy::{PathMatch, Policy};
use crate::record::{DecisionLine, MAX_LINE_BYTES, parse_time};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Tokens living longer than this (seconds, `exp - iat`) are long-lived: the policy's default
/// `max_lifetime_seconds`.
pub const LONG_LIVED_TOKEN_SECONDS: i64 = 3600;
/// Longest name (scope, rule, code, client id) kept; longer ones are cut at a character boundary.
pub const MAX_NAME_BYTES: usize = 256;
/// Longest `iss` or `sub` kept; a line with a longer one is skipped as malformed.
pub const MAX_PRINCIPAL_BYTES: usize = 1024;

/// How much a report keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Principals aggregated; lines of later ones are counted only.
    pub max_principals: usize,
    /// Entries of each per-principal set (granted, exercised, rules, client ids, refusal kinds).
    pub max_set: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_principals: 10_000, max_set: 64 }
    }
}

/// A bounded set of names: what does not fit is counted as left out.
#[derive(Debug, Clone, Default)]
struct Names {
    names: BTreeSet<String>,
    left_out: bool,
}

impl Names {
    fn insert(&mut self, name: &str, max: usize) {
        let name = cut(name);
        if self.names.contains(name) {
            return;
        }
        if self.names.len() >= max {
            self.left_out = true;
            return;
        }
        self.names.insert(name.to_owned());
    }
}

/// `name` cut to at most [`MAX_NAME_BYTES`] at a character boundary.
fn cut(name: &str) -> &str {
    if name.len() <= MAX_NAME_BYTES {
        return name;
    }
    let mut end = MAX_NAME_BYTES;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

/// A rule's use by one principal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RuleUse {
    /// Requests it let through.
    pub allowed: u64,
    /// Requests it refused.
    pub refused: u64,
}

#[derive(Debug, Clone, Default)]
struct Principal {
    iss: String,
    sub: String,
    provider: Option<String>,
    client_ids: Names,
    first_ms: i64,
    last_ms: i64,
    allowed: u64,
    refused: u64,
    rules: BTreeMap<String, RuleUse>,
    rules_left_out: bool,
    granted: Names,
    exercised: Names,
    wildcards: Names,
    /// (code, scopes lacked) → count.
    refusals: BTreeMap<(String, Vec<String>), u64>,
    refusals_left_out: u64,
    longest_lifetime: Option<i64>,
    shortest_lifetime: Option<i64>,
}

/// Lines fed, skipped and aggregated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Decision lines read.
    pub records: u64,
    /// Lines that are not decision lines (not JSON, no valid `time`, wrong types, an oversized `iss` or `sub`).
    pub skipped_malformed: u64,
    /// Lines over [`MAX_LINE_BYTES`].
    pub skipped_too_long: u64,
    /// Empty lines (not counted as skipped).
    pub blank: u64,
    /// Records of principals beyond [`Limits::max_principals`]: counted, not aggregated.
    pub beyond_principal_cap: u64,
}

/// The aggregation, fed one line at a time.
#[derive(Debug)]
pub struct Report {
    limits: Limits,
    /// Provider name → `max_lifetime_seconds`.
    bounds: HashMap<String, Option<u64>>,
    inventory: Inventory,
    counts: Counts,
    index: HashMap<String, usize>,
    principals: Vec<Principal>,
    key: String,
    /// Lines without `iss`: (rule, code or "allowed") → count.
    unidentified: BTreeMap<(String, String), u64>,
    unidentified_left_out: u64,
    first_ms: Option<i64>,
    last_ms: Option<i64>,
}

impl Report {
    /// An empty report judged against `policy`.
    pub fn new(policy: &Policy, limits: Limits) -> Report {
        Report {
            limits,
            bounds: policy.providers.iter().map(|p| (p.name.clone(), p.max_lifetime_seconds)).collect(),
            inventory: Inventory::of(policy),
            counts: Counts::default(),
            index: HashMap::new(),
            principals: Vec::new(),
            key: String::new(),
            unidentified: BTreeMap::new(),
            unidentified_left_out: 0,
            first_ms: None,
            last_ms: None,
        }
    }

    /// One line of a records file, without its newline (a trailing `\r` is ignored). Anything
    /// that is not a decision line is counted as skipped.
    pub fn feed_line(&mut self, line: &[u8]) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() > MAX_LINE_BYTES {
            self.counts.skipped_too_long += 1;
            return;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            self.counts.blank += 1;
            return;
        }
        let parsed = std::str::from_utf8(line).ok().and_then(DecisionLine::parse);
        match parsed {
            Some(record) => {
                if !self.feed(&record) {
                    self.counts.skipped_malformed += 1;
                }
            }
            None => self.counts.skipped_malformed += 1,
        }
    }

    /// A line the host did not read whole because it is over [`MAX_LINE_BYTES`].
    pub fn skip_too_long(&mut self) {
        self.counts.skipped_too_long += 1;
    }

    /// One parsed record; `false` (not counted) when its `time` is not a time, or its `iss` or
    /// `sub` is over [`MAX_PRINCIPAL_BYTES`].
    pub fn feed(&mut self, record: &DecisionLine<'_>) -> bool {
        let Some(time) = parse_time(&record.time) else { return false };
        let (iss, sub) = (record.iss.as_deref(), record.sub.as_deref().unwrap_or(""));
        if iss.is_some_and(|i| i.len() > MAX_PRINCIPAL_BYTES) || sub.len() > MAX_PRINCIPAL_BYTES {
            return false;
        }
        self.counts.records += 1;
        self.first_ms = Some(self.first_ms.map_or(time, |t| t.min(time)));
        self.last_ms = Some(self.last_ms.map_or(time, |t| t.max(time)));
        let rule = cut(record.rule.as_deref().unwrap_or("-"));
        let code = record.code.as_deref().map(cut);
        let Some(iss) = iss else {
            let key = (rule.to_owned(), code.unwrap_or("allowed").to_owned());
            if let Some(n) = self.unidentified.get_mut(&key) {
                *n += 1;
            } else if self.unidentified.len() < self.limits.max_set {
                self.unidentified.insert(key, 1);
            } else {
                self.unidentified_left_out += 1;
            }
            return true;
        };
        self.key.clear();
        self.key.push_str(iss);
        self.key.push('\0');
        self.key.push_str(sub);
        let index = match self.index.get(self.key.as_str()) {
            Some(index) => *index,
            None if self.principals.len() >= self.limits.max_principals => {
                self.counts.beyond_principal_cap += 1;
                return true;
            }
            None => {
                let index = self.principals.len();
                self.index.insert(self.key.clone(), index);
                let principal = Principal {
                    iss: iss.to_owned(),
                    sub: sub.to_owned(),
                    first_ms: time,
                    last_ms: time,
                    ..Principal::default()
                };
                self.principals.push(principal);
                index
            }
        };
        let max = self.limits.max_set;
        let Some(p) = self.principals.get_mut(index) else { return true };
        p.first_ms = p.first_ms.min(time);
        p.last_ms = p.last_ms.max(time);
        if p.provider.is_none() {
            p.provider = record.provider.as_deref().map(|s| cut(s).to_owned());
        }
        if let Some(client_id) = record.client_id.as_deref() {
            p.client_ids.insert(client_id, max);
        }
        let granted: Vec<&str> = record.scopes.as_deref().unwrap_or("").split_ascii_whitespace().collect();
        let required: Vec<&str> = record.required_scopes.as_deref().unwrap_or("").split_ascii_whitespace().collect();
        for scope in &granted {
            p.granted.insert(scope, max);
            if scope.contains('*') {
                p.wildcards.insert(scope, max);
            }
        }
        let rule_use = if let Some(used) = p.rules.get_mut(rule) {
            Some(used)
        } else if p.rules.len() < max {
            Some(p.rules.entry(rule.to_owned()).or_default())
        } else {
            p.rules_left_out = true;
            None
        };
        match code {
            None => {
                p.allowed += 1;
                if let Some(used) = rule_use {
                    used.allowed += 1;
                }
                for scope in &required {
                    p.exercised.insert(scope, max);
                }
            }
            Some(code) => {
                p.refused += 1;
                if let Some(used) = rule_use {
                    used.refused += 1;
                }
                let lacked: Vec<String> =
                    required.iter().filter(|r| !granted.contains(r)).map(|r| cut(r).to_owned()).collect();
                let key = (code.to_owned(), lacked);
                if let Some(n) = p.refusals.get_mut(&key) {
                    *n += 1;
                } else if p.refusals.len() < max {
                    p.refusals.insert(key, 1);
                } else {
                    p.refusals_left_out += 1;
                }
            }
        }
        let seconds = |s: Option<&str>| s.and_then(|s| s.parse::<i64>().ok());
        if let (Some(iat), Some(exp)) = (seconds(record.iat.as_deref()), seconds(record.exp.as_deref())) {
            let lifetime = exp.saturating_sub(iat);
            p.longest_lifetime = Some(p.longest_lifetime.map_or(lifetime, |l| l.max(lifetime)));
            p.shortest_lifetime = Some(p.shortest_lifetime.map_or(lifetime, |l| l.min(lifetime)));
        }
        true
    }

    /// The counts so far.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// What the lines said, judged: principals by requests (most first), then by `iss` and `sub`.
    pub fn summary(&self) -> Summary {
        let mut principals: Vec<PrincipalSummary> = self.principals.iter().map(|p| self.judge(p)).collect();
        principals.sort_by(|a, b| {
            (b.allowed + b.refused).cmp(&(a.allowed + a.refused)).then_with(|| (&a.iss, &a.sub).cmp(&(&b.iss, &b.sub)))
        });
        let only_long_lived = principals.iter().filter(|p| p.only_long_lived).map(PrincipalSummary::name).collect();
        let unidentified = self
            .unidentified
            .iter()
            .map(|((rule, code), count)| Unidentified { rule: rule.clone(), code: code.clone(), count: *count })
            .collect();
        Summary {
            counts: self.counts,
            first_seen: self.first_ms.map(crate::record::format_time),
            last_seen: self.last_ms.map(crate::record::format_time),
            max_principals: self.limits.max_principals,
            principals_capped: self.counts.beyond_principal_cap > 0,
            long_lived_seconds: LONG_LIVED_TOKEN_SECONDS,
            principals,
            only_long_lived,
            unidentified,
            unidentified_left_out: self.unidentified_left_out,
            inventory: self.inventory.clone(),
        }
    }

    fn judge(&self, p: &Principal) -> PrincipalSummary {
        let granted: Vec<String> = p.granted.names.iter().cloned().collect();
        let exercised: Vec<String> = p.exercised.names.iter().cloned().collect();
        let unused: Vec<String> = granted.iter().filter(|g| !p.exercised.names.contains(*g)).cloned().collect();
        // Only when every granted scope was seen can "reduce to" be trusted to drop nothing needed.
        let reduce_to = (!unused.is_empty()).then(|| exercised.clone());
        let recommendation = reduce_to.as_ref().map(|keep| match keep.is_empty() {
            true => "reduce to no scopes".to_owned(),
            false => format!("reduce to {}", keep.join(" ")),
        });
        let bound = p.provider.as_ref().and_then(|name| self.bounds.get(name).copied()).flatten();
        let refusals = p
            .refusals
            .iter()
            .map(|((code, needed), count)| Refusal { code: code.clone(), needed: needed.clone(), count: *count })
            .collect();
        PrincipalSummary {
            iss: p.iss.clone(),
            sub: p.sub.clone(),
            client_ids: p.client_ids.names.iter().cloned().collect(),
            provider: p.provider.clone(),
            first_seen: crate::record::format_time(p.first_ms),
            last_seen: crate::record::format_time(p.last_ms),
            allowed: p.allowed,
            refused: p.refused,
            rules: p.rules.iter().map(|(rule, used)| (rule.clone(), *used)).collect(),
            granted,
            exercised,
            unused,
            reduce_to,
            recommendation,
            wildcards: p.wildcards.names.iter().cloned().collect(),
            longest_lifetime_seconds: p.longest_lifetime,
            lifetime_bound_seconds: bound,
            only_long_lived: p.shortest_lifetime.is_some_and(|s| s > LONG_LIVED_TOKEN_SECONDS),
            refusals,
            truncated: p.client_ids.left_out
                || p.granted.left_out
                || p.exercised.left_out
                || p.wildcards.left_out
                || p.rules_left_out
                || p.refusals_left_out > 0,
        }
    }
}

/// The report: counts, principals judged, lines without a principal, the permissions inventory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Lines read and skipped.
    pub counts: Counts,
    /// The earliest record's time.
    pub first_seen: Option<String>,
    /// The latest record's time.
    pub last_seen: Option<String>,
    /// The principal cap.
    pub max_principals: usize,
    /// Whether principals were left out (their lines are in `counts.beyond_principal_cap`).
    pub principals_capped: bool,
    /// Over how many seconds of lifetime a token is long-lived.
    pub long_lived_seconds: i64,
    /// Per principal, most requests first.
    pub principals: Vec<PrincipalSummary>,
    /// Principals that only ever used long-lived tokens (`iss sub`).
    pub only_long_lived: Vec<String>,
    /// Lines without a principal, by rule and code (`allowed` for public routes).
    pub unidentified: Vec<Unidentified>,
    /// Such lines beyond the cap of kinds.
    pub unidentified_left_out: u64,
    /// The policy's permissions.
    pub inventory: Inventory,
}

/// One principal, judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrincipalSummary {
    /// Its tokens' `iss`.
    pub iss: String,
    /// Their `sub` (empty when they had none).
    pub sub: String,
    /// Their `client_id`s (else `azp`).
    pub client_ids: Vec<String>,
    /// The provider that verified them (first seen).
    pub provider: Option<String>,
    /// Its first request.
    pub first_seen: String,
    /// Its last request.
    pub last_seen: String,
    /// Requests let through.
    pub allowed: u64,
    /// Requests refused.
    pub refused: u64,
    /// Per rule, its uses.
    pub rules: BTreeMap<String, RuleUse>,
    /// Every scope its tokens carried.
    pub granted: Vec<String>,
    /// The scopes the rules that let it through required.
    pub exercised: Vec<String>,
    /// Granted, never exercised.
    pub unused: Vec<String>,
    /// What its grant could be reduced to (when some scopes were unused).
    pub reduce_to: Option<Vec<String>>,
    /// "reduce to …".
    pub recommendation: Option<String>,
    /// Granted scopes containing `*`.
    pub wildcards: Vec<String>,
    /// The longest `exp - iat` seen.
    pub longest_lifetime_seconds: Option<i64>,
    /// Its provider's `max_lifetime_seconds` (`None`: no bound, or provider unknown to the policy).
    pub lifetime_bound_seconds: Option<u64>,
    /// Whether every token with both dates lived longer than [`LONG_LIVED_TOKEN_SECONDS`].
    pub only_long_lived: bool,
    /// Refusals by code and lacked scopes.
    pub refusals: Vec<Refusal>,
    /// Whether a per-principal bound left something out.
    pub truncated: bool,
}

impl PrincipalSummary {
    /// `iss sub`, how the report names it.
    pub fn name(&self) -> String {
        format!("{} {}", self.iss, self.sub)
    }
}

/// Refusals of one kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// The code.
    pub code: String,
    /// The required scopes its token lacked.
    pub needed: Vec<String>,
    /// How often.
    pub count: u64,
}

/// Lines without a principal of one kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unidentified {
    /// The rule (`-`: none matched).
    pub rule: String,
    /// The code, or `allowed`.
    pub code: String,
    /// How often.
    pub count: u64,
}

/// What the policy lets through, rule by rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inventory {
    /// Every rule, in order.
    pub rules: Vec<RulePermissions>,
    /// The rules that need no token (names).
    pub public_routes: Vec<String>,
}

/// One rule's permissions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RulePermissions {
    /// Its name, else its index (as decision records name it).
    pub rule: String,
    /// `prefix /orders` or `exact /health`.
    pub path: String,
    /// Methods matched (`None`: any).
    pub methods: Option<Vec<String>>,
    /// No requirement: public.
    pub public: bool,
    /// The alternatives, any one of which admits a request.
    pub admits: Vec<Admission>,
}

/// One requirement: whose tokens, with which scopes, for which identities.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Admission {
    /// The provider.
    pub provider: String,
    /// Its issuer.
    pub issuer: Option<String>,
    /// Scopes needed, all of them.
    pub scopes: Vec<String>,
    /// Claim conditions: the claim and the values admitted.
    pub claims: Vec<(String, Vec<Value>)>,
    /// Client certificate URI SANs admitted (empty: any).
    pub peers: Vec<String>,
    /// A request without this provider's token passes.
    pub allow_missing: bool,
}

impl Inventory {
    /// The permissions `policy` grants.
    pub fn of(policy: &Policy) -> Inventory {
        let rules: Vec<RulePermissions> = policy
            .rules
            .iter()
            .enumerate()
            .map(|(index, rule)| RulePermissions {
                rule: rule.name.clone().unwrap_or_else(|| index.to_string()),
                path: match &rule.matcher.path {
                    PathMatch::Prefix(p) => format!("prefix {p}"),
                    PathMatch::Exact(p) => format!("exact {p}"),
                },
                methods: rule.matcher.methods.clone(),
                public: rule.requires.is_empty(),
                admits: rule
                    .requires
                    .iter()
                    .map(|r| Admission {
                        provider: r.provider_name.clone(),
                        issuer: policy.provider(&r.provider_name).map(|p| p.issuer.clone()),
                        scopes: r.scopes.clone(),
                        claims: r.claims.iter().map(|c| (c.claim.clone(), c.values.clone())).collect(),
                        peers: r.peers.clone(),
                        allow_missing: r.allow_missing,
                    })
                    .collect(),
            })
            .collect();
        let public_routes = rules.iter().filter(|r| r.public).map(|r| r.rule.clone()).collect();
        Inventory { rules, public_routes }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy::from_json(
            r#"{
              "providers": {
                "idp": { "issuer": "https://idp", "audiences": ["api"], "remote_jwks": { "uri": "https://idp/jwks" } },
                "long": { "issuer": "https://long", "audiences": ["api"], "remote_jwks": { "uri": "https://idp/jwks" },
                          "max_lifetime_seconds": 86400 }
              },
              "rules": [
                { "match": { "path": "/health" } },
                { "name": "orders-read", "match": { "prefix": "/orders", "methods": ["GET"] },
                  "requires": { "provider_name": "idp", "scopes": ["read:orders"],
                                "claims": { "client_id": ["billing-bot"] } } },
                { "name": "orders-write", "match": { "prefix": "/orders" },
                  "requires_any": [ { "provider_name": "idp", "scopes": ["write:orders"] },
                                    { "provider_name": "long", "peers": ["spiffe://x/bot"] } ] }
              ]
            }"#,
        )
        .expect("policy")
    }

    fn line(fields: &str) -> String {
        format!(r#"{{"time":"2025-01-02T03:04:05.000Z",{fields}}}"#)
    }

    const BOT: &str = r#""provider":"idp","iss":"https://idp","sub":"bot-1","client_id":"billing-bot""#;

    fn feed(report: &mut Report, lines: &[String]) {
        for l in lines {
            report.feed_line(l.as_bytes());
        }
    }

    #[test]
    fn exercised_unused_and_reduce_to() {
        let mut report = Report::new(&policy(), Limits::default());
        let allowed = line(&format!(
            r#"{BOT},"rule":"orders-read","scopes":"read:orders write:orders admin:*","required_scopes":"read:orders","iat":"100","exp":"400","status":200"#
        ));
        let refused = line(&format!(
            r#"{BOT},"rule":"orders-write","scopes":"read:orders","required_scopes":"write:orders","code":"ERR_SCOPE_INSUFFICIENT","iat":"100","exp":"400","status":403"#
        ));
        feed(&mut report, &[allowed.clone(), allowed, refused.clone(), refused.clone(), refused]);
        let summary = report.summary();
        let [p] = summary.principals.as_slice() else { panic!("one principal") };
        assert_eq!(p.name(), "https://idp bot-1");
        assert_eq!((p.allowed, p.refused), (2, 3));
        assert_eq!(p.client_ids, ["billing-bot"]);
        assert_eq!(p.granted, ["admin:*", "read:orders", "write:orders"]);
        assert_eq!(p.exercised, ["read:orders"]);
        assert_eq!(p.unused, ["admin:*", "write:orders"]);
        assert_eq!(p.recommendation.as_deref(), Some("reduce to read:orders"));
        assert_eq!(p.wildcards, ["admin:*"]);
        assert_eq!(p.rules["orders-read"], RuleUse { allowed: 2, refused: 0 });
        assert_eq!(p.rules["orders-write"], RuleUse { allowed: 0, refused: 3 });
        assert_eq!(
            p.refusals,
            [Refusal { code: "ERR_SCOPE_INSUFFICIENT".into(), needed: vec!["write:orders".into()], count: 3 }]
        );
        assert_eq!((p.longest_lifetime_seconds, p.lifetime_bound_seconds), (Some(300), Some(3600)));
        assert!(!p.only_long_lived && summary.only_long_lived.is_empty());
        assert!(!p.truncated && !summary.principals_capped);
    }

    #[test]
    fn first_and_last_seen_long_lived_and_no_scope_needed() {
        let mut report = Report::new(&policy(), Limits::default());
        let at = |time: &str| {
            format!(
                r#"{{"time":"{time}","provider":"long","iss":"https://long","sub":"batch","rule":"orders-write","scopes":"write:orders","iat":"0","exp":"7200","status":200}}"#
            )
        };
        feed(
            &mut report,
            &[at("2025-01-02T10:00:00.000Z"), at("2025-01-01T10:00:00.000Z"), at("2025-01-03T10:00:00Z")],
        );
        let summary = report.summary();
        let p = &summary.principals[0];
        assert_eq!(
            (p.first_seen.as_str(), p.last_seen.as_str()),
            ("2025-01-01T10:00:00.000Z", "2025-01-03T10:00:00.000Z")
        );
        assert_eq!(p.recommendation.as_deref(), Some("reduce to no scopes"), "the peer rule needs no scope");
        assert_eq!((p.longest_lifetime_seconds, p.lifetime_bound_seconds), (Some(7200), Some(86_400)));
        assert!(p.only_long_lived);
        assert_eq!(summary.only_long_lived, ["https://long batch"]);
    }

    #[test]
    fn lines_without_a_principal_and_bad_lines() {
        let mut report = Report::new(&policy(), Limits::default());
        let missing =
            line(r#""rule":"orders-read","required_scopes":"read:orders","code":"ERR_JWT_MISSING","status":401"#);
        let public = line(r#""rule":"0","method":"GET","path":"/health","status":200"#);
        let huge = vec![b'x'; MAX_LINE_BYTES + 1];
        report.feed_line(missing.as_bytes());
        report.feed_line(missing.as_bytes());
        report.feed_line(public.as_bytes());
        for bad in [&b"not json"[..], b"{}", br#"{"time":"yesterday"}"#, b"[1,2]", b"\xff\xfe", &huge] {
            report.feed_line(bad);
        }
        report.feed_line(b"");
        let long_iss = line(&format!(r#""iss":"{}","status":200"#, "i".repeat(MAX_PRINCIPAL_BYTES + 1)));
        report.feed_line(long_iss.as_bytes());
        let counts = report.counts();
        assert_eq!((counts.records, counts.skipped_malformed, counts.skipped_too_long, counts.blank), (3, 6, 1, 1));
        let summary = report.summary();
        assert!(summary.principals.is_empty());
        assert_eq!(
            summary.unidentified,
            [
                Unidentified { rule: "0".into(), code: "allowed".into(), count: 1 },
                Unidentified { rule: "orders-read".into(), code: "ERR_JWT_MISSING".into(), count: 2 },
            ]
        );
    }

    #[test]
    fn bounded_principals_and_sets() {
        let mut report = Report::new(&policy(), Limits { max_principals: 2, max_set: 3 });
        for i in 0..5 {
            report.feed_line(line(&format!(r#""iss":"https://idp","sub":"bot-{i}","status":200"#)).as_bytes());
        }
        let scopes: Vec<String> = (0..10).map(|i| format!("s{i}")).collect();
        let wide = line(&format!(r#""iss":"https://idp","sub":"bot-0","scopes":"{}","status":200"#, scopes.join(" ")));
        report.feed_line(wide.as_bytes());
        let long_scope =
            line(&format!(r#""iss":"https://idp","sub":"bot-1","scopes":"{}","status":200"#, "é".repeat(200)));
        report.feed_line(long_scope.as_bytes());
        let summary = report.summary();
        assert_eq!(summary.principals.len(), 2);
        assert!(summary.principals_capped);
        assert_eq!(summary.counts.beyond_principal_cap, 3);
        let bot0 = summary.principals.iter().find(|p| p.sub == "bot-0").expect("bot-0");
        assert_eq!(bot0.granted.len(), 3);
        assert!(bot0.truncated);
        let bot1 = summary.principals.iter().find(|p| p.sub == "bot-1").expect("bot-1");
        assert!(bot1.granted[0].len() <= MAX_NAME_BYTES && bot1.granted[0].starts_with('é'));
    }

    #[test]
    fn the_permissions_inventory() {
        let inventory = Inventory::of(&policy());
        assert_eq!(inventory.public_routes, ["0"]);
        let read = &inventory.rules[1];
        assert_eq!((read.rule.as_str(), read.path.as_str()), ("orders-read", "prefix /orders"));
        assert_eq!(read.methods.as_deref(), Some(&["GET".to_owned()][..]));
        assert_eq!(read.admits[0].scopes, ["read:orders"]);
        assert_eq!(read.admits[0].claims, [("client_id".to_owned(), vec![Value::from("billing-bot")])]);
        let write = &inventory.rules[2];
        assert_eq!(write.admits.len(), 2);
        assert_eq!(write.admits[1].peers, ["spiffe://x/bot"]);
        assert_eq!(write.admits[1].issuer.as_deref(), Some("https://long"));
    }

    #[test]
    fn the_core_line_feeds_the_report() {
        let policy = policy();
        let mut verifier = crate::Verifier::new(policy.clone());
        let decision = verifier.decide_token("GET", "/nowhere", None, 0);
        let text = decision.record(&policy).json_line(1000, "GET", "/nowhere?q");
        let mut report = Report::new(&policy, Limits::default());
        report.feed_line(text.as_bytes());
        assert_eq!(report.counts().records, 1);
        assert_eq!(report.summary().unidentified[0].code, "ERR_ROUTE_DENIED");
    }
}
