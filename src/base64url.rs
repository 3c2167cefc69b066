//! Strict base64url (RFC 7515 §2): the URL-safe alphabet, no padding, no whitespace, and no
//! non-zero bits left over in the last character. Anything else is refused, so a token has
//! exactly one encoding and the signature covers exactly what was received.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Decodes strict unpadded base64url; `None` for any deviation.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    // The engine refuses padding, characters outside the alphabet and non-canonical trailing bits.
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// Encodes bytes as unpadded base64url.
pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for len in 0..40 {
            let bytes: Vec<u8> = (0..len).map(|i| u8::try_from(i * 37 % 256).unwrap_or(0)).collect();
            assert_eq!(decode(&encode(&bytes)).as_deref(), Some(&bytes[..]));
        }
    }

    #[test]
    fn refuses_padding_standard_alphabet_and_whitespace() {
        assert_eq!(decode("YQ"), Some(b"a".to_vec()));
        assert_eq!(decode("YQ=="), None);
        assert_eq!(decode("YQ="), None);
        assert_eq!(decode("+/8"), None);
        assert_eq!(decode("-_8"), Some(vec![0xfb, 0xff]));
        assert_eq!(decode("Y Q"), None);
        assert_eq!(decode("YQ\n"), None);
        assert_eq!(decode("Y"), None, "a single leftover character encodes no byte");
    }

    #[test]
    fn refuses_non_zero_trailing_bits() {
        // "YQ" is 'a'; "YR" carries the same byte with a non-zero unused bit.
        assert_eq!(decode("YR"), None);
        assert_eq!(decode("YWI"), Some(b"ab".to_vec()));
        assert_eq!(decode("YWJ"), None);
    }
}
