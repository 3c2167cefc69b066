//! The issuer's side, for development and tests (feature `issuer`): key generation, private
//! JWKs and signing. Not part of the verifier.
