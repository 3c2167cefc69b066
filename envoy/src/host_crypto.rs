//! RSA and P-384/P-521 signatures through Envoy's `verify_signature` foreign function (BoringSSL's
//! `EVP_DigestVerify`), which runs several times faster than the same compiled to wasm.
//!
//! The core decides everything else (src/host_crypto.rs in the core): key validation, the hash
//! an algorithm names, the signature's length and range, every claim. The host only answers
//! "does this PKCS#1 v1.5 or ECDSA signature verify?"; it does not do PSS (no padding choice) or
//! Ed25519, and is no faster than the core's tables for P-256, so RS256, RS384, RS512, ES384 and
//! ES512 go to it (ECDSA as DER, which is all it takes).
//!
//! Whether the filter uses it is decided once per VM: the VM configuration may turn it off
//! (`{"host_crypto": false}`, [`VmConfig`]), and otherwise a self-test must pass first — a known
//! good signature verifies and the same signature over other bytes does not, both through the
//! very path requests take ([`self_test`]). If the host lacks the function or answers wrongly,
//! the filter verifies RSA itself and logs why. A host call that fails at request time refuses
//! the request (`ERR_HOST_CRYPTO_FAILED`); it never lets one through.
//!
//! The argument and result messages are protobuf (Envoy's `VerifySignatureArguments` and
//! `VerifySignatureResult`), encoded with `prost`. Everything here except [`EnvoyCrypto`]'s host
//! call runs natively in tests.

use edgeward::{Algorithm, ConfigError, Error, HostCrypto, HostKey, HostVerdict, KeySet};
use prost::Message;

/// Envoy's `VerifySignatureArguments` (source/extensions/common/wasm/ext/verify_signature.proto).
#[derive(Clone, PartialEq, Message)]
pub struct VerifySignatureArguments {
    /// `sha256`, `sha384` or `sha512`.
    #[prost(string, tag = "1")]
    pub hash_function: String,
    /// SubjectPublicKeyInfo, DER.
    #[prost(bytes = "vec", tag = "2")]
    pub public_key: Vec<u8>,
    /// The signature.
    #[prost(bytes = "vec", tag = "3")]
    pub signature: Vec<u8>,
    /// The signed bytes.
    #[prost(bytes = "vec", tag = "4")]
    pub text: Vec<u8>,
}

/// Envoy's `VerifySignatureResult`.
#[derive(Clone, PartialEq, Message)]
pub struct VerifySignatureResult {
    /// Whether the signature verified.
    #[prost(bool, tag = "1")]
    pub result: bool,
    /// BoringSSL's reason when it did not.
    #[prost(string, tag = "2")]
    pub error: String,
}

/// The foreign function's name.
pub const FUNCTION: &str = "verify_signature";

/// The algorithms the filter hands to the host.
pub fn host_verifies(alg: Algorithm) -> bool {
    matches!(alg, Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 | Algorithm::ES384 | Algorithm::ES512)
}

/// The arguments of one call (an ECDSA signature converted to DER); `None` for an ECDSA
/// signature that is not one (the core has refused those before).
pub fn arguments(alg: Algorithm, key: &HostKey, signing_input: &[u8], signature: &[u8]) -> Option<Vec<u8>> {
    let signature = match alg {
        Algorithm::ES384 | Algorithm::ES512 => edgeward::der_signature(alg, signature)?,
        _ => signature.to_vec(),
    };
    let arguments = VerifySignatureArguments {
        hash_function: edgeward::hash_name(alg).to_owned(),
        public_key: key.spki_der().to_vec(),
        signature,
        text: signing_input.to_vec(),
    };
    Some(arguments.encode_to_vec())
}

/// What the host's answer means; anything but a well-formed result is a failure.
pub fn verdict(answer: Result<Option<Vec<u8>>, String>) -> HostVerdict {
    match answer {
        Ok(Some(bytes)) => match VerifySignatureResult::decode(bytes.as_slice()) {
            Ok(result) if result.result => HostVerdict::Valid,
            Ok(_) => HostVerdict::Invalid,
            Err(_) => HostVerdict::Failed("the host's answer is not a VerifySignatureResult".to_owned()),
        },
        Ok(None) => HostVerdict::Failed("the host gave no answer".to_owned()),
        Err(status) => HostVerdict::Failed(format!("the host call failed: {status}")),
    }
}

