//! One decision as one JSON line (docs/policy.md, "Decision record"), the format every surface
//! writes and `edgeward report` reads: the npm middleware's `decisionLogger` writes
//! [`DecisionRecord::json_line`], and Envoy's access log writes the same fields from the filter
//! state with envoy/decision-log.yaml. Defined once, here.
//!
//! ```text
//! {"time":"2025-01-02T03:04:05.678Z","provider":"idp","iss":"https://idp","sub":"bot-7",
//!  "client_id":"billing-bot","rule":"orders-read","method":"GET","path":"/orders/1",
//!  "scopes":"read:orders write:orders","required_scopes":"read:orders","iat":"1735786800",
//!  "exp":"1735787100","status":200}
//! ```
//!
//! Values are strings, as Envoy's access log writes filter state (`scopes` and `required_scopes`
//! space separated, `iat` and `exp` decimal seconds), and `status` is a number; a field without a
//! value is left out (Envoy's `omit_empty_values`). The path is without its query. Never the token.

use crate::request::DecisionRecord;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::borrow::Cow;

/// Longest decision line read (`edgeward report` counts a longer one as skipped).
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// One decision line: what [`DecisionRecord::json_line`] writes and Envoy's access log
/// (envoy/decision-log.yaml) writes, field for field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionLine<'a> {
    /// When the request came, UTC, `YYYY-MM-DDTHH:MM:SS.mmmZ` ([`format_time`]).
    #[serde(borrow)]
    pub time: Cow<'a, str>,
    /// The provider whose token verified.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub provider: Option<Cow<'a, str>>,
    /// The token's `iss`.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub iss: Option<Cow<'a, str>>,
    /// The token's `sub`.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub sub: Option<Cow<'a, str>>,
    /// The token's `client_id`, else `azp`.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<Cow<'a, str>>,
    /// The rule that matched: its `name`, else its index.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub rule: Option<Cow<'a, str>>,
    /// The request's method.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub method: Option<Cow<'a, str>>,
    /// The request's path without its query.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub path: Option<Cow<'a, str>>,
    /// The scopes the token grants, space separated.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Cow<'a, str>>,
    /// The scopes the deciding requirement asks for, space separated.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub required_scopes: Option<Cow<'a, str>>,
    /// The token's `iat`, decimal seconds (a number is read too).
    #[serde(default, deserialize_with = "text_or_number", skip_serializing_if = "Option::is_none")]
    pub iat: Option<Cow<'a, str>>,
    /// The token's `exp`, decimal seconds (a number is read too).
    #[serde(default, deserialize_with = "text_or_number", skip_serializing_if = "Option::is_none")]
    pub exp: Option<Cow<'a, str>>,
    /// The refusal's code (absent: allowed).
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub code: Option<Cow<'a, str>>,
    /// The status answered: edgeward's refusal, or (Envoy) the response that went out.
    #[serde(default)]
    pub status: u16,
}

/// A string, or a number kept as its JSON text (`iat` written by another tool).
fn text_or_number<'de, 'a, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Cow<'a, str>>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        Some(Value::String(s)) => Some(Cow::Owned(s)),
        Some(Value::Number(n)) => Some(Cow::Owned(n.to_string())),
        Some(Value::Null) | None => None,
        Some(_) => return Err(serde::de::Error::custom("expected a string or a number")),
    })
}

