//! The Envoy filter's request path, natively: the core's `Verifier::decide` (what the proxy-wasm
//! glue and the npm middleware call for every request) and `decision::response`, with the filter's
//! own configuration reader. The input chooses method, path and headers (tokens signed by the
//! providers' keys with chosen claims, or anything). Invariants: a client never chooses a claim
//! header; set header values are clean; a granted request verifies on its own; dot segments are
//! never allowed; a refusal is a well-formed local reply that never quotes a token.
#![no_main]
use edgeward::issuer::{PrivateJwk, jwks};
use edgeward::{Request, Verifier, base64url, normalized_header_name};
use edgeward_envoy::config::FilterConfig;
use edgeward_envoy::decision::response;
use libfuzzer_sys::arbitrary::{Result as Parsed, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};
use std::sync::OnceLock;

const NOW: i64 = 2_000_000_000;
const ES_KEY: &str = r#"{"kty":"EC","crv":"P-256","kid":"es","alg":"ES256","x":"nVlCPl8ugQfkFru1RCQHLyao1szpVfb69sA-yXTQD_I","y":"pr78uKimuWOhHazGdmMnM2frJel-0fQ1Ammk2kXFzc0","d":"-WUGe9z7CJCL2UpT1BUuV1PXUA_IWkz-K4tYAgIITw4"}"#;
const ED_KEY: &str = r#"{"kty":"OKP","crv":"Ed25519","kid":"ed","alg":"EdDSA","x":"59FuiPZp3QJVyxbEaCEz-ebiFKYZdLDBVYH6ked9c3o","d":"ANIYs-d0VBnpNQbGXpkaIGawOvc0uWjxx5deJTEU9nY"}"#;

struct Fixture {
    config: FilterConfig,
    keys: [PrivateJwk; 2],
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let keys = [ES_KEY, ED_KEY].map(|text| PrivateJwk::from_json(text).expect("fixed fuzz key"));
        let config = json!({
            "providers": {
                "idp": {
                    "issuer": "https://idp", "audiences": ["api"], "local_jwks": jwks(&[&keys[0]]),
                    "claim_to_headers": [ { "claim_name": "sub", "header_name": "x-bot-id" },
                                          { "claim_name": "n", "header_name": "x-n" } ]
                },
                "ci": {
                    "issuer": "https://ci", "audiences": ["api"], "algorithms": ["EdDSA"], "local_jwks": jwks(&[&keys[1]]),
                    "from_headers": [ { "name": "x-ci-token" } ], "forward": true,
                    "claim_to_headers": [ { "claim_name": "sub", "header_name": "x-ci-job" } ]
                }
            },
            "rules": [
                { "match": { "prefix": "/healthz" } },
                { "match": { "prefix": "/orders", "methods": ["GET"] }, "requires": { "provider_name": "idp", "scopes": ["read"] } },
                { "match": { "prefix": "/orders" }, "requires": { "provider_name": "idp", "scopes": ["write"] } },
                { "match": { "path": "/ci/report" }, "requires": { "provider_name": "ci", "scopes": ["ci:report"] } }
            ],
            "deny_wildcard_scopes": true,
            "token_cache_size": 4
        })
        .to_string();
        Fixture { config: FilterConfig::from_bytes(config.as_bytes()).expect("fixed config loads"), keys }
    })
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "get", "", "HEAD"];
const PATHS: &[&str] = &[
    "/orders",
    "/orders/1",
    "/orders?x=1",
    "/orders/../admin",
    "/orders/./1",
    "/orders/..",
    "/healthz",
    "/healthz/../orders",
    "/healthz?../orders",
    "/ci/report",
    "/ci/report/",
    "/ci/./report",
    "/ORDERS",
    "/%2e%2e/orders",
    "/orders%2F1",
    "/orders%5c1",
    "//orders",
    "",
    "/admin",
    "/orders#frag",
    "/orders/%2E",
];
const HEADERS: &[&str] = &["authorization", "x-ci-token", "x-bot-id", "x-n", "x-ci-job", "cookie", "x-forwarded-for"];
const SUBS: &[&str] = &["bot-7", "a\r\nx-admin: 1", " padded ", "tab\there", "é", "", "x-bot-id", "\u{7f}"];
const SCOPES: &[&str] = &["read", "write", "read write", "ci:report", "admin", "read:*", "READ"];