/// The VM's own settings: from `vm_config.configuration` (empty, or a JSON object) and from the
/// VM's environment (`vm_config.environment_variables`; Istio's `WasmPlugin` can set only
/// `vmConfig.env`): `EDGEWARD_HOST_CRYPTO` and `EDGEWARD_FILTER_STATE`, `true` or `false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VmConfig {
    /// `host_crypto` (default `true`): verify RS256/384/512, ES384 and ES512 through the host when
    /// its self-test passes. `false` keeps all verification in the filter's own code.
    pub host_crypto: bool,
    /// `filter_state` (default `false`, like `jwt_authn`'s `payload_in_metadata`): write each
    /// decision's record into the request's filter state (`wasm.edgeward.*`). It costs a few host
    /// calls per request (measured in envoy/BENCHMARKS-envoy.md's notes).
    pub filter_state: bool,
}

/// The VM configuration when none is given.
pub const DEFAULT_VM_CONFIG: VmConfig = VmConfig { host_crypto: true, filter_state: false };

/// The settings, each with its JSON field and its environment variable.
const SETTINGS: [(&str, &str); 2] =
    [("host_crypto", "EDGEWARD_HOST_CRYPTO"), ("filter_state", "EDGEWARD_FILTER_STATE")];

impl VmConfig {
    /// Reads the VM configuration and the VM's environment. Unknown fields and unknown
    /// `EDGEWARD_*` variables are refused with their name, and so is a setting given both ways
    /// with different values.
    pub fn load<I>(configuration: &[u8], env: I) -> Result<VmConfig, ConfigError>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        let refuse = |path: &str, message: &str| ConfigError::new(path, message);
        let mut given: [Option<(bool, String)>; 2] = [None, None];
        if !configuration.iter().all(u8::is_ascii_whitespace) {
            let value: serde_json::Value =
                serde_json::from_slice(configuration).map_err(|_| refuse("", "the VM configuration is not JSON"))?;
            let serde_json::Value::Object(members) = value else {
                return Err(refuse("", "expected an object"));
            };
            for (name, value) in &members {
                let Some(i) = SETTINGS.iter().position(|(field, _)| field == name) else {
                    return Err(refuse(name, "unknown field (expected host_crypto or filter_state)"));
                };
                let serde_json::Value::Bool(on) = value else {
                    return Err(refuse(name, "expected true or false"));
                };
                given[i] = Some((*on, "the VM configuration".to_owned()));
            }
        }
        for (name, value) in env {
            if !name.starts_with("EDGEWARD_") {
                continue;
            }
            let Some(i) = SETTINGS.iter().position(|(_, var)| *var == name) else {
                return Err(refuse(&name, "unknown variable (expected EDGEWARD_HOST_CRYPTO or EDGEWARD_FILTER_STATE)"));
            };
            let on = match value.as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(refuse(&name, "expected true or false")),
            };
            match &given[i] {
                Some((other, source)) if *other != on => {
                    let message = format!("is {on} but {source} sets {} to {other}", SETTINGS[i].0);
                    return Err(refuse(&name, &message));
                }
                _ => given[i] = Some((on, name.clone())),
            }
        }
        let mut config = DEFAULT_VM_CONFIG;
        if let Some((on, _)) = given[0] {
            config.host_crypto = on;
        }
        if let Some((on, _)) = given[1] {
            config.filter_state = on;
        }
        Ok(config)
    }
}

