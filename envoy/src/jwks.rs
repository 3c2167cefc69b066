//! What a fetched JWKS must be before it may replace the stored one (the core keeps a provider's
//! inline keys beside the fetched ones when a worker loads it), and what a fetched discovery
//! document must be before its `jwks_uri` is fetched.

use edgeward::{Algorithm, Discovery, KeySet, MAX_JWKS_BYTES};

/// Why a fetched document was not stored. `Display` names the reason only, never content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The identity provider answered with another status than 200.
    Status(String),
    /// The body is larger than [`MAX_JWKS_BYTES`] (not even read).
    TooLarge(usize),
    /// The core refused the document (code `ERR_JWKS_INVALID`; the path of the bad member).
    Invalid(String),
    /// The document holds no key usable with the provider's algorithms.
    NoUsableKeys,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Status(status) => write!(f, "HTTP status {status}"),
            Refused::TooLarge(size) => write!(f, "body of {size} bytes is over the {MAX_JWKS_BYTES}-byte limit"),
            Refused::Invalid(reason) => write!(f, "document refused: {reason}"),
            Refused::NoUsableKeys => f.write_str("document holds no usable key"),
        }
    }
}

/// Checks the answer's status and size before the body is read.
pub fn check_head(status: Option<&str>, body_size: usize) -> Result<(), Refused> {
    if status != Some("200") {
        return Err(Refused::Status(status.unwrap_or("none").to_owned()));
    }
    if body_size > MAX_JWKS_BYTES {
        return Err(Refused::TooLarge(body_size));
    }
    Ok(())
}

/// A fetched document the core accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// Usable keys.
    pub keys: usize,
    /// Keys left out as unusable: `keys[i].member: why` (never key material).
    pub refused: Vec<String>,
}

/// Checks a fetched document with the core, as the provider (`algorithms`, `max_rsa_bits`) reads it.
pub fn check_document(body: &[u8], algorithms: &[Algorithm], max_rsa_bits: usize) -> Result<Checked, Refused> {
    let set = KeySet::from_bytes_with(body, algorithms, max_rsa_bits).map_err(|e| Refused::Invalid(e.to_string()))?;
    if set.is_empty() {
        return Err(Refused::NoUsableKeys);
    }
    Ok(Checked { keys: set.keys().len(), refused: set.refused().iter().map(ToString::to_string).collect() })
}

/// Checks a fetched discovery document with the core: it must name `issuer` exactly; gives its
/// `jwks_uri`.
pub fn check_discovery(body: &[u8], issuer: &str) -> Result<Discovery, Refused> {
    Discovery::from_bytes(body, issuer).map_err(|e| Refused::Invalid(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgeward::issuer::{PrivateJwk, jwks};

    fn key(kid: &str) -> PrivateJwk {
        PrivateJwk::generate(Algorithm::ES256, Some(kid)).unwrap()
    }

    #[test]
    fn only_a_200_within_the_size_cap_is_read() {
        assert_eq!(check_head(Some("200"), 10), Ok(()));
        assert_eq!(check_head(Some("503"), 10), Err(Refused::Status("503".into())));
        assert_eq!(check_head(None, 10), Err(Refused::Status("none".into())));
        assert_eq!(check_head(Some("200"), MAX_JWKS_BYTES + 1), Err(Refused::TooLarge(MAX_JWKS_BYTES + 1)));
    }

    #[test]
    fn garbage_and_keyless_documents_are_refused() {
        let es256 = [Algorithm::ES256];
        assert!(matches!(check_document(b"<html>oops</html>", &es256, 4096), Err(Refused::Invalid(_))));
        assert!(check_document(br#"{"keys":[{"kty":"EC"}]}"#, &es256, 4096).is_err());
        assert!(matches!(check_document(br#"{"keys":{}}"#, &es256, 4096), Err(Refused::Invalid(_))));
        assert!(matches!(check_document(br#"{"keys":[]}"#, &es256, 4096), Err(Refused::Invalid(_))));
        let good = jwks(&[&key("a"), &key("b")]).to_string();
        assert_eq!(check_document(good.as_bytes(), &es256, 4096), Ok(Checked { keys: 2, refused: vec![] }));
        let private = key("p").to_json().to_string();
        let refused = check_document(format!(r#"{{"keys":[{private}]}}"#).as_bytes(), &es256, 4096).unwrap_err();
        assert!(!refused.to_string().contains(&private[10..30]), "no key material in messages");
    }

    #[test]
    fn a_discovery_document_must_name_the_issuer() {
        let good = br#"{"issuer":"https://idp","jwks_uri":"https://idp/keys"}"#;
        assert_eq!(check_discovery(good, "https://idp").unwrap().jwks_uri, "https://idp/keys");
        let Err(Refused::Invalid(reason)) = check_discovery(good, "https://other") else { panic!("accepted") };
        assert!(reason.contains("issuer"), "{reason}");
        assert!(matches!(check_discovery(b"{}", "https://idp"), Err(Refused::Invalid(_))));
    }

    #[test]
    fn one_bad_key_is_left_out_and_reported_the_others_load() {
        let mut document = jwks(&[&key("a"), &key("b")]);
        document["keys"][0]["x"] = serde_json::json!("AAAA");
        let checked = check_document(document.to_string().as_bytes(), &[Algorithm::ES256], 4096).unwrap();
        assert_eq!(checked.keys, 1);
        assert_eq!(checked.refused, vec!["keys[0].x: expected exactly 32 bytes".to_owned()]);
    }
}
