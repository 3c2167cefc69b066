//! The three forms of a scan's report: a table for people, JSON lines for programs, SARIF 2.1.0
//! for code-scanning dashboards. None holds a token: only its redacted form and fingerprint.

use super::{Report, Stats};
use edgeward::audit::{Severity, TokenAudit, TokenKind, date, duration};
use serde_json::{Value, json};

/// Every finding kind, its severity, and what it means (SARIF rules, `--help`).
pub const KINDS: [(&str, Severity, &str); 11] = [
    ("alg-none", Severity::Critical, "An unsecured token (alg none): anyone can make one like it."),
    ("accepted", Severity::Critical, "The given policy accepts the token now: a working credential."),
    ("still-valid", Severity::High, "The token has not expired: anyone who reads it can use it."),
    ("no-exp", Severity::High, "The token has no exp claim: it never expires."),
    (
        "embedded-key",
        Severity::High,
        "The header carries a key or a key URL (jwk, jku, x5u, x5c): a verifier trusting it accepts forgeries.",
    ),
    ("long-lived", Severity::Medium, "The token's lifetime is over the bound (--max-lifetime)."),
    ("wildcard-scope", Severity::Medium, "The token grants wildcard (*) scopes."),
    ("hmac", Severity::Medium, "A shared secret (HS256/384/512) signs the token: every verifier can mint tokens."),
    ("encrypted", Severity::Medium, "An encrypted token (JWE): its lifetime and scopes cannot be judged."),
    ("unparsed", Severity::Medium, "edgeward's strict decoder refuses its header or claims: its lifetime is unknown."),
    ("token", Severity::Low, "A token, with nothing worse found about it."),
];

/// A rule's stable, opaque id: `EW` and its place in [`KINDS`] (new kinds go last).
fn rule_id(index: usize) -> String {
    format!("EW{:03}", index + 1)
}

fn rules() -> impl Iterator<Item = &'static (&'static str, Severity, &'static str)> {
    KINDS.iter()
}

/// `path:line:column`, with the commit first for a blob of the history.
pub fn location(report: &Report) -> String {
    let l = &report.location;
    match &l.commit {
        Some(commit) => format!("{}:{}:{}:{}", &commit[..commit.len().min(12)], l.path, l.line, l.column),
        None => format!("{}:{}:{}", l.path, l.line, l.column),
    }
}

fn or_dash(value: Option<&str>) -> String {
    value.filter(|v| !v.is_empty()).unwrap_or("-").to_owned()
}

fn cell(text: String) -> String {
    const MAX: usize = 40;
    if text.chars().count() <= MAX {
        return text;
    }
    let mut cut: String = text.chars().take(MAX - 1).collect();
    cut.push('…');
    cut
}

fn kind_and_alg(audit: &TokenAudit) -> String {
    match (audit.kind, &audit.enc) {
        (TokenKind::Jwe, Some(enc)) => format!("JWE {}/{enc}", audit.alg),
        (TokenKind::Jwe, None) => format!("JWE {}", audit.alg),
        (TokenKind::Jws, _) => audit.alg.clone(),
    }
}

