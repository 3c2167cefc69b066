//! Claim checks after the signature has verified: time (re-checked on every cache hit),
//! the provider's static expectations (checked once per token), and scopes (per request).

use crate::error::{ClaimFailure, Error};
use crate::policy::Provider;
use crate::token::RegisteredClaims;
use serde_json::{Map, Value};

/// Seconds as `f64`. NumericDates may be fractional, so time is compared in `f64`: exact for
/// every integer below 2^53, and it saturates to ±∞ instead of overflowing.
#[allow(clippy::as_conversions)] // i64 → f64 has no lossless From; the rounding above 2^53 is harmless.
fn seconds(value: i64) -> f64 {
    value as f64
}

#[allow(clippy::as_conversions)] // u64 → f64, bounded by the policy limits far below 2^53.
fn seconds_u(value: u64) -> f64 {
    value as f64
}

/// Whether a DPoP proof's `iat` is at most `max_age` seconds old and not in the future, with the
/// provider's skew both ways.
pub(crate) fn within_age(iat: f64, now: i64, max_age: u64, skew_seconds: u64) -> bool {
    let (now, skew) = (seconds(now), seconds_u(skew_seconds));
    iat <= now + skew && now - iat <= seconds_u(max_age) + skew
}

/// `exp`, `nbf` and `iat` against `now`, with the provider's skew.
pub(crate) fn check_time(claims: &RegisteredClaims, skew_seconds: u64, now: i64) -> Result<(), Error> {
    let (now, skew) = (seconds(now), seconds_u(skew_seconds));
    let exp = claims.exp.ok_or_else(|| Error::claim_error("exp", ClaimFailure::Missing))?;
    if now >= exp + skew {
        return Err(Error::Expired);
    }
    if let Some(nbf) = claims.nbf {
        if now < nbf - skew {
            return Err(Error::claim_error("nbf", ClaimFailure::NotYetValid));
        }
    }
    if let Some(iat) = claims.iat {
        if iat > now + skew {
            return Err(Error::claim_error("iat", ClaimFailure::IssuedInFuture));
        }
    }
    Ok(())
}

/// What depends only on the token and the provider: `iss`, `aud`, `typ`, required claims and
/// the lifetime bound.
pub(crate) fn check_static(
    claims: &RegisteredClaims,
    all_claims: &Map<String, Value>,
    typ: Option<&str>,
    provider: &Provider,
) -> Result<(), Error> {
    match &claims.iss {
        None => return Err(Error::claim_error("iss", ClaimFailure::Missing)),
        Some(iss) if *iss != provider.issuer => return Err(Error::claim_mismatch("iss", quoted(&[&provider.issuer]))),
        Some(_) => {}
    }
    match &claims.aud {
        None => return Err(Error::claim_error("aud", ClaimFailure::Missing)),
        Some(aud) if !aud.iter().any(|a| provider.audiences.contains(a)) => {
            return Err(Error::claim_mismatch("aud", one_of(&provider.audiences)));
        }
        Some(_) => {}
    }
    if !provider.accepts_type(typ) {
        let expected = one_of(provider.token_types.as_deref().unwrap_or_default());
        let reason = if typ.is_none() { ClaimFailure::Missing } else { ClaimFailure::Mismatch };
        return Err(Error::Claim { claim: "typ".to_owned(), reason, expected: Some(expected) });
    }
    if let Some(missing) =
        provider.required_claims.iter().find(|c| all_claims.get(c.as_str()).is_none_or(Value::is_null))
    {
        return Err(Error::claim_error(missing, ClaimFailure::Missing));
    }
    if let Some(max) = provider.max_lifetime_seconds {
        let exceeded = |lifetime| Error::LifetimeExceeded { lifetime, max, default: provider.max_lifetime_is_default };
        match (claims.exp, claims.iat) {
            (Some(exp), Some(iat)) if exp - iat <= seconds_u(max) => {}
            (Some(exp), Some(iat)) => return Err(exceeded(Some(whole_seconds(exp - iat)))),
            _ => return Err(exceeded(None)),
        }
    }
    Ok(())
}