/// The self-test key: RSA-2048, made for this test only (no one holds anything it protects).
const SELF_TEST_JWKS: &str = r#"{"keys":[{"kty":"RSA","e":"AQAB","n":"iMSccg0ELCZ1KL61fKNlwvEoSKQ0zCf5QW6xAf0xhX_Cz-N28x4FqRrhIN3thGOj2QWHTL-SWDnxkkEc-9i3DAvkQH0rnuTTR-O1KrtI4JFGAMjMXzsvYaYN2BsFgBgixTyN0OvBw72UsJA7P2aQYJ3rbM2-iI82K03bJHNiNAHzLa_RCurqe16ydJX2im0SQmEEy3RB0nGo5PN_FrqJhhRFwBvGthJRSNZ14TEFAfr4R3BsdRhAhasfBkQPbmZNey_DHd5irqTYeLm8-zrYNfL43CEPPS3CXEisYOlnv6sF0HMoEg9yZo5UGQHiySmheexnYwMFYe4hCwIJOV6uIw"}]}"#;
/// The bytes the self-test signature covers.
const SELF_TEST_MESSAGE: &[u8] = b"edgeward: host signature verification self-test";
/// RS256 over [`SELF_TEST_MESSAGE`] with the self-test key, base64url.
const SELF_TEST_SIGNATURE: &str = "ElXdaRD3Ueo3MHNORBxxcgJT3SIxGL2AlI0zlIfMOnqfonFgUednigEPlCuXNTDu6g1l7938zrQRQfgAKDSuwM6UNP4ds1L9fYPMI6j374NvI8fN0c4F94n0pT-UQftqIIjWdRL7d4IcN2fcwqk-uYVE_4mjN38bYYCM-_8uhCW473SSZKHO6PCOrEG_VAaPxzydYq5_UUHWve_0jr8zO9blNZK-5vv3JbWE12WrdkWGNi8HD1on30BujXs3Hn5k3qIU_HFOBkUWHddP6Y1PDfk-63zgvhC-ye9WKR7UJX9RDPeR6cy9ayVZGggmUG-MiDW6vRMUcRO6VXamnYYVQA";

/// The ES384 self-test key (P-384, made for this test only).
const SELF_TEST_EC_JWKS: &str = r#"{"keys":[{"kty":"EC","crv":"P-384","x":"6KsMLD4UNRhFpSuVi0jmYbTRIhzMbuO8e4ut0DowBDdxyx3JfvDhEnqJctzozIYp","y":"v-qBQvSvzf6Svahsx7LoTfFMzADizpG-4u0hob-FIvtBGU_8uE8kqj1Beoruz7Ca"}]}"#;
/// ES384 (raw r‖s) over [`SELF_TEST_MESSAGE`] with the ES384 self-test key, base64url.
const SELF_TEST_EC_SIGNATURE: &str = "7GIik_hasFv1HtrLPon3rh9Tk7fokvjpAzqE6jNXYtOF0Bdecb0BQTaX_5MgA0XVbpm_PRniYU4Ng8mUWgr01sPugYcJnFPnfNKdlUzQ9A8lLrwDqL1YPC_2cfjO-9sl";

/// Whether `host` verifies RS256 and ES384 correctly, through the core's own path: each known
/// signature must verify, and must not over other bytes or once one of its bits flips. `Err`
/// says why not.
pub fn self_test(host: &dyn HostCrypto) -> Result<(), String> {
    self_test_one(host, Algorithm::RS256, SELF_TEST_JWKS, SELF_TEST_SIGNATURE)?;
    self_test_one(host, Algorithm::ES384, SELF_TEST_EC_JWKS, SELF_TEST_EC_SIGNATURE)
}

