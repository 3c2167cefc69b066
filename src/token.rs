//! Compact JWS parsing: from untrusted text to an [`UnverifiedToken`] whose header parameters
//! and registered claims have been type-checked, but whose signature has not been checked yet.
//! Only [`crate::Verifier`] turns one into a [`crate::VerifiedToken`].

use crate::base64url;
use crate::error::{Error, Limit, Malformed, Unsupported};
use crate::json::{self, JsonError};
use serde_json::{Map, Value};

/// Default cap on a token's length in bytes, checked before any decoding.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Deepest JSON nesting accepted in a token's header or payload.
pub const MAX_JSON_DEPTH: usize = 16;
/// Most JSON values (members, elements and scalars, counted at every depth) in a token's header
/// or payload. Real access tokens have tens (an Azure AD token with its 200-group cap about 230);
/// a 16 KiB token of a thousand one-letter members would cost its parser several times a
/// signature check.
pub const MAX_JSON_VALUES: usize = 512;

/// A compact JWS whose structure and types are valid and whose signature is not yet verified.
#[derive(Debug, Clone)]
pub struct UnverifiedToken<'a> {
    /// `BASE64URL(header) '.' BASE64URL(payload)`: exactly the bytes the signature covers.
    pub signing_input: &'a str,
    /// The decoded signature bytes.
    pub signature: Vec<u8>,
    /// The protected header.
    pub header: Map<String, Value>,
    /// The claims.
    pub claims: Map<String, Value>,
    /// `alg`, exactly as sent.
    pub alg: String,
    /// `kid`, if sent.
    pub kid: Option<String>,
    /// `typ`, if sent.
    pub typ: Option<String>,
    /// The registered claims, type-checked.
    pub registered: RegisteredClaims,
}

/// Registered claims with their types checked (RFC 7519 §4.1, RFC 8693 §4.2, RFC 9068).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RegisteredClaims {
    /// `exp` (NumericDate).
    pub exp: Option<f64>,
    /// `nbf` (NumericDate).
    pub nbf: Option<f64>,
    /// `iat` (NumericDate).
    pub iat: Option<f64>,
    /// `iss`.
    pub iss: Option<String>,
    /// `aud`, a string read as a one-element list; `None` when absent.
    pub aud: Option<Vec<String>>,
    /// Granted scopes: the words of `scope` plus those of `scp`, in order, without repeats.
    pub scopes: Vec<String>,
}

/// A compact JWS whose header has been read and whose signature and payload are decoded, but
/// whose payload JSON is not read yet: what a verifier needs to pick the key and check the signature, so that
/// only a token whose signature verified has its claims parsed.
#[derive(Debug, Clone)]
pub(crate) struct SignedToken<'a> {
    pub signing_input: &'a str,
    /// The payload's bytes (strict base64url already checked; the JSON not read yet).
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
    pub header: Map<String, Value>,
    pub alg: String,
    pub kid: Option<String>,
    pub typ: Option<String>,
}

impl<'a> SignedToken<'a> {
    /// The size cap, the three segments, the header (types, `crit`, `b64`), and the base64url of
    /// payload and signature: everything before the signature check, in linear time.
    pub(crate) fn parse(token: &'a str, max_bytes: usize) -> Result<SignedToken<'a>, Error> {
        if token.len() > max_bytes {
            return Err(Error::LimitExceeded(Limit::TokenBytes));
        }
        let mut segments = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (segments.next(), segments.next(), segments.next(), segments.next())
        else {
            return Err(Error::Malformed(Malformed::Segments));
        };
        let signing_input = &token[..header_b64.len() + 1 + payload_b64.len()];

        let header = decode_object(header_b64)?;
        let alg = match header.get("alg") {
            Some(Value::String(alg)) => alg.clone(),
            _ => return Err(Error::Malformed(Malformed::HeaderType)),
        };
        let kid = optional_header_string(&header, "kid")?;
        let typ = optional_header_string(&header, "typ")?;
        if header.contains_key("crit") {
            // We understand no JOSE extension, so any `crit` (or a malformed one) is refused.
            return Err(Error::NotSupported(Unsupported::Crit));
        }
        match header.get("b64") {
            None | Some(Value::Bool(true)) => {}
            Some(Value::Bool(false)) => return Err(Error::NotSupported(Unsupported::UnencodedPayload)),
            Some(_) => return Err(Error::Malformed(Malformed::HeaderType)),
        }
        let payload = base64url::decode(payload_b64).ok_or(Error::Malformed(Malformed::Base64))?;
        let signature = base64url::decode(signature_b64).ok_or(Error::Malformed(Malformed::Base64))?;
        Ok(SignedToken { signing_input, payload, signature, header, alg, kid, typ })
    }

    /// The payload, read once the signature has verified (or for display).
    pub(crate) fn with_claims(self) -> Result<UnverifiedToken<'a>, Error> {
        let claims = json_object(&self.payload)?;
        let registered = RegisteredClaims::read(&claims)?;
        let SignedToken { signing_input, signature, header, alg, kid, typ, .. } = self;
        Ok(UnverifiedToken { signing_input, signature, header, claims, alg, kid, typ, registered })
    }
}

