//! What `edgeward scan` decides about a token found in code, configuration or history: whether a
//! string is a compact JWS or JWE at all, what its header and claims say (decoded, never
//! trusted: no signature is checked here), and what makes it a risk: no `exp`, a lifetime over a
//! bound, still valid now, wildcard scopes, `alg: none`, a shared-secret (HMAC) signature, a key
//! carried in the header. With a policy, [`Verifier::audit`] also says whether the policy's keys
//! verify it and whether the policy would accept it now.
//!
//! A token is never kept or shown whole: a [`TokenAudit`] holds its [`redact`]ed form, a stable
//! [`fingerprint`] (for suppression lists) and the decoded values only.
//!
//! The host finds candidates with [`TOKEN_PATTERN`] (a regular expression: the core does no I/O
//! and has no regex engine) and hands each to [`audit_token`], which refuses what is not a token.

use crate::base64url;
use crate::claims::is_wildcard;
use crate::error::Error;
use crate::token::{SignedToken, decode_object};
use crate::{DEFAULT_MAX_LIFETIME_SECONDS, DEFAULT_MAX_TOKEN_BYTES, Verifier};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// A regular expression (the `regex` crate's and ripgrep's syntax) matching every compact JWS
/// (three segments) and JWE (five) whose protected header is a JSON object (base64url of `{"`,
/// `{ ` or `{` and a newline starts with `ey` or `ew`), and more: a host checks the bytes around
/// a match with [`is_token_byte`] and hands the match to [`audit_token`].
pub const TOKEN_PATTERN: &str =
    r"e[wy][A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)?";

/// Length of the token's start kept in its redacted form (`eyJhbGciOi`: the header's first
/// bytes, `{"alg":`, which say nothing secret).
pub const REDACTED_PREFIX_CHARS: usize = 10;

/// Hex digits of SHA-256 in a [`fingerprint`] (48 bits: tokens are not guessable from it, and
/// two tokens of one code base do not share one).
pub const FINGERPRINT_HEX_DIGITS: usize = 12;

/// Whether `byte` may be part of a compact token (base64url and `.`). A match of
/// [`TOKEN_PATTERN`] is a candidate only when the bytes before and after it are not.
pub fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.')
}

/// How much a finding matters; `--fail-on` compares with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A token, nothing worse known about it.
    Low,
    /// Weakens what a leak costs or hides it: long-lived, wildcard scopes, HMAC, encrypted.
    Medium,
    /// A usable credential or one a lax verifier would trust: still valid, no `exp`, a key in the header.
    High,
    /// Anyone can forge it, or the given policy accepts it right now.
    Critical,
}

impl Severity {
    /// All, lowest first.
    pub const ALL: [Severity; 4] = [Severity::Low, Severity::Medium, Severity::High, Severity::Critical];

    /// `low`, `medium`, `high`, `critical`.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// Compact serialization kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TokenKind {
    /// A signed (or `alg: none`) token: three segments, claims readable.
    #[serde(rename = "JWS")]
    Jws,
    /// An encrypted token: five segments, only the header readable.
    #[serde(rename = "JWE")]
    Jwe,
}

/// One reason a token found in code is a risk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenFinding {
    /// A stable name: `alg-none`, `accepted` (critical); `still-valid`, `no-exp`, `embedded-key`
    /// (high); `long-lived`, `wildcard-scope`, `hmac`, `encrypted`, `unparsed` (medium).
    pub kind: &'static str,
    /// How much it matters.
    pub severity: Severity,
    /// What it means, in a sentence (no claim value that could be a secret: times, lifetimes,
    /// scope names and header member names only).
    pub message: String,
}

/// What the audit works with: the time, the lifetime bound and the size cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditOptions {
    /// The time for `still-valid`, in Unix seconds.
    pub now: i64,
    /// A lifetime (`exp` − `iat`, else `exp` − `nbf`, else `exp` − `now`) over this is `long-lived`.
    pub max_lifetime_seconds: u64,
    /// Candidates longer than this are not decoded (a policy's `max_token_bytes`).
    pub max_token_bytes: usize,
}

impl AuditOptions {
    /// The policy defaults (3600 s, 16 KiB) at `now`.
    pub fn at(now: i64) -> AuditOptions {
        AuditOptions {
            now,
            max_lifetime_seconds: DEFAULT_MAX_LIFETIME_SECONDS,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
        }
    }
}