fn self_test_one(host: &dyn HostCrypto, alg: Algorithm, jwks: &str, signature: &str) -> Result<(), String> {
    let keys = KeySet::from_bytes(jwks.as_bytes(), &[alg]).map_err(|e| e.to_string())?;
    let jwk = keys.keys().first().ok_or("the self-test key did not load")?;
    let signature = edgeward::base64url::decode(signature).ok_or("the self-test signature is not base64url")?;
    let check = |message: &[u8], signature: &[u8]| edgeward::verify_signature(Some(host), alg, jwk, message, signature);
    match check(SELF_TEST_MESSAGE, &signature) {
        Ok(()) => {}
        Err(Error::HostCrypto { reason }) => return Err(reason),
        Err(e) => return Err(format!("a valid {} signature was refused ({})", alg.name(), e.code())),
    }
    let mut flipped = signature.clone();
    if let Some(last) = flipped.last_mut() {
        *last ^= 0x01;
    }
    for (message, signature) in [(&b"edgeward: another message"[..], &signature), (SELF_TEST_MESSAGE, &flipped)] {
        match check(message, signature) {
            Err(Error::BadSignature) => {}
            Ok(()) => return Err(format!("an invalid {} signature was accepted", alg.name())),
            Err(e) => return Err(format!("an invalid {} signature gave {}", alg.name(), e.code())),
        }
    }
    Ok(())
}

/// The host's `verify_signature`, for RS256/384/512, ES384 and ES512.
#[cfg(target_arch = "wasm32")]
pub struct EnvoyCrypto;

#[cfg(target_arch = "wasm32")]
impl HostCrypto for EnvoyCrypto {
    fn supports(&self, alg: Algorithm) -> bool {
        host_verifies(alg)
    }