impl<'a> UnverifiedToken<'a> {
    /// Parses a compact JWS, refusing anything longer than `max_bytes` before decoding.
    pub fn parse(token: &'a str, max_bytes: usize) -> Result<UnverifiedToken<'a>, Error> {
        SignedToken::parse(token, max_bytes)?.with_claims()
    }
}

pub(crate) fn decode_object(segment: &str) -> Result<Map<String, Value>, Error> {
    json_object(&base64url::decode(segment).ok_or(Error::Malformed(Malformed::Base64))?)
}

fn json_object(bytes: &[u8]) -> Result<Map<String, Value>, Error> {
    json::parse_object(bytes, MAX_JSON_DEPTH, MAX_JSON_VALUES).map_err(|e| match e {
        JsonError::Syntax(_) => Error::Malformed(Malformed::Json),
        JsonError::DuplicateMember => Error::Malformed(Malformed::DuplicateMember),
        JsonError::TooDeep => Error::LimitExceeded(Limit::JsonDepth),
        JsonError::TooManyValues => Error::LimitExceeded(Limit::JsonValues),
    })
}

fn optional_header_string(header: &Map<String, Value>, name: &str) -> Result<Option<String>, Error> {
    match header.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Error::Malformed(Malformed::HeaderType)),
    }
}