/// What a policy says about a token ([`Verifier::audit`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyVerdict {
    /// The provider whose keys were tried (the only one, else the one whose issuer is `iss`).
    pub provider: Option<String>,
    /// Whether one of that provider's keys verifies the signature (whatever the claims say).
    pub signature_verifies: bool,
    /// Whether the policy accepts the token at the audit's `now` (no scope required).
    pub accepted: bool,
    /// The refusal's code ([`Error::code`]) when it is not accepted.
    pub refusal: Option<&'static str>,
}

/// A token found in code, decoded without trusting it; holds no part of the token but its
/// [`redact`]ed form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenAudit {
    /// `JWS` or `JWE`.
    #[serde(rename = "type")]
    pub kind: TokenKind,
    /// The token's start and fingerprint: `eyJhbGciOi…[sha256:3f9a1c2b4d5e]`.
    pub redacted: String,
    /// `sha256:` and the first 12 hex digits of SHA-256 over the token: stable, for suppression.
    pub fingerprint: String,
    /// Length of the token in bytes.
    pub bytes: usize,
    /// The header's `alg`.
    pub alg: String,
    /// The header's `enc` (JWE).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enc: Option<String>,
    /// The header's `kid`.
    pub kid: Option<String>,
    /// The header's `typ`.
    pub typ: Option<String>,
    /// `iss`.
    pub iss: Option<String>,
    /// `sub`.
    pub sub: Option<String>,
    /// `client_id` (RFC 9068), else `azp`.
    pub client_id: Option<String>,
    /// `aud` (a string is a one-element list).
    pub aud: Vec<String>,
    /// `scope` words and `scp` entries.
    pub scopes: Vec<String>,
    /// `iat`, in whole seconds.
    pub iat: Option<i64>,
    /// `nbf`, in whole seconds.
    pub nbf: Option<i64>,
    /// `exp`, in whole seconds.
    pub exp: Option<i64>,
    /// `exp` − `iat` (else `exp` − `nbf`), in seconds.
    pub lifetime_seconds: Option<i64>,
    /// What makes it a risk, most severe first.
    pub findings: Vec<TokenFinding>,
    /// With a policy: what it says ([`TokenAudit::add_verdict`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyVerdict>,
}

impl TokenAudit {
    /// The most severe finding's severity (`low` without findings).
    pub fn severity(&self) -> Severity {
        self.findings.iter().map(|f| f.severity).max().unwrap_or(Severity::Low)
    }

    /// Records a policy's verdict; a token the policy accepts now is an `accepted` finding.
    pub fn add_verdict(&mut self, verdict: PolicyVerdict) {
        if verdict.accepted {
            let provider = verdict.provider.as_deref().unwrap_or("?");
            self.findings.insert(
                0,
                TokenFinding {
                    kind: "accepted",
                    severity: Severity::Critical,
                    message: format!("the policy accepts it now (provider \"{provider}\"): a working credential"),
                },
            );
        }
        self.policy = Some(verdict);
    }
}

/// `sha256:` and the first [`FINGERPRINT_HEX_DIGITS`] hex digits of SHA-256 over `token`.
pub fn fingerprint(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{}", &hex[..FINGERPRINT_HEX_DIGITS])
}

/// The token's first [`REDACTED_PREFIX_CHARS`] characters, `…`, and its [`fingerprint`] in
/// brackets: never enough to use it, always the same for the same token.
pub fn redact(token: &str) -> String {
    let prefix = token.get(..REDACTED_PREFIX_CHARS).unwrap_or("");
    format!("{prefix}…[{}]", fingerprint(token))
}