impl DecisionLine<'_> {
    /// One line's text, parsed (`None`: not a decision line: not JSON, no `time`, wrong types).
    pub fn parse(line: &str) -> Option<DecisionLine<'_>> {
        serde_json::from_str(line).ok()
    }

    /// The JSON text, one line without its newline.
    pub fn to_json(&self) -> String {
        // Strings and a number only: serializing cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl DecisionRecord {
    /// This record as a decision line for a request to `method` and `path` (the query is left
    /// out) that came at `time_ms` (Unix milliseconds).
    pub fn line<'a>(&'a self, time_ms: i64, method: &'a str, path: &'a str) -> DecisionLine<'a> {
        let borrowed = |s: &'a Option<String>| s.as_deref().map(Cow::Borrowed);
        let words = |list: &[String]| (!list.is_empty()).then(|| Cow::Owned(list.join(" ")));
        let path = path.split('?').next().unwrap_or_default();
        DecisionLine {
            time: Cow::Owned(format_time(time_ms)),
            provider: borrowed(&self.provider),
            iss: borrowed(&self.iss),
            sub: borrowed(&self.sub),
            client_id: borrowed(&self.client_id),
            rule: borrowed(&self.rule),
            method: (!method.is_empty()).then_some(Cow::Borrowed(method)),
            path: (!path.is_empty()).then_some(Cow::Borrowed(path)),
            scopes: words(&self.scopes),
            required_scopes: words(&self.required_scopes),
            iat: self.iat.map(|s| Cow::Owned(s.to_string())),
            exp: self.exp.map(|s| Cow::Owned(s.to_string())),
            code: self.code.map(Cow::Borrowed),
            status: self.status,
        }
    }

    /// [`DecisionRecord::line`] as JSON text, one line without its newline.
    pub fn json_line(&self, time_ms: i64, method: &str, path: &str) -> String {
        self.line(time_ms, method, path).to_json()
    }

    /// A record from its JSON (as [`DecisionRecord`] serializes; a host that handed it out gives
    /// it back to have its line written). `None` for anything else, or an unknown `code`.
    pub fn from_json(text: &str) -> Option<DecisionRecord> {
        #[derive(Deserialize)]
        struct Owned {
            provider: Option<String>,
            iss: Option<String>,
            sub: Option<String>,
            client_id: Option<String>,
            #[serde(default)]
            scopes: Vec<String>,
            rule: Option<String>,
            code: Option<String>,
            status: u16,
            #[serde(default)]
            required_scopes: Vec<String>,
            iat: Option<i64>,
            exp: Option<i64>,
        }
        let o: Owned = serde_json::from_str(text).ok()?;
        let code = match o.code {
            Some(code) => Some(*crate::ALL_CODES.iter().find(|c| **c == code)?),
            None => None,
        };
        Some(DecisionRecord {
            provider: o.provider,
            iss: o.iss,
            sub: o.sub,
            client_id: o.client_id,
            scopes: o.scopes,
            rule: o.rule,
            code,
            status: o.status,
            required_scopes: o.required_scopes,
            iat: o.iat,
            exp: o.exp,
        })
    }
}