impl RegisteredClaims {
    fn read(claims: &Map<String, Value>) -> Result<RegisteredClaims, Error> {
        let wrong = |claim: &str| Error::ClaimType { claim: claim.to_owned() };
        let date = |claim: &str| -> Result<Option<f64>, Error> {
            match claims.get(claim) {
                None => Ok(None),
                // serde_json numbers are finite; as_f64 is exact for every integer below 2^53.
                Some(Value::Number(n)) => n.as_f64().filter(|v| v.is_finite()).map(Some).ok_or_else(|| wrong(claim)),
                Some(_) => Err(wrong(claim)),
            }
        };
        let string = |claim: &str| -> Result<Option<String>, Error> {
            match claims.get(claim) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(wrong(claim)),
            }
        };
        let strings = |claim: &str| -> Result<Option<Vec<String>>, Error> {
            match claims.get(claim) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|item| item.as_str().map(str::to_owned).ok_or_else(|| wrong(claim)))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Some),
                Some(_) => Err(wrong(claim)),
            }
        };
        // `sub` and `jti` are only type-checked.
        string("sub")?;
        string("jti")?;

        let mut scopes: Vec<String> = Vec::new();
        let mut grant = |word: &str| {
            if !word.is_empty() && !scopes.iter().any(|s| s == word) {
                scopes.push(word.to_owned());
            }
        };
        if let Some(scope) = string("scope")? {
            scope.split(' ').for_each(&mut grant);
        }
        match claims.get("scp") {
            None => {}
            Some(Value::String(scp)) => scp.split(' ').for_each(&mut grant),
            Some(Value::Array(items)) => {
                for item in items {
                    grant(item.as_str().ok_or_else(|| wrong("scp"))?);
                }
            }
            Some(_) => return Err(wrong("scp")),
        }

        Ok(RegisteredClaims {
            exp: date("exp")?,
            nbf: date("nbf")?,
            iat: date("iat")?,
            iss: string("iss")?,
            aud: strings("aud")?,
            scopes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(json: &str) -> String {
        base64url::encode(json.as_bytes())
    }

    fn token(header: &str, payload: &str) -> String {
        format!("{}.{}.{}", b64(header), b64(payload), base64url::encode(&[1, 2, 3]))
    }

    fn parse(t: &str) -> Result<UnverifiedToken<'_>, Error> {
        UnverifiedToken::parse(t, DEFAULT_MAX_TOKEN_BYTES)
    }

    #[test]
    fn parses_a_well_formed_token() {
        let t = token(
            r#"{"alg":"ES256","kid":"k1","typ":"at+jwt"}"#,
            r#"{"iss":"i","aud":"a","exp":10,"scope":"a b","scp":["b","c"]}"#,
        );
        let u = parse(&t).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(u.alg, "ES256");
        assert_eq!(u.kid.as_deref(), Some("k1"));
        assert_eq!(u.registered.aud, Some(vec!["a".to_owned()]));
        assert_eq!(u.registered.scopes, ["a", "b", "c"]);
        assert_eq!(u.registered.exp, Some(10.0));
        assert_eq!(u.signing_input, &t[..t.rfind('.').unwrap_or(0)]);
        assert_eq!(u.signature, [1, 2, 3]);
    }

    #[test]
    fn segment_count_is_exact() {
        for bad in ["a.b", "a.b.c.d", "a.b.c.d.e", "", ".", "...."] {
            assert_eq!(parse(bad).err(), Some(Error::Malformed(Malformed::Segments)), "{bad}");
        }
    }

    #[test]
    fn the_size_cap_comes_before_decoding() {
        let long = "!".repeat(DEFAULT_MAX_TOKEN_BYTES + 1);
        assert_eq!(parse(&long).err(), Some(Error::LimitExceeded(Limit::TokenBytes)));
    }

    #[test]
    fn scope_splits_on_space_only() {
        let t = token(r#"{"alg":"ES256"}"#, r#"{"scope":"a\tb  c"}"#);
        let u = parse(&t).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(u.registered.scopes, ["a\tb", "c"]);
    }

    #[test]
    fn claim_types_are_checked() {
        for (payload, claim) in [
            (r#"{"exp":"10"}"#, "exp"),
            (r#"{"nbf":true}"#, "nbf"),
            (r#"{"iat":null}"#, "iat"),
            (r#"{"iss":1}"#, "iss"),
            (r#"{"aud":[1]}"#, "aud"),
            (r#"{"aud":{}}"#, "aud"),
            (r#"{"scope":["a"]}"#, "scope"),
            (r#"{"scp":[1]}"#, "scp"),
            (r#"{"sub":2}"#, "sub"),
        ] {
            let t = token(r#"{"alg":"ES256"}"#, payload);
            assert_eq!(parse(&t).err(), Some(Error::ClaimType { claim: claim.into() }), "{payload}");
        }
    }

    #[test]
    fn header_parameters_are_checked() {
        let cases = [
            (r#"{"kid":"x"}"#, Error::Malformed(Malformed::HeaderType)),
            (r#"{"alg":1}"#, Error::Malformed(Malformed::HeaderType)),
            (r#"{"alg":"ES256","kid":1}"#, Error::Malformed(Malformed::HeaderType)),
            (r#"{"alg":"ES256","crit":["exp"],"exp":1}"#, Error::NotSupported(Unsupported::Crit)),
            (r#"{"alg":"ES256","crit":[]}"#, Error::NotSupported(Unsupported::Crit)),
            (r#"{"alg":"ES256","crit":"b64"}"#, Error::NotSupported(Unsupported::Crit)),
            (r#"{"alg":"ES256","b64":false,"crit":["b64"]}"#, Error::NotSupported(Unsupported::Crit)),
            (r#"{"alg":"ES256","b64":false}"#, Error::NotSupported(Unsupported::UnencodedPayload)),
            (r#"{"alg":"ES256","b64":"no"}"#, Error::Malformed(Malformed::HeaderType)),
            (r#"{"alg":"ES256","alg":"none"}"#, Error::Malformed(Malformed::DuplicateMember)),
            (r#"["ES256"]"#, Error::Malformed(Malformed::Json)),
        ];
        for (header, want) in cases {
            assert_eq!(parse(&token(header, "{}")).err(), Some(want), "{header}");
        }
    }
}