/// Decodes a candidate (a match of [`TOKEN_PATTERN`]) without trusting it: `None` when it is not
/// a compact JWS or JWE (not base64url, a header that is not a JSON object with a string `alg`,
/// longer than `options.max_token_bytes`), else what it says and its findings.
///
/// A JWS the strict decoder ([`crate::UnverifiedToken::parse`]) refuses for its claims or
/// header (`crit`, a claim of the wrong type) is still a token: it is reported with its header
/// and an `unparsed` finding.
pub fn audit_token(candidate: &str, options: &AuditOptions) -> Option<TokenAudit> {
    if candidate.len() > options.max_token_bytes || !candidate.bytes().all(is_token_byte) {
        return None;
    }
    let segments = candidate.split('.').count();
    let header = decode_object(candidate.split('.').next()?).ok()?;
    let alg = header.get("alg")?.as_str()?.to_owned();
    let string = |map: &Map<String, Value>, name: &str| map.get(name).and_then(Value::as_str).map(str::to_owned);
    let mut audit = TokenAudit {
        kind: TokenKind::Jws,
        redacted: redact(candidate),
        fingerprint: fingerprint(candidate),
        bytes: candidate.len(),
        alg,
        enc: None,
        kid: string(&header, "kid"),
        typ: string(&header, "typ"),
        iss: None,
        sub: None,
        client_id: None,
        aud: Vec::new(),
        scopes: Vec::new(),
        iat: None,
        nbf: None,
        exp: None,
        lifetime_seconds: None,
        findings: Vec::new(),
        policy: None,
    };
    let mut findings = Findings::default();
    match segments {
        5 => {
            // Every segment must be base64url, the header must name its content encryption.
            let enc = string(&header, "enc")?;
            if candidate.split('.').skip(1).any(|s| base64url::decode(s).is_none()) {
                return None;
            }
            audit.kind = TokenKind::Jwe;
            audit.enc = Some(enc);
            findings.add(
                "encrypted",
                Severity::Medium,
                "an encrypted token (JWE): its claims cannot be read here, so neither its lifetime nor its scopes \
                 can be judged; treat it as a live credential"
                    .to_owned(),
            );
        }
        3 => match SignedToken::parse(candidate, options.max_token_bytes).and_then(SignedToken::with_claims) {
            Ok(token) => {
                let registered = &token.registered;
                audit.iss = registered.iss.clone();
                audit.sub = string(&token.claims, "sub");
                audit.client_id = string(&token.claims, "client_id").or_else(|| string(&token.claims, "azp"));
                audit.aud = registered.aud.clone().unwrap_or_default();
                audit.scopes = registered.scopes.clone();
                audit.iat = registered.iat.map(whole);
                audit.nbf = registered.nbf.map(whole);
                audit.exp = registered.exp.map(whole);
                audit.lifetime_seconds = match (audit.exp, audit.iat.or(audit.nbf)) {
                    (Some(exp), Some(start)) => Some(exp.saturating_sub(start)),
                    _ => None,
                };
                time_findings(&audit, options, &mut findings);
                let wildcards: Vec<&str> = audit.scopes.iter().map(String::as_str).filter(|s| is_wildcard(s)).collect();
                if !wildcards.is_empty() {
                    findings.add(
                        "wildcard-scope",
                        Severity::Medium,
                        format!("grants wildcard scopes ({}): more than any one client needs", wildcards.join(" ")),
                    );
                }
            }
            Err(error) => {
                // A header or claims the verifier refuses: the payload must at least be base64url.
                let payload = candidate.split('.').nth(1)?;
                base64url::decode(payload)?;
                findings.add(
                    "unparsed",
                    Severity::Medium,
                    format!(
                        "its header or claims are refused by edgeward's strict decoder ({}), so its lifetime is \
                         unknown; other verifiers may still accept it",
                        error.code()
                    ),
                );
            }
        },
        _ => return None,
    }
    header_findings(&audit, &header, &mut findings);
    audit.findings = findings.sorted();
    Some(audit)
}

#[derive(Default)]
struct Findings(Vec<TokenFinding>);

impl Findings {
    fn add(&mut self, kind: &'static str, severity: Severity, message: String) {
        self.0.push(TokenFinding { kind, severity, message });
    }

    /// Most severe first; equal ones in the order found.
    fn sorted(mut self) -> Vec<TokenFinding> {
        self.0.sort_by_key(|f| std::cmp::Reverse(f.severity));
        self.0
    }
}

/// `alg-none`, `hmac`, `embedded-key`.
fn header_findings(audit: &TokenAudit, header: &Map<String, Value>, findings: &mut Findings) {
    if audit.alg.eq_ignore_ascii_case("none") {
        findings.add(
            "alg-none",
            Severity::Critical,
            "is unsecured (alg \"none\"): anyone can make one like it; a verifier that accepts it accepts forgeries"
                .to_owned(),
        );
    }
    if audit.kind == TokenKind::Jws && audit.alg.len() == 5 && audit.alg.get(..2).is_some_and(|p| p == "HS") {
        findings.add(
            "hmac",
            Severity::Medium,
            format!(
                "is signed with a shared secret ({}): every verifier holds the key that makes tokens; look for the \
                 secret near it",
                audit.alg
            ),
        );
    }
    let embedded: Vec<&str> = ["jwk", "jku", "x5u", "x5c"].into_iter().filter(|k| header.contains_key(*k)).collect();
    if !embedded.is_empty() {
        findings.add(
            "embedded-key",
            Severity::High,
            format!(
                "its header carries a key or where to fetch one ({}): a verifier trusting the header's key accepts \
                 tokens anyone signs",
                embedded.join(", ")
            ),
        );
    }
}