/// A NumericDate claim as whole seconds (fractions dropped), if it is a number in range.
pub(crate) fn whole_seconds(value: &Value) -> Option<i64> {
    if let Some(seconds) = value.as_i64() {
        return Some(seconds);
    }
    let seconds = value.as_f64()?.floor();
    // Within ±2^53 every f64 integer is exact; beyond, the claim is no date.
    const LIMIT: f64 = 9_007_199_254_740_992.0;
    #[allow(clippy::as_conversions)] // checked to be an integer within ±2^53 just above.
    (seconds.abs() <= LIMIT).then_some(seconds as i64)
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian; H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let doy = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Unix milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`, what Envoy's
/// `%START_TIME(%Y-%m-%dT%H:%M:%E3SZ)%` writes.
pub fn format_time(ms: i64) -> String {
    let (seconds, millis) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let (days, secs) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z", secs / 3600, secs / 60 % 60, secs % 60)
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z` as Unix milliseconds (`None` for anything else).
pub fn parse_time(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(range)?;
        part.iter().all(u8::is_ascii_digit).then(|| part.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
    };
    let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if b.len() < 20 || !separators.iter().all(|(i, c)| b.get(*i) == Some(c)) || b.last() != Some(&b'Z') {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let millis = match &b[19..b.len() - 1] {
        [] => 0,
        [b'.', fraction @ ..] if !fraction.is_empty() && fraction.len() <= 9 => {
            let n = digits(20..20 + fraction.len())?;
            let scale = 10_i64.pow(u32::try_from(fraction.len()).ok()?);
            n * 1000 / scale
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    Some(((days * 86_400 + hour * 3600 + minute * 60 + second) * 1000) + millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> DecisionRecord {
        DecisionRecord {
            provider: Some("idp".into()),
            iss: Some("https://idp".into()),
            sub: Some("bot-7".into()),
            client_id: Some("billing-bot".into()),
            scopes: vec!["read:orders".into(), "write:orders".into()],
            rule: Some("orders-read".into()),
            code: None,
            status: 200,
            required_scopes: vec!["read:orders".into()],
            iat: Some(1_735_786_800),
            exp: Some(1_735_787_100),
        }
    }

    #[test]
    fn the_line_of_an_allowed_request() {
        let line = record().json_line(1_735_787_045_678, "GET", "/orders/1?secret=x");
        assert_eq!(
            line,
            r#"{"time":"2025-01-02T03:04:05.678Z","provider":"idp","iss":"https://idp","sub":"bot-7","client_id":"billing-bot","rule":"orders-read","method":"GET","path":"/orders/1","scopes":"read:orders write:orders","required_scopes":"read:orders","iat":"1735786800","exp":"1735787100","status":200}"#
        );
        let parsed = DecisionLine::parse(&line).expect("parses");
        assert_eq!(parsed.to_json(), line);
    }

    #[test]
    fn a_refusal_before_the_token_leaves_out_who() {
        let r = DecisionRecord {
            provider: None,
            iss: None,
            sub: None,
            client_id: None,
            scopes: vec![],
            rule: Some("0".into()),
            code: Some("ERR_JWT_MISSING"),
            status: 401,
            required_scopes: vec!["read:orders".into()],
            iat: None,
            exp: None,
        };
        assert_eq!(
            r.json_line(0, "POST", "/x"),
            r#"{"time":"1970-01-01T00:00:00.000Z","rule":"0","method":"POST","path":"/x","required_scopes":"read:orders","code":"ERR_JWT_MISSING","status":401}"#
        );
    }

    #[test]
    fn records_round_trip_through_their_json() {
        let r = record();
        let json = serde_json::to_string(&r).expect("serializes");
        assert_eq!(DecisionRecord::from_json(&json), Some(r));
        assert_eq!(DecisionRecord::from_json(r#"{"scopes":[],"code":"ERR_MADE_UP","status":401}"#), None);
        assert_eq!(DecisionRecord::from_json("not json"), None);
    }

    #[test]
    fn times_format_and_parse() {
        for ms in [0, 1, 999, 1_735_787_045_678, 951_782_400_000, 4_102_444_799_999, -1] {
            assert_eq!(parse_time(&format_time(ms)), Some(ms), "{ms}");
        }
        assert_eq!(format_time(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(parse_time("2025-01-02T03:04:05Z"), Some(1_735_787_045_000));
        assert_eq!(parse_time("2025-01-02T03:04:05.5Z"), Some(1_735_787_045_500));
        for bad in ["", "2025-01-02", "2025-13-02T03:04:05Z", "2025-01-02T03:04:05+01:00", "2025-01-02T03:04:05.Z", "x"]
        {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn numbers_for_dates_are_read_too() {
        let line = DecisionLine::parse(r#"{"time":"2025-01-02T03:04:05Z","iat":5,"exp":"9","status":200}"#);
        let line = line.expect("parses");
        assert_eq!((line.iat.as_deref(), line.exp.as_deref()), (Some("5"), Some("9")));
        assert!(DecisionLine::parse(r#"{"status":200}"#).is_none(), "no time");
        assert!(DecisionLine::parse(r#"{"time":"t","iat":[1]}"#).is_none());
    }

    #[test]
    fn whole_seconds_of_claims() {
        assert_eq!(whole_seconds(&serde_json::json!(5)), Some(5));
        assert_eq!(whole_seconds(&serde_json::json!(5.9)), Some(5));
        assert_eq!(whole_seconds(&serde_json::json!(1e300)), None);
        assert_eq!(whole_seconds(&serde_json::json!("5")), None);
    }
}