    fn verify(&self, alg: Algorithm, key: &HostKey, signing_input: &[u8], signature: &[u8]) -> HostVerdict {
        let Some(arguments) = arguments(alg, key, signing_input, signature) else {
            return HostVerdict::Invalid;
        };
        let answer = proxy_wasm::hostcalls::call_foreign_function(FUNCTION, Some(&arguments))
            .map_err(|status| format!("{status:?}"));
        verdict(answer)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A stand-in host that verifies with the core itself (the arguments decoded back, so the
    /// encoding is exercised too).
    struct Loopback;

    impl HostCrypto for Loopback {
        fn supports(&self, alg: Algorithm) -> bool {
            host_verifies(alg)
        }
        fn verify(&self, alg: Algorithm, key: &HostKey, input: &[u8], signature: &[u8]) -> HostVerdict {
            let args =
                VerifySignatureArguments::decode(arguments(alg, key, input, signature).unwrap().as_slice()).unwrap();
            assert_eq!(args.public_key, key.spki_der());
            let (jwks, raw) = match alg {
                Algorithm::RS256 => (SELF_TEST_JWKS, args.signature.clone()),
                Algorithm::ES384 => {
                    assert_eq!(args.hash_function, "sha384");
                    // The host got DER; back to r‖s for the core.
                    let der = p384::ecdsa::Signature::from_der(&args.signature).unwrap();
                    (SELF_TEST_EC_JWKS, der.to_bytes().to_vec())
                }
                other => panic!("unexpected {other:?}"),
            };
            let keys = KeySet::from_bytes(jwks.as_bytes(), &[alg]).unwrap();
            let ok = edgeward::verify_signature(None, alg, &keys.keys()[0], &args.text, &raw).is_ok();
            let answer = VerifySignatureResult { result: ok, error: String::new() }.encode_to_vec();
            verdict(Ok(Some(answer)))
        }
    }

    /// A host that says yes to everything.
    struct Yes;

    impl HostCrypto for Yes {
        fn supports(&self, _: Algorithm) -> bool {
            true
        }
        fn verify(&self, _: Algorithm, _: &HostKey, _: &[u8], _: &[u8]) -> HostVerdict {
            HostVerdict::Valid
        }
    }

    #[test]
    fn the_self_test_passes_a_correct_host_and_fails_a_lax_one() {
        assert_eq!(self_test(&Loopback), Ok(()));
        assert_eq!(self_test(&Yes), Err("an invalid RS256 signature was accepted".to_owned()));
    }

    #[test]
    fn the_self_test_vector_verifies_in_the_core() {
        let keys = KeySet::from_bytes(SELF_TEST_JWKS.as_bytes(), &[Algorithm::RS256]).unwrap();
        let signature = edgeward::base64url::decode(SELF_TEST_SIGNATURE).unwrap();
        assert!(
            edgeward::verify_signature(None, Algorithm::RS256, &keys.keys()[0], SELF_TEST_MESSAGE, &signature).is_ok()
        );
    }

    #[test]
    fn answers_other_than_a_result_fail_closed() {
        let yes = VerifySignatureResult { result: true, error: String::new() }.encode_to_vec();
        let no = VerifySignatureResult { result: false, error: "BAD_SIGNATURE".into() }.encode_to_vec();
        assert_eq!(verdict(Ok(Some(yes))), HostVerdict::Valid);
        assert_eq!(verdict(Ok(Some(no))), HostVerdict::Invalid);
        // An empty message decodes to result = false (protobuf defaults): a refusal, not a pass.
        assert_eq!(verdict(Ok(Some(Vec::new()))), HostVerdict::Invalid);
        assert!(matches!(verdict(Ok(None)), HostVerdict::Failed(_)));
        assert!(matches!(verdict(Err("NotFound".into())), HostVerdict::Failed(_)));
        assert!(matches!(verdict(Ok(Some(vec![0xff, 0xff]))), HostVerdict::Failed(_)));
    }

    #[test]
    fn pkcs1_rsa_and_p384_p521_go_to_the_host() {
        let host: Vec<Algorithm> = Algorithm::ALL.into_iter().filter(|a| host_verifies(*a)).collect();
        assert_eq!(host, [Algorithm::ES384, Algorithm::ES512, Algorithm::RS256, Algorithm::RS384, Algorithm::RS512]);
    }

    #[test]
    fn the_vm_configuration_is_strict() {
        let from_bytes = |text: &[u8]| VmConfig::load(text, []);
        assert_eq!(from_bytes(b"").unwrap(), VmConfig { host_crypto: true, filter_state: false });
        assert_eq!(
            from_bytes(br#"{"host_crypto":false}"#).unwrap(),
            VmConfig { host_crypto: false, filter_state: false }
        );
        assert_eq!(
            from_bytes(br#"{"filter_state":true}"#).unwrap(),
            VmConfig { host_crypto: true, filter_state: true }
        );
        let path = |text: &[u8]| from_bytes(text).unwrap_err().path;
        assert_eq!(path(br#"{"filter_state":1}"#), "filter_state");
        assert_eq!(path(br#"{"host_crypto":"no"}"#), "host_crypto");
        assert_eq!(path(br#"{"hostcrypto":false}"#), "hostcrypto");
        assert_eq!(path(b"[1]"), "");
        assert_eq!(path(b"{"), "");
    }

    #[test]
    fn the_environment_sets_what_istio_cannot_put_in_the_configuration() {
        let env =
            |vars: &[(&str, &str)]| vars.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect::<Vec<_>>();
        let load = |text: &[u8], vars: &[(&str, &str)]| VmConfig::load(text, env(vars));
        assert_eq!(
            load(b"", &[("EDGEWARD_FILTER_STATE", "true"), ("HOME", "/"), ("EDGEWARDX", "1")]).unwrap(),
            VmConfig { host_crypto: true, filter_state: true }
        );
        assert_eq!(
            load(b"", &[("EDGEWARD_HOST_CRYPTO", "false")]).unwrap(),
            VmConfig { host_crypto: false, filter_state: false }
        );
        // Both ways, agreeing: fine; disagreeing: refused, naming both.
        assert!(load(br#"{"filter_state":true}"#, &[("EDGEWARD_FILTER_STATE", "true")]).unwrap().filter_state);
        let refused = load(br#"{"filter_state":true}"#, &[("EDGEWARD_FILTER_STATE", "false")]).unwrap_err();
        assert_eq!(refused.path, "EDGEWARD_FILTER_STATE");
        assert_eq!(refused.message, "is false but the VM configuration sets filter_state to true");
        assert_eq!(load(b"", &[("EDGEWARD_FILTER_STATE", "1")]).unwrap_err().path, "EDGEWARD_FILTER_STATE");
        assert_eq!(load(b"", &[("EDGEWARD_FILTERSTATE", "true")]).unwrap_err().path, "EDGEWARD_FILTERSTATE");
    }
}