/// `no-exp`, `long-lived`, `still-valid`.
fn time_findings(audit: &TokenAudit, options: &AuditOptions, findings: &mut Findings) {
    let now = options.now;
    let max = i64::try_from(options.max_lifetime_seconds).unwrap_or(i64::MAX);
    match audit.exp {
        None => findings.add(
            "no-exp",
            Severity::High,
            "has no exp: it never expires; only revoking its key ends it".to_owned(),
        ),
        Some(exp) => {
            let (lifetime, what) = match audit.lifetime_seconds {
                Some(lifetime) => (lifetime, "lives"),
                None => (exp.saturating_sub(now), "has no iat or nbf and expires in"),
            };
            if lifetime > max {
                findings.add(
                    "long-lived",
                    Severity::Medium,
                    format!(
                        "{what} {}, over the {} bound (--max-lifetime)",
                        duration(lifetime),
                        duration(options.max_lifetime_seconds.try_into().unwrap_or(i64::MAX))
                    ),
                );
            }
        }
    }
    let started = audit.nbf.is_none_or(|nbf| nbf <= now);
    match audit.exp {
        Some(exp) if exp > now && started => findings.add(
            "still-valid",
            Severity::High,
            format!("is still valid for {} (exp {}): anyone who reads it can use it", duration(exp - now), date(exp)),
        ),
        None if started => findings.add(
            "still-valid",
            Severity::High,
            "is still valid (no exp): anyone who reads it can use it".to_owned(),
        ),
        _ => {}
    }
}

impl Verifier {
    /// What this verifier's policy says about a found token at `now`: whether the keys of its
    /// provider (the only one, else the one whose issuer is its `iss`) verify its signature, and
    /// whether [`Verifier::verify`] accepts it (requiring no scope). Never panics; a token that is
    /// not a JWS is simply not verified.
    pub fn audit(&mut self, token: &str, now: i64) -> PolicyVerdict {
        let no_scopes: [&str; 0] = [];
        let accepted = self.verify(token, None, &no_scopes, now);
        let provider_index = SignedToken::parse(token, self.policy().max_token_bytes).ok().and_then(|signed| {
            if self.policy().providers.len() == 1 {
                return Some(0);
            }
            let iss = signed.with_claims().ok()?.registered.iss?;
            self.policy().providers.iter().position(|p| p.issuer == iss)
        });
        let provider = provider_index.map(|i| self.policy().providers[i].name.clone());
        match accepted {
            Ok(verified) => PolicyVerdict {
                provider: Some(verified.provider.clone()),
                signature_verifies: true,
                accepted: true,
                refusal: None,
            },
            Err(error) => {
                let signature_verifies = provider_index.is_some_and(|i| self.signature_verifies(token, i));
                PolicyVerdict { provider, signature_verifies, accepted: false, refusal: Some(error.code()) }
            }
        }
    }

    /// Whether a key of provider `index` verifies `token`'s signature (claims not checked).
    fn signature_verifies(&self, token: &str, index: usize) -> bool {
        let check = || -> Result<(), Error> {
            let signed = SignedToken::parse(token, self.policy().max_token_bytes)?;
            let provider = &self.policy().providers[index];
            let alg = crate::Algorithm::from_name(&signed.alg)
                .filter(|alg| provider.algorithms.contains(alg))
                .ok_or(Error::AlgorithmNotAllowed)?;
            let keys = self.key_set(&provider.name).ok_or(Error::JwksUnavailable)?;
            let jwk = keys.select(alg, signed.kid.as_deref())?;
            crate::verify_signature(None, alg, jwk, signed.signing_input.as_bytes(), &signed.signature)
        };
        check().is_ok()
    }
}

/// A NumericDate in whole seconds (floor; saturating).
#[allow(clippy::as_conversions)] // f64 → i64 saturates; dates are shown, not compared for security.
fn whole(value: f64) -> i64 {
    value.floor() as i64
}