/// The table: one row per token, then a summary line.
pub fn table(reports: &[Report], stats: &Stats) -> String {
    let header = [
        "SEVERITY",
        "LOCATION",
        "TOKEN",
        "ALG",
        "KID",
        "ISS",
        "SUB/CLIENT",
        "AUD",
        "SCOPES",
        "IAT",
        "EXP",
        "LIFETIME",
        "FINDINGS",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| (*h).to_owned()).collect()];
    for report in reports {
        let a = &report.audit;
        let time = |t: Option<i64>| t.map_or_else(|| "-".to_owned(), date);
        let findings: Vec<&str> = a.findings.iter().map(|f| f.kind).collect();
        let policy = a.policy.as_ref().map(|p| {
            if p.accepted {
                String::new()
            } else if p.signature_verifies {
                format!(" (policy: signature ok, {})", p.refusal.unwrap_or("refused"))
            } else {
                format!(" (policy: {})", p.refusal.unwrap_or("refused"))
            }
        });
        rows.push(vec![
            a.severity().name().to_owned(),
            location(report),
            a.redacted.clone(),
            cell(kind_and_alg(a)),
            cell(or_dash(a.kid.as_deref())),
            cell(or_dash(a.iss.as_deref())),
            cell(or_dash(a.sub.as_deref().or(a.client_id.as_deref()))),
            cell(or_dash(Some(&a.aud.join(",")))),
            cell(or_dash(Some(&a.scopes.join(" ")))),
            time(a.iat),
            time(a.exp),
            a.lifetime_seconds.map_or_else(|| "-".to_owned(), duration),
            format!(
                "{}{}",
                if findings.is_empty() { "-".to_owned() } else { findings.join(",") },
                policy.unwrap_or_default()
            ),
        ]);
    }
    let columns = header.len();
    let widths: Vec<usize> =
        (0..columns).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    if !reports.is_empty() {
        for row in &rows {
            let mut line = String::new();
            for (c, value) in row.iter().enumerate() {
                if c + 1 == columns {
                    line.push_str(value);
                } else {
                    line.push_str(value);
                    line.push_str(&" ".repeat(widths[c] - value.chars().count() + 2));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out.push('\n');
    }
    out.push_str(&stats.summary(reports));
    out
}

/// One JSON object per token.
pub fn json_line(report: &Report) -> String {
    let mut value = serde_json::to_value(&report.audit).unwrap_or(Value::Null);
    let l = &report.location;
    value["severity"] = json!(report.audit.severity());
    value["path"] = json!(l.path);
    value["line"] = json!(l.line);
    value["column"] = json!(l.column);
    if let Some(commit) = &l.commit {
        value["commit"] = json!(commit);
    }
    value.to_string()
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// GitHub code scanning's `security-severity` (CVSS-like, 0 to 10).
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "2.0",
    }
}

/// A relative path as a URI reference: `/` separators, anything but unreserved bytes escaped.
fn uri(path: &str) -> String {
    let mut out = String::new();
    for byte in path.replace('\\', "/").bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The SARIF 2.1.0 log: one run, one rule per finding kind, one result per (token, finding),
/// and a `token` result for a token without findings.
pub fn sarif(reports: &[Report]) -> String {
    let kinds: Vec<&str> = rules().map(|(kind, _, _)| *kind).collect();
    let rules: Vec<Value> = rules()
        .enumerate()
        .map(|(index, (kind, severity, text))| {
            json!({
                "id": rule_id(index),
                "name": kind.split('-').map(|w| {
                    let mut c = w.chars();
                    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
                }).collect::<String>(),
                "shortDescription": { "text": text },
                "fullDescription": { "text": text },
                "help": { "text": format!("{text} Rotate or revoke the credential, remove it from the code and its history, or list its fingerprint in .edgeward-scan-ignore if it is a harmless fixture.") },
                "defaultConfiguration": { "level": level(*severity) },
                "properties": {
                    "kind": kind,
                    "tags": ["security", "jwt"],
                    "security-severity": security_severity(*severity),
                },
            })
        })
        .collect();
    let mut results = Vec::new();
    for report in reports {
        let a = &report.audit;
        let l = &report.location;
        let mut properties = serde_json::to_value(a).unwrap_or(Value::Null);
        if let Some(object) = properties.as_object_mut() {
            object.remove("findings");
            if let Some(commit) = &l.commit {
                object.insert("commit".to_owned(), json!(commit));
            }
        }
        let located = match &l.commit {
            Some(commit) => format!(" (in the git history: added by commit {commit})"),
            None => String::new(),
        };
        let mut emit = |kind: &str, severity: Severity, message: &str| {
            let index = kinds.iter().position(|k| *k == kind).unwrap_or(0);
            let mut properties = properties.clone();
            properties["finding"] = json!(kind);
            properties["severity"] = json!(severity);
            results.push(json!({
                "ruleId": rule_id(index),
                "ruleIndex": index,
                "level": level(severity),
                "message": { "text": format!("{} {} {message}{located}.", kind_and_alg(a), a.redacted) },
                "locations": [{ "physicalLocation": {
                    "artifactLocation": { "uri": uri(&l.path), "uriBaseId": "SRCROOT" },
                    "region": { "startLine": l.line, "startColumn": l.column,
                                "endColumn": l.column + u64::try_from(a.bytes).unwrap_or(0) },
                }}],
                "partialFingerprints": { "edgewardToken/v1": a.fingerprint },
                "properties": properties,
            }));
        };
        if a.findings.is_empty() {
            emit("token", Severity::Low, "was found, with nothing worse known about it");
        }
        for finding in &a.findings {
            emit(finding.kind, finding.severity, &finding.message);
        }
    }
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "edgeward",
                "fullName": "edgeward scan",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "rules": rules,
            }},
            "originalUriBaseIds": { "SRCROOT": { "description": { "text": "The directory edgeward scan ran in." } } },
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&log).unwrap_or_else(|_| log.to_string())
}