fn token(u: &mut Unstructured, keys: &[PrivateJwk; 2]) -> Parsed<String> {
    let ci = u.ratio(1, 3)?;
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(if ci { "https://ci" } else { "https://idp" }));
    claims.insert("aud".into(), json!("api"));
    claims.insert("exp".into(), json!(NOW + i64::from(u.int_in_range(-100..=600i16)?)));
    if u.ratio(4, 5)? {
        claims.insert("sub".into(), json!(*u.choose(SUBS)?));
    }
    claims.insert("scope".into(), json!(*u.choose(SCOPES)?));
    match u.int_in_range(0..=3u8)? {
        0 => {}
        1 => {
            claims.insert("n".into(), json!(u.arbitrary::<i32>()?));
        }
        2 => {
            claims.insert("n".into(), json!(u.arbitrary::<String>()?));
        }
        _ => {
            claims.insert("n".into(), json!([1, 2]));
        }
    }
    let key = &keys[usize::from(ci)];
    let header = json!({ "alg": key.algorithm().name(), "kid": key.kid() });
    let input = format!(
        "{}.{}",
        base64url::encode(header.to_string().as_bytes()),
        base64url::encode(Value::Object(claims).to_string().as_bytes())
    );
    let mut signature = key.sign(input.as_bytes());
    if u.ratio(1, 8)? {
        if let Some(byte) = signature.first_mut() {
            *byte ^= 1;
        }
    }
    Ok(format!("{input}.{}", base64url::encode(&signature)))
}

fn string(u: &mut Unstructured, choices: &[&str]) -> Parsed<String> {
    Ok(if u.ratio(1, 6)? { u.arbitrary()? } else { (*u.choose(choices)?).to_owned() })
}

/// A path with a dot segment (`.` or `..`) before any query or fragment.
fn has_dot_segment(path: &str) -> bool {
    let route = path.split(['?', '#']).next().unwrap_or_default();
    route.split('/').any(|segment| segment == "." || segment == "..")
}

fn run(u: &mut Unstructured) -> Parsed<()> {
    let fixture = fixture();
    let method = string(u, METHODS)?;
    let path = string(u, PATHS)?;
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut tokens: Vec<String> = Vec::new();
    for _ in 0..u.int_in_range(0..=5u8)? {
        let name = string(u, HEADERS)?.to_ascii_lowercase();
        let value = match u.int_in_range(0..=4u8)? {
            0 | 1 => {
                let t = token(u, &fixture.keys)?;
                tokens.push(t.clone());
                let prefix = *u.choose(&["Bearer ", "bearer ", "BEARER ", "Bearer  ", "", "Basic "])?;
                format!("{prefix}{t}")
            }
            2 => u.arbitrary()?,
            _ => string(u, &["admin", "Bearer ", "Bearer", "1"])?,
        };
        headers.push((name, value));
    }
    let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let request = Request { case_insensitive: u.arbitrary()?, ..Request::new(&method, &path, &pairs) };
    let mut lookup = |name: &str| request.header(name);
    let config = &fixture.config;
    let claim_headers = &config.policy.claim_headers;
    let mut verifier = Verifier::new(config.policy.clone());
    let decision = verifier.decide(&request, NOW);
    match decision.outcome {
        Ok(mutations) => {
            assert!(!has_dot_segment(&path), "a path with a dot segment was allowed");
            for (name, value) in &mutations.set {
                assert!(claim_headers.contains(name), "{name} is not a claim header");
                assert!(value.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b)), "control characters in {name}");
                assert_eq!(value.trim(), value, "{name} has outer whitespace");
            }
            // No header the client sent under a claim header's name (any spelling) goes through.
            for (name, _) in &pairs {
                if claim_headers.contains(&normalized_header_name(name)) {
                    assert!(mutations.remove.iter().any(|r| r == name), "the client's {name} went through");
                }
            }
            let (_, rule) = verifier
                .policy()
                .rule_for_case(&method, &path, request.case_insensitive)
                .expect("an allowed request has a rule");
            match &rule.requires {
                None => assert!(mutations.set.is_empty(), "claims set on a public route"),
                Some(requirement) => {
                    let provider = verifier.policy().provider(&requirement.provider_name).expect("rule's provider");
                    let token = provider.extract_token(&mut lookup).expect("a granted request carried a token");
                    let again = Verifier::new(config.policy.clone()).verify(
                        &token,
                        Some(&requirement.provider_name),
                        &requirement.scopes,
                        NOW,
                    );
                    assert!(again.is_ok(), "granted, but the token does not verify on its own");
                    if !provider.forward {
                        let sent = provider.from_headers.iter().filter(|s| lookup(&s.name).is_some());
                        let removed = sent.clone().all(|s| mutations.remove.contains(&s.name));
                        assert!(removed, "the token header stays although forward is false");
                    }
                }
            }
        }
        Err(error) => {
            let reply = response(&error);
            assert!([401, 403, 503].contains(&reply.status), "status {}", reply.status);
            let body: Value = serde_json::from_str(&reply.body).expect("the body is JSON");
            assert_eq!(body["code"], json!(error.code()));
            for (name, value) in &reply.headers {
                assert!(!value.contains(['\r', '\n']), "{name} has a line break");
                if *name == "www-authenticate" && value.contains("scope=") {
                    assert_eq!(error.code(), "ERR_SCOPE_INSUFFICIENT", "a scope hint without a verified token");
                }
            }
            for t in tokens.iter().flat_map(|t| t.split('.')).filter(|s| s.len() >= 16) {
                assert!(!reply.body.contains(t), "the reply quotes a token");
                assert!(!reply.headers.iter().any(|(_, v)| v.contains(t)), "a reply header quotes a token");
            }
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