/// `45s`, `15m`, `2h30m`, `400d`: a duration for people.
pub fn duration(seconds: i64) -> String {
    let s = seconds.unsigned_abs();
    let sign = if seconds < 0 { "-" } else { "" };
    let text = match s {
        0..60 => format!("{s}s"),
        60..3600 if s.is_multiple_of(60) => format!("{}m", s / 60),
        60..3600 => format!("{}m{}s", s / 60, s % 60),
        3600..86_400 if s.is_multiple_of(3600) => format!("{}h", s / 3600),
        3600..86_400 => format!("{}h{}m", s / 3600, (s % 3600) / 60),
        _ if s.is_multiple_of(86_400) => format!("{}d", s / 86_400),
        _ => format!("{}d{}h", s / 86_400, (s % 86_400) / 3600),
    };
    format!("{sign}{text}")
}

/// A Unix time as an RFC 3339 UTC date (`2030-03-17T17:46:40Z`), for years 0 to 9999; the
/// number itself outside them.
pub fn date(unix: i64) -> String {
    // Days to a civil date: H. Hinnant's `civil_from_days` (proleptic Gregorian).
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    if !(0..=9999).contains(&year) {
        return unix.to_string();
    }
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", secs / 3600, (secs % 3600) / 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(json: &str) -> String {
        base64url::encode(json.as_bytes())
    }

    fn token(header: &str, claims: &str) -> String {
        format!("{}.{}.{}", b64(header), b64(claims), base64url::encode(&[7; 64]))
    }

    const NOW: i64 = 1_900_000_000;

    fn audit(t: &str) -> TokenAudit {
        audit_token(t, &AuditOptions::at(NOW)).unwrap_or_else(|| panic!("not a token"))
    }

    fn kinds(a: &TokenAudit) -> Vec<&'static str> {
        a.findings.iter().map(|f| f.kind).collect()
    }

    #[test]
    fn a_short_lived_expired_token_has_no_findings() {
        let t = token(
            r#"{"alg":"ES256","kid":"k1","typ":"at+jwt"}"#,
            r#"{"iss":"https://idp","sub":"bot","aud":["a","b"],"scope":"read","iat":1800000000,"exp":1800000900}"#,
        );
        let a = audit(&t);
        assert_eq!(a.kind, TokenKind::Jws);
        assert_eq!((a.alg.as_str(), a.kid.as_deref(), a.iss.as_deref()), ("ES256", Some("k1"), Some("https://idp")));
        assert_eq!(a.aud, ["a", "b"]);
        assert_eq!(a.lifetime_seconds, Some(900));
        assert!(a.findings.is_empty(), "{:?}", a.findings);
        assert_eq!(a.severity(), Severity::Low);
    }

    #[test]
    fn lifetime_exp_and_validity() {
        let long = audit(&token(r#"{"alg":"RS256"}"#, r#"{"iat":1800000000,"exp":1800086400}"#));
        assert_eq!(kinds(&long), ["long-lived"]);
        assert!(long.findings[0].message.contains("lives 1d"), "{}", long.findings[0].message);
        let live = audit(&token(r#"{"alg":"RS256"}"#, r#"{"iat":1899999000,"exp":1900000600}"#));
        assert_eq!(kinds(&live), ["still-valid"]);
        let forever = audit(&token(r#"{"alg":"RS256"}"#, r#"{"sub":"x"}"#));
        assert_eq!(kinds(&forever), ["no-exp", "still-valid"]);
        let not_yet = audit(&token(r#"{"alg":"RS256"}"#, r#"{"nbf":1900000100}"#));
        assert_eq!(kinds(&not_yet), ["no-exp"]);
        // Without iat or nbf, the time left counts.
        let no_iat = audit(&token(r#"{"alg":"RS256"}"#, r#"{"exp":1900100000}"#));
        assert_eq!(kinds(&no_iat), ["still-valid", "long-lived"]);
        let bounded = audit_token(
            &token(r#"{"alg":"RS256"}"#, r#"{"iat":1800000000,"exp":1800086400}"#),
            &AuditOptions { max_lifetime_seconds: 86_400, ..AuditOptions::at(NOW) },
        );
        assert_eq!(bounded.map(|a| a.findings.len()), Some(0));
    }

    #[test]
    fn header_findings_and_scopes() {
        let none = format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64(r#"{"exp":1}"#));
        assert_eq!(kinds(&audit(&none)), ["alg-none"]);
        assert_eq!(audit(&none).severity(), Severity::Critical);
        let hs = audit(&token(r#"{"alg":"HS256"}"#, r#"{"exp":1,"scp":["orders:*","read"]}"#));
        assert_eq!(kinds(&hs), ["wildcard-scope", "hmac"]);
        assert!(hs.findings[0].message.contains("orders:*"));
        let jwk = audit(&token(r#"{"alg":"ES256","jwk":{"kty":"EC"},"x5u":"https://x"}"#, r#"{"exp":1}"#));
        assert_eq!(kinds(&jwk), ["embedded-key"]);
        assert!(jwk.findings[0].message.contains("jwk, x5u"));
    }

    #[test]
    fn jwe_is_reported_as_such() {
        let jwe = format!(
            "{}.{}.{}.{}.{}",
            b64(r#"{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"e1"}"#),
            base64url::encode(&[1; 256]),
            base64url::encode(&[2; 12]),
            base64url::encode(&[3; 100]),
            base64url::encode(&[4; 16])
        );
        let a = audit(&jwe);
        assert_eq!((a.kind, a.enc.as_deref(), a.kid.as_deref()), (TokenKind::Jwe, Some("A256GCM"), Some("e1")));
        assert_eq!(kinds(&a), ["encrypted"]);
        // dir: an empty encrypted key.
        let dir = format!("{}..{}.{}.{}", b64(r#"{"alg":"dir","enc":"A128GCM"}"#), "AAAA", "AAAA", "AAAA");
        assert_eq!(audit(&dir).kind, TokenKind::Jwe);
    }

    #[test]
    fn what_is_not_a_token_is_refused() {
        let opts = AuditOptions::at(NOW);
        for bad in [
            "eyes.are.here".to_owned(),
            format!("{}.{}.sig", b64(r#"{"typ":"JWT"}"#), b64("{}")),
            format!("{}.{}.sig", b64(r#"["alg"]"#), b64("{}")),
            format!("{}.!!.sig", b64(r#"{"alg":"ES256"}"#)),
            format!("{}.a.b.c", b64(r#"{"alg":"ES256"}"#)),
            format!("{}.a.b.c.d", b64(r#"{"alg":"ES256"}"#)),
            format!("{}.{}.sig", b64(r#"{"alg":"ES256"}"#), "A".repeat(DEFAULT_MAX_TOKEN_BYTES)),
        ] {
            assert!(audit_token(&bad, &opts).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_token_the_strict_decoder_refuses_is_still_reported() {
        let a = audit(&token(r#"{"alg":"ES256","crit":["exp"]}"#, r#"{"exp":"soon"}"#));
        assert_eq!(kinds(&a), ["unparsed"]);
        assert!(a.findings[0].message.contains("ERR_"), "{}", a.findings[0].message);
    }

    #[test]
    fn redaction_is_stable_and_hides_the_token() {
        let t = token(r#"{"alg":"ES256"}"#, r#"{"exp":1}"#);
        let a = audit(&t);
        assert_eq!(a.redacted, redact(&t));
        assert!(a.redacted.starts_with("eyJhbGciOi…[sha256:"), "{}", a.redacted);
        assert_eq!(a.fingerprint.len(), "sha256:".len() + FINGERPRINT_HEX_DIGITS);
        assert_ne!(fingerprint(&t), fingerprint(&token(r#"{"alg":"ES256"}"#, r#"{"exp":2}"#)));
        let json = serde_json::to_string(&a).unwrap_or_default();
        let signature = t.rsplit('.').next().unwrap_or_default();
        assert!(!json.contains(&t) && !json.contains(signature), "{json}");
        assert!(!json.contains(t.split('.').nth(1).unwrap_or_default()), "{json}");
    }

    #[test]
    fn dates_and_durations_read_well() {
        assert_eq!(date(0), "1970-01-01T00:00:00Z");
        assert_eq!(date(NOW), "2030-03-17T17:46:40Z");
        assert_eq!(date(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(date(-86_400), "1969-12-31T00:00:00Z");
        assert_eq!(date(i64::MAX), i64::MAX.to_string());
        assert_eq!(duration(45), "45s");
        assert_eq!(duration(900), "15m");
        assert_eq!(duration(9000), "2h30m");
        assert_eq!(duration(86_400 * 400), "400d");
        assert_eq!(duration(-60), "-1m");
    }

    #[test]
    fn the_pattern_fits_the_token_alphabet() {
        // Every byte a match can hold is a token byte (so boundaries are checked with one rule).
        let literal_chars = TOKEN_PATTERN.replace("A-Za-z0-9_-", "").replace(r"\.", ".");
        for c in literal_chars.chars().filter(|c| c.is_ascii_alphanumeric()) {
            assert!(is_token_byte(u8::try_from(c).unwrap_or(0)));
        }
        assert!(!is_token_byte(b'"') && !is_token_byte(b' ') && !is_token_byte(b'=') && is_token_byte(b'.'));
    }
}