/// A lifetime over the bound, in whole seconds rounded up (saturating).
#[allow(clippy::as_conversions)] // f64 → u64 saturates (NaN gives 0); only shown in messages.
fn whole_seconds(value: f64) -> u64 {
    value.ceil() as u64
}

pub(crate) fn quoted(values: &[&String]) -> String {
    values.iter().map(|v| format!("\"{v}\"")).collect::<Vec<_>>().join(", ")
}

/// `"a"`, or `one of "a", "b"`: what the provider accepts, for a message.
fn one_of(values: &[String]) -> String {
    let list = quoted(&values.iter().collect::<Vec<_>>());
    if values.len() == 1 { list } else { format!("one of {list}") }
}

/// A wildcard scope: any scope containing `*` (`*`, `read:*`, `admin:*`, …).
pub(crate) fn is_wildcard(scope: &str) -> bool {
    scope.contains('*')
}

/// Every required scope must be granted, exactly.
pub(crate) fn check_scopes<S: AsRef<str>>(granted: &[String], required: &[S]) -> Result<(), Error> {
    if required.iter().all(|r| granted.iter().any(|g| g == r.as_ref())) {
        Ok(())
    } else {
        Err(Error::InsufficientScope { needed: required.iter().map(|r| r.as_ref().to_owned()).collect() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: Option<f64>, nbf: Option<f64>, iat: Option<f64>) -> RegisteredClaims {
        RegisteredClaims { exp, nbf, iat, ..RegisteredClaims::default() }
    }

    #[test]
    fn exp_boundary_is_exclusive() {
        let c = claims(Some(1000.0), None, None);
        assert_eq!(check_time(&c, 30, 1029), Ok(()));
        assert_eq!(check_time(&c, 30, 1030), Err(Error::Expired));
        assert_eq!(check_time(&c, 0, 999), Ok(()));
        assert_eq!(check_time(&c, 0, 1000), Err(Error::Expired));
    }

    #[test]
    fn fractional_exp() {
        let c = claims(Some(1000.5), None, None);
        assert_eq!(check_time(&c, 0, 1000), Ok(()));
        assert_eq!(check_time(&c, 0, 1001), Err(Error::Expired));
    }

    #[test]
    fn nbf_and_iat_use_the_skew() {
        let c = claims(Some(5000.0), Some(1000.0), None);
        assert_eq!(check_time(&c, 30, 970), Ok(()));
        assert_eq!(check_time(&c, 30, 969), Err(Error::claim_error("nbf", ClaimFailure::NotYetValid)));
        let c = claims(Some(5000.0), None, Some(1000.0));
        assert_eq!(check_time(&c, 30, 970), Ok(()));
        assert_eq!(check_time(&c, 30, 969), Err(Error::claim_error("iat", ClaimFailure::IssuedInFuture)));
    }

    #[test]
    fn exp_is_required() {
        assert_eq!(check_time(&claims(None, None, None), 30, 0), Err(Error::claim_error("exp", ClaimFailure::Missing)));
    }

    #[test]
    fn extreme_values_do_not_overflow() {
        assert_eq!(check_time(&claims(Some(f64::MAX), Some(-f64::MAX), Some(-f64::MAX)), 86_400, i64::MAX), Ok(()));
        assert_eq!(check_time(&claims(Some(-f64::MAX), None, None), 86_400, i64::MIN), Err(Error::Expired));
    }

    #[test]
    fn scopes_match_exactly() {
        let granted = vec!["read:orders".to_owned(), "write".to_owned()];
        assert_eq!(check_scopes(&granted, &["read:orders"]), Ok(()));
        assert_eq!(check_scopes::<&str>(&granted, &[]), Ok(()));
        for needed in ["READ:orders", "read:order", "read:orders ", "read"] {
            assert!(check_scopes(&granted, &[needed]).is_err(), "{needed}");
        }
        assert_eq!(
            check_scopes(&granted, &["read:orders", "admin"]),
            Err(Error::InsufficientScope { needed: vec!["read:orders".into(), "admin".into()] })
        );
    }

    #[test]
    fn wildcards() {
        for s in ["*", "read:*", "admin:*", "a*b"] {
            assert!(is_wildcard(s));
        }
        assert!(!is_wildcard("read:orders"));
    }
}
