//! The `edgeward` binary, run as a user would: exit codes, JSON on stdout, one line on stderr,
//! and never the token in an error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use edgeward::issuer::{self, PrivateJwk};
use serde_json::{Value, json};
use support::{ALGORITHMS, AUDIENCE, ISSUER, NOW, Run, Scratch, edgeward, policy, tamper_signature};

/// keygen (files) for `alg`, a policy trusting it, and the scratch directory holding them.
fn setup(alg: &str) -> Scratch {
    let dir = Scratch::new(&format!("setup-{alg}"));
    let run = edgeward(
        dir.path(),
        &["keygen", "--alg", alg, "--kid", "k1", "--private-out", "key.json", "--public-out", "jwks.json"],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let jwks: Value = serde_json::from_str(&dir.read("jwks.json")).unwrap();
    dir.write("policy.json", &policy(&jwks, &[alg]));
    dir
}

fn mint(dir: &Scratch, extra: &[&str]) -> String {
    let mut args = vec!["mint", "--key", "key.json", "--iss", ISSUER, "--aud", AUDIENCE, "--sub", "bot-7"];
    args.extend_from_slice(&["--scope", "read:orders write:order_status", "--ttl", "900", "--now", "1900000000"]);
    args.extend_from_slice(extra);
    let run = edgeward(dir.path(), &args, None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.is_empty());
    run.stdout.trim().to_owned()
}

fn verify(dir: &Scratch, token: &str, extra: &[&str]) -> Run {
    let mut args = vec!["verify", "--policy", "policy.json", "--now", "1900000100"];
    args.extend_from_slice(extra);
    edgeward(dir.path(), &args, Some(token.as_bytes()))
}

/// A refusal: exit 1, `{"error": {...}}` with `code`, one stderr line naming it, no token anywhere.
fn assert_refused(run: &Run, token: &str, code: &str) -> Value {
    assert_eq!(run.code, 1, "stdout: {} stderr: {}", run.stdout, run.stderr);
    let error = run.json()["error"].clone();
    assert_eq!(error["code"], json!(code), "{}", run.stdout);
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(run.stderr.lines().count(), 1, "one line on stderr: {}", run.stderr);
    assert!(run.stderr.starts_with("edgeward: ") && run.stderr.contains(code), "{}", run.stderr);
    assert_no_token(run, token);
    error
}

fn assert_no_token(run: &Run, token: &str) {
    let signature = token.rsplit('.').next().unwrap();
    for output in [&run.stdout, &run.stderr] {
        assert!(!output.contains(token), "the token leaked: {output}");
        assert!(signature.len() < 8 || !output.contains(signature), "the signature leaked: {output}");
    }
}

#[test]
fn keygen_makes_a_private_jwk_and_its_public_jwks_for_every_algorithm() {
    let dir = Scratch::new("keygen");
    for alg in ALGORITHMS {
        let run = edgeward(dir.path(), &["keygen", "--alg", alg, "--kid", &format!("kid-{alg}")], None);
        assert_eq!(run.code, 0, "{alg}: {}", run.stderr);
        let private = run.json();
        assert_eq!(private["alg"], json!(alg));
        assert_eq!(private["kid"], json!(format!("kid-{alg}")));
        assert_eq!(private["use"], json!("sig"));
        assert!(private["d"].is_string(), "{alg}: a private JWK has d");
        // The printed key is a usable private JWK.
        let key = PrivateJwk::from_json(&run.stdout).unwrap();
        assert_eq!(key.algorithm().name(), alg);

        dir.write("key.json", &run.stdout);
        let public = edgeward(dir.path(), &["keygen", "--public", "--from", "key.json"], None);
        assert_eq!(public.code, 0, "{}", public.stderr);
        assert_eq!(public.json(), issuer::jwks(&[&key]), "{alg}: --public --from gives the key's JWKS");
        let public_jwk = public.json()["keys"][0].clone();
        for private_member in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(public_jwk.get(private_member).is_none(), "{alg}: the public JWKS has {private_member}");
        }
        // The verifier accepts it.
        edgeward::KeySet::from_bytes(public.stdout.as_bytes(), &edgeward::Algorithm::ALL).unwrap();
    }
}

#[test]
fn keygen_without_kid_uses_the_thumbprint_and_public_alone_prints_a_jwks() {
    let dir = Scratch::new("keygen-public");
    let run = edgeward(dir.path(), &["keygen", "--alg", "eddsa", "--public"], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let jwks = run.json();
    let set = edgeward::KeySet::from_bytes(run.stdout.as_bytes(), &[edgeward::Algorithm::EdDSA]).unwrap();
    assert_eq!(jwks["keys"][0]["kid"].as_str(), Some(set.keys()[0].thumbprint.as_str()));
    assert_eq!(jwks["keys"][0]["alg"], json!("EdDSA"));
}

#[test]
fn keygen_writes_both_files_and_never_overwrites_without_force() {
    let dir = Scratch::new("keygen-files");
    let args = ["keygen", "--alg", "ES384", "--private-out", "private.json", "--public-out", "public.json"];
    let run = edgeward(dir.path(), &args, None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.is_empty(), "nothing printed when writing files");
    let key = PrivateJwk::from_json(&dir.read("private.json")).unwrap();
    let public: Value = serde_json::from_str(&dir.read("public.json")).unwrap();
    assert_eq!(public, issuer::jwks(&[&key]));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("private.json")).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the private key is readable by its owner only");
    }

    let again = edgeward(dir.path(), &args, None);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("private.json already exists"), "{}", again.stderr);
    assert_eq!(PrivateJwk::from_json(&dir.read("private.json")).unwrap().public_jwk(), key.public_jwk());

    let forced = edgeward(dir.path(), &[&args[..], &["--force"]].concat(), None);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert_ne!(PrivateJwk::from_json(&dir.read("private.json")).unwrap().public_jwk(), key.public_jwk());

    let half = edgeward(dir.path(), &["keygen", "--private-out", "only.json"], None);
    assert_eq!(half.code, 2);
    assert!(half.stderr.contains("--public-out"), "{}", half.stderr);
}

#[test]
fn mint_then_verify_round_trips_for_every_algorithm() {
    for alg in ALGORITHMS {
        let dir = setup(alg);
        let token = mint(&dir, &["--typ", "at+jwt", "--claim", "client_id=bot-7", "--claim", "tier=3"]);
        let run = verify(&dir, &token, &["--scope", "read:orders"]);
        assert_eq!(run.code, 0, "{alg}: {} {}", run.stdout, run.stderr);
        assert!(run.stderr.is_empty());
        let out = run.json();
        let mut fields: Vec<&String> = out.as_object().unwrap().keys().collect();
        fields.sort();
        assert_eq!(fields, ["claims", "header", "provider", "scopes"]);
        assert_eq!(out["provider"], json!("corp-idp"));
        assert_eq!(out["header"]["alg"], json!(alg));
        assert_eq!(out["header"]["kid"], json!("k1"));
        assert_eq!(out["header"]["typ"], json!("at+jwt"));
        let claims = &out["claims"];
        assert_eq!(claims["iss"], json!(ISSUER));
        assert_eq!(claims["aud"], json!(AUDIENCE));
        assert_eq!(claims["sub"], json!("bot-7"));
        assert_eq!(claims["iat"], json!(NOW));
        assert_eq!(claims["exp"], json!(NOW + 900));
        assert_eq!(claims["client_id"], json!("bot-7"));
        assert_eq!(claims["tier"], json!(3));
        assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 16));
        assert_eq!(out["scopes"], json!(["read:orders", "write:order_status"]));
    }
}

#[test]
fn mint_options_shape_the_token() {
    let dir = setup("ES256");
    let token = mint(&dir, &["--aud", "other-api", "--kid", "k1", "--claim", "sub=svc", "--claim", "exp=1900000500"]);
    let out = verify(&dir, &token, &[]).json();
    assert_eq!(out["claims"]["aud"], json!([AUDIENCE, "other-api"]), "repeated --aud gives an array");
    assert_eq!(out["claims"]["sub"], json!("svc"), "--claim replaces a standard claim");
    assert_eq!(out["claims"]["exp"], json!(1_900_000_500));
    // Two mints differ (random jti) even at the same --now.
    assert_ne!(mint(&dir, &[]), mint(&dir, &[]));

    let wrong_kid = mint(&dir, &["--kid", "k2"]);
    assert_refused(&verify(&dir, &wrong_kid, &[]), &wrong_kid, "ERR_JWKS_NO_MATCHING_KEY");

    let bad = edgeward(dir.path(), &["mint", "--key", "key.json", "--iss", ISSUER, "--aud", "a", "--claim", "x"], None);
    assert_eq!(bad.code, 2);
    assert_eq!(bad.stderr.lines().count(), 1);
    assert!(bad.stderr.contains("--claim x: expected NAME=VALUE"), "{}", bad.stderr);

    let public_key = edgeward(dir.path(), &["mint", "--key", "jwks.json", "--iss", ISSUER, "--aud", "a"], None);
    assert_eq!(public_key.code, 2);
    assert!(public_key.stderr.contains("jwks.json") && public_key.stderr.contains("private JWK"));
    let missing = edgeward(dir.path(), &["mint", "--key", "nope.json", "--iss", ISSUER, "--aud", "a"], None);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("nope.json"), "{}", missing.stderr);
}

#[test]
fn the_token_is_read_from_the_argument_dash_or_stdin() {
    let dir = setup("EdDSA");
    let token = mint(&dir, &[]);
    let base = ["verify", "--policy", "policy.json", "--now", "1900000100"];
    let as_argument = edgeward(dir.path(), &[&base[..], &[token.as_str()]].concat(), None);
    let as_dash = edgeward(dir.path(), &[&base[..], &["-"]].concat(), Some(format!("{token}\n").as_bytes()));
    let as_stdin = edgeward(dir.path(), &base, Some(format!("  {token}\r\n").as_bytes()));
    for run in [&as_argument, &as_dash, &as_stdin] {
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.json(), as_argument.json());
    }
    let empty = edgeward(dir.path(), &base, Some(b""));
    assert_eq!(empty.code, 2);
    assert!(empty.stderr.contains("no token"), "{}", empty.stderr);
    let not_utf8 = edgeward(dir.path(), &base, Some(&[0xff, 0xfe, 0x00, 0x80]));
    assert_eq!(not_utf8.code, 2, "{}", not_utf8.stderr);
    assert_eq!(not_utf8.stderr.lines().count(), 1);
}

#[test]
fn a_missing_scope_is_refused_with_scope_insufficient() {
    let dir = setup("ES256");
    let token = mint(&dir, &[]);
    let run = verify(&dir, &token, &["--scope", "read:orders", "--scope", "admin:orders"]);
    let error = assert_refused(&run, &token, "ERR_SCOPE_INSUFFICIENT");
    assert_eq!(error["scopes_needed"], json!(["read:orders", "admin:orders"]));
    // "a b" in one --scope is two scopes; exact matching, no case folding.
    let run = verify(&dir, &token, &["--scope", "read:orders write:order_status"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = verify(&dir, &token, &["--scope", "READ:orders"]);
    assert_refused(&run, &token, "ERR_SCOPE_INSUFFICIENT");
}

#[test]
fn expired_tampered_and_misaddressed_tokens_are_refused_with_their_codes() {
    let dir = setup("PS256");
    let token = mint(&dir, &[]);

    // exp = NOW + 900; with the default 30 s skew, NOW + 930 is the first refused second.
    let at = |now: i64| format!("{now}");
    let run = edgeward(dir.path(), &["verify", "--policy", "policy.json", "--now", &at(NOW + 929), &token], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = edgeward(dir.path(), &["verify", "--policy", "policy.json", "--now", &at(NOW + 930), &token], None);
    let error = assert_refused(&run, &token, "ERR_JWT_EXPIRED");
    assert_eq!(error["claim"], json!("exp"));

    let tampered = tamper_signature(&token);
    assert_refused(&verify(&dir, &tampered, &[]), &tampered, "ERR_JWS_SIGNATURE_VERIFICATION_FAILED");

    let other_audience = {
        let args = ["mint", "--key", "key.json", "--iss", ISSUER, "--aud", "billing-api", "--now", "1900000000"];
        edgeward(dir.path(), &args, None).stdout.trim().to_owned()
    };
    let error = assert_refused(&verify(&dir, &other_audience, &[]), &other_audience, "ERR_JWT_CLAIM_VALIDATION_FAILED");
    assert_eq!(error["claim"], json!("aud"));

    let too_long = mint(&dir, &["--ttl", "7200"]);
    assert_refused(&verify(&dir, &too_long, &[]), &too_long, "ERR_JWT_LIFETIME_EXCEEDED");

    let garbage = "not-a-token";
    assert_refused(&verify(&dir, garbage, &[]), garbage, "ERR_JWT_INVALID");
}

#[test]
fn a_token_from_another_key_is_refused_and_never_echoed() {
    let dir = setup("ES256");
    let stranger = PrivateJwk::generate(edgeward::Algorithm::ES256, Some("k1")).unwrap();
    let claims = json!({ "iss": ISSUER, "aud": AUDIENCE, "exp": NOW + 60, "iat": NOW, "scope": "read:orders" });
    let token = issuer::sign_token(&stranger, &serde_json::Map::new(), claims.as_object().unwrap());
    assert_refused(&verify(&dir, &token, &[]), &token, "ERR_JWS_SIGNATURE_VERIFICATION_FAILED");

    let none = {
        let (_, rest) = token.split_once('.').unwrap();
        let (payload, _) = rest.split_once('.').unwrap();
        format!("{}.{payload}.", edgeward::base64url::encode(br#"{"alg":"none"}"#))
    };
    assert_refused(&verify(&dir, &none, &[]), &none, "ERR_JOSE_ALG_NOT_ALLOWED");
}

#[test]
fn a_bad_policy_exits_2_naming_the_file_and_the_field() {
    let dir = setup("ES256");
    let token = mint(&dir, &[]);
    let jwks: Value = serde_json::from_str(&dir.read("jwks.json")).unwrap();
    let mut bad: Value = serde_json::from_str(&policy(&jwks, &["ES256"])).unwrap();
    bad["providers"]["corp-idp"]["audiences"] = json!([7]);
    dir.write("bad.json", &bad.to_string());
    let run = edgeward(dir.path(), &["verify", "--policy", "bad.json", &token], None);
    assert_eq!(run.code, 2);
    assert!(run.stdout.is_empty());
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("bad.json"), "{}", run.stderr);
    assert!(run.stderr.contains("providers.corp-idp.audiences[0]"), "{}", run.stderr);
    assert!(run.stderr.contains("ERR_POLICY_INVALID"), "{}", run.stderr);
    assert_no_token(&run, &token);

    bad["providers"]["corp-idp"]["audiences"] = json!([AUDIENCE]);
    bad["providers"]["corp-idp"]["audience"] = json!("typo");
    dir.write("typo.json", &bad.to_string());
    let run = edgeward(dir.path(), &["verify", "--policy", "typo.json", &token], None);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("typo.json") && run.stderr.contains("audience"), "{}", run.stderr);

    dir.write("not-json.json", "{ providers: ");
    let run = edgeward(dir.path(), &["verify", "--policy", "not-json.json", &token], None);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not-json.json"), "{}", run.stderr);

    let run = edgeward(dir.path(), &["verify", "--policy", "missing.json", &token], None);
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr.trim(), "edgeward: cannot read policy file missing.json: no such file");

    let run = edgeward(dir.path(), &["verify", "--policy", "policy.json", "--provider", "nope", &token], None);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no provider \"nope\"") && run.stderr.contains("corp-idp"), "{}", run.stderr);
}

#[test]
fn remote_jwks_providers_take_their_keys_from_a_file() {
    let dir = setup("RS256");
    let token = mint(&dir, &[]);
    let mut remote: Value = serde_json::from_str(&dir.read("policy.json")).unwrap();
    let provider = remote["providers"]["corp-idp"].as_object_mut().unwrap();
    provider.remove("local_jwks");
    provider.insert("remote_jwks".into(), json!({ "uri": "https://idp.example.com/jwks.json" }));
    dir.write("remote.json", &remote.to_string());

    let base = ["verify", "--policy", "remote.json", "--now", "1900000100"];
    let run = edgeward(dir.path(), &base, Some(token.as_bytes()));
    assert_refused(&run, &token, "ERR_JWKS_UNAVAILABLE");
    assert!(run.stderr.contains("--jwks"), "the refusal says how to give keys: {}", run.stderr);

    let run = edgeward(dir.path(), &[&base[..], &["--jwks", "jwks.json"]].concat(), Some(token.as_bytes()));
    assert_eq!(run.code, 0, "{}", run.stderr);

    let run = edgeward(dir.path(), &[&base[..], &["--jwks", "key.json"]].concat(), Some(token.as_bytes()));
    assert_eq!(run.code, 2, "a private key is not a JWKS");
    assert!(run.stderr.contains("key.json"), "{}", run.stderr);
}

#[test]
fn usage_errors_are_one_line_and_help_has_examples() {
    let dir = Scratch::new("usage");
    for args in [
        &["verify"][..],
        &["verify", "--policy"],
        &["verify", "--policy", "p.json", "--now", "soon"],
        &["keygen", "--alg", "HS256"],
        &["mint", "--key", "k.json"],
        &["frobnicate"],
    ] {
        let run = edgeward(dir.path(), args, None);
        assert_eq!(run.code, 2, "{args:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.starts_with("edgeward: "), "{}", run.stderr);
        assert!(!run.stderr.contains("panicked"));
    }
    let run = edgeward(dir.path(), &["keygen", "--alg", "HS256"], None);
    assert!(run.stderr.contains("ES256") && run.stderr.contains("EdDSA"), "lists the choices: {}", run.stderr);

    for (args, needle) in [
        (&["--help"][..], "edgeward keygen --alg ES256"),
        (&["verify", "--help"], "Examples:"),
        (&["keygen", "--help"], "--private-out"),
        (&["mint", "--help"], "--claim"),
    ] {
        let run = edgeward(dir.path(), args, None);
        assert_eq!(run.code, 0, "{args:?}");
        assert!(run.stdout.contains(needle), "{args:?} help mentions {needle}");
    }
}

#[test]
fn verify_with_a_method_and_path_applies_the_rules_and_names_the_rule() {
    let dir = setup("ES256");
    let mut rules: Value = serde_json::from_str(&dir.read("policy.json")).unwrap();
    rules["rules"] = json!([
        { "match": { "prefix": "/healthz" } },
        { "match": { "prefix": "/orders", "methods": ["GET"] }, "requires": { "provider_name": "corp-idp", "scopes": ["read:orders"] } },
        { "match": { "prefix": "/orders" }, "requires": { "provider_name": "corp-idp", "scopes": ["write:order_status"] } }
    ]);
    dir.write("policy.json", &rules.to_string());
    let token = mint(&dir, &["--scope", "read:orders"]);
    let run = verify(&dir, &token, &["--method", "GET", "--path", "/orders/7?x=1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = run.json();
    assert_eq!(out["access"], "granted");
    assert_eq!(out["rule"]["index"], 1);
    assert_eq!(out["rule"]["match"], json!({ "prefix": "/orders", "methods": ["GET"] }));
    assert_eq!(out["claims"]["sub"], "bot-7");
    // The same rules refuse another method (the write rule), and HEAD needs what GET needs.
    let error = assert_refused(
        &verify(&dir, &token, &["--method", "POST", "--path", "/orders"]),
        &token,
        "ERR_SCOPE_INSUFFICIENT",
    );
    assert_eq!(error["scopes_needed"], json!(["write:order_status"]));
    assert_eq!(verify(&dir, &token, &["--method", "HEAD", "--path", "/orders"]).code, 0);
    assert_refused(&verify(&dir, &token, &["--method", "GET", "--path", "/nowhere"]), &token, "ERR_ROUTE_DENIED");
    let public = verify(&dir, &token, &["--method", "GET", "--path", "/healthz"]);
    assert_eq!((public.code, public.json()["access"].clone()), (0, json!("public")));
    // --path without --method is a usage error.
    assert_eq!(verify(&dir, &token, &["--path", "/orders"]).code, 2);
}

#[test]
fn verify_with_a_path_applies_identity_conditions() {
    let dir = setup("ES256");
    let token = mint(&dir, &[]);
    let with_admitted = |subs: Value| {
        let mut policy: Value = serde_json::from_str(&dir.read("policy.json")).unwrap();
        policy["rules"][0]["requires"]["claims"] = json!({ "sub": subs });
        dir.write("policy.json", &policy.to_string());
    };
    with_admitted(json!(["bot-7", "bot-8"]));
    let run = verify(&dir, &token, &["--method", "GET", "--path", "/orders/7"]);
    assert_eq!((run.code, run.json()["access"].clone()), (0, json!("granted")), "{}", run.stderr);
    with_admitted(json!(["bot-8", "secret-bot"]));
    let error = assert_refused(
        &verify(&dir, &token, &["--method", "GET", "--path", "/orders/7"]),
        &token,
        "ERR_PRINCIPAL_DENIED",
    );
    assert_eq!(error["claim"], "sub");
    // The refusal never tells the admitted values (the matched rule, the operator's own policy, may).
    assert!(!error.to_string().contains("secret-bot"), "{error}");
    let run = verify(&dir, &token, &["--method", "GET", "--path", "/orders/7"]);
    assert!(!run.stderr.contains("secret-bot"), "{}", run.stderr);
    // Without a path there is no rule, so no condition: the token itself is valid.
    assert_eq!(verify(&dir, &token, &[]).code, 0);
    // requires_any: the second alternative admits it; the rule shows both.
    let mut policy: Value = serde_json::from_str(&dir.read("policy.json")).unwrap();
    policy["rules"][0]["requires"] = Value::Null;
    policy["rules"][0].as_object_mut().unwrap().remove("requires");
    policy["rules"][0]["requires_any"] = json!([
        { "provider_name": "corp-idp", "scopes": ["admin:orders"] },
        { "provider_name": "corp-idp", "claims": { "sub": ["bot-7"] }, "allow_missing": true }
    ]);
    dir.write("policy.json", &policy.to_string());
    let run = verify(&dir, &token, &["--method", "GET", "--path", "/orders/7"]);
    assert_eq!((run.code, run.json()["access"].clone()), (0, json!("granted")), "{}", run.stderr);
    let alternatives = run.json()["rule"]["requires_any"].clone();
    assert_eq!(
        alternatives[1],
        json!({ "provider_name": "corp-idp", "scopes": [], "claims": { "sub": ["bot-7"] }, "allow_missing": true })
    );
}

#[test]
fn a_bearer_prefix_and_an_unknown_kid_get_helpful_messages() {
    let dir = setup("ES256");
    let token = mint(&dir, &[]);
    let run = verify(&dir, &format!("Bearer {token}"), &[]);
    assert_refused(&run, &token, "ERR_JWT_INVALID");
    assert!(run.stderr.contains("remove the `Bearer ` prefix"), "{}", run.stderr);
    let other = mint(&dir, &["--kid", "k9"]);
    let run = verify(&dir, &other, &[]);
    assert_refused(&run, &other, "ERR_JWKS_NO_MATCHING_KEY");
    assert!(run.stderr.contains("\"k9\""), "names the kid: {}", run.stderr);
    let wrong_issuer = mint(&dir, &["--iss", "https://elsewhere.example"]);
    let run = verify(&dir, &wrong_issuer, &["--provider", "corp-idp"]);
    assert_refused(&run, &wrong_issuer, "ERR_JWT_CLAIM_VALIDATION_FAILED");
    assert!(run.stderr.contains(&format!("expected \"{ISSUER}\"")), "{}", run.stderr);
}

#[test]
fn policy_syntax_errors_name_line_and_column() {
    let dir = setup("ES256");
    dir.write("broken.json", "{\n  \"providers\": {},\n}\n");
    let run = edgeward(dir.path(), &["verify", "--policy", "broken.json", "x.y.z"], None);
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr.trim(), "edgeward: broken.json:3:1: trailing comma (ERR_POLICY_INVALID)");
}

#[test]
fn an_unusable_key_beside_good_ones_is_left_out_with_a_warning() {
    let dir = setup("ES256");
    let mut jwks: Value = serde_json::from_str(&dir.read("jwks.json")).unwrap();
    let mut bad = jwks["keys"][0].clone();
    bad["kid"] = json!("bad");
    bad["x"] = json!("AAAA");
    jwks["keys"].as_array_mut().unwrap().insert(0, bad);
    dir.write("with-bad.json", &jwks.to_string());
    let token = mint(&dir, &[]);
    let run = verify(&dir, &token, &["--jwks", "with-bad.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr.trim(),
        "edgeward: warning: with-bad.json: key left out: keys[0].x: expected exactly 32 bytes"
    );
}

#[test]
fn check_reports_findings_and_loads_like_the_filter() {
    let dir = setup("ES256");
    let jwks: Value = serde_json::from_str(&dir.read("jwks.json")).unwrap();
    // The test policy: clean.
    let run = edgeward(dir.path(), &["check", "--policy", "policy.json"], None);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("ok"));
    // Weak spots: each reported once with its kind, exit 1.
    let weak = json!({
        "providers": {
            "corp-idp": { "issuer": ISSUER, "audiences": [AUDIENCE], "local_jwks": jwks, "max_lifetime_seconds": null },
            "spare": { "issuer": "https://spare", "audiences": [AUDIENCE], "local_jwks": jwks }
        },
        "rules": [
            { "match": { "prefix": "/orders", "methods": ["GET"] }, "requires": { "provider_name": "corp-idp", "scopes": ["read:orders"] } },
            { "match": { "prefix": "/orders", "methods": ["GET"] }, "requires": { "provider_name": "corp-idp" } },
            { "match": { "prefix": "/" } }
        ],
        "deny_wildcard_scopes": false
    });
    dir.write("weak.json", &weak.to_string());
    let run = edgeward(dir.path(), &["check", "--policy", "weak.json"], None);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    for kind in [
        "[shadowed-rule]",
        "[weaker-fallback]",
        "[public-catch-all]",
        "[wildcard-scopes-allowed]",
        "[no-lifetime-bound]",
        "[unused-provider]",
    ] {
        assert_eq!(run.stdout.matches(kind).count(), 1, "{kind} in {}", run.stdout);
    }
    assert!(run.stdout.contains("weak.json: rules[1]: never matches"), "{}", run.stdout);
    // A remote_jwks the filter cannot fetch (no cluster) makes the policy unusable: exit 2.
    let remote = json!({
        "providers": { "corp-idp": { "issuer": ISSUER, "audiences": [AUDIENCE], "remote_jwks": { "uri": "https://idp/jwks" } } },
        "rules": [{ "match": { "prefix": "/" }, "requires": { "provider_name": "corp-idp" } }]
    });
    dir.write("remote.json", &remote.to_string());
    let run = edgeward(dir.path(), &["check", "--policy", "remote.json"], None);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("providers.corp-idp.remote_jwks.cluster"), "{}", run.stderr);
}

#[test]
fn check_reports_unreachable_alternatives_optional_tokens_and_an_example_tokens_missing_claims() {
    let dir = setup("ES256");
    let jwks: Value = serde_json::from_str(&dir.read("jwks.json")).unwrap();
    let doc = json!({
        "providers": { "corp-idp": {
            "issuer": ISSUER, "audiences": [AUDIENCE], "local_jwks": jwks,
            "claim_to_headers": [{ "claim_name": "sub", "header_name": "x-bot-id" },
                                 { "claim_name": "org.tenant", "header_name": "x-tenant" }]
        }},
        "rules": [
            { "match": { "prefix": "/orders" }, "requires_any": [
                { "provider_name": "corp-idp", "scopes": ["read:orders"] },
                { "provider_name": "corp-idp", "scopes": ["read:orders", "write:order_status"] }
            ]},
            { "match": { "prefix": "/status" }, "requires": { "provider_name": "corp-idp", "allow_missing": true } },
            { "match": { "prefix": "/billing" },
              "requires": { "provider_name": "corp-idp", "claims": { "client_id": ["billing-bot"] } } }
        ]
    });
    dir.write("alternatives.json", &doc.to_string());
    let run = edgeward(dir.path(), &["check", "--policy", "alternatives.json"], None);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.stdout.lines().collect::<Vec<_>>(),
        [
            "alternatives.json: rules[0].requires_any[1]: never decides a request: requires_any[0] is tried first and \
             admits every token it would (same provider; its scopes and claim conditions are all among this one's) \
             [unreachable-alternative]",
            "alternatives.json: rules[1].requires.allow_missing: lets requests without a token through, so the \
             upstream gets this route's requests with and without the claim headers (x-bot-id, x-tenant): it must \
             read a missing one as an anonymous caller (edgeward removes client copies on every route, so one that is \
             there comes from a verified token) [allow-missing-forwards-claims]",
        ]
    );
    assert_eq!(run.stderr.trim(), "edgeward: 2 findings in alternatives.json");

    // An example token (decoded, not verified: minted for 2030, it would be refused today) without
    // client_id or org: both claims are named, never the token or its claim values.
    let token = mint(&dir, &["--claim", "team=secret-team-value"]);
    dir.write("token.txt", &token);
    let run = edgeward(dir.path(), &["check", "--policy", "alternatives.json", "--example-token", "token.txt"], None);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let examples: Vec<&str> = run.stdout.lines().filter(|l| l.ends_with("[claim-never-carried]")).collect();
    assert_eq!(
        examples,
        [
            "alternatives.json: rules[2].requires.claims.client_id: the example token of providers.corp-idp has no \
             `client_id` claim: tokens like it are refused here (ERR_PRINCIPAL_DENIED) [claim-never-carried]",
            "alternatives.json: providers.corp-idp.claim_to_headers[1].claim_name: the example token has no \
             `org.tenant` claim: requests with tokens like it reach the upstream without the x-tenant header \
             [claim-never-carried]",
        ]
    );
    assert_eq!(run.stderr.trim(), "edgeward: 4 findings in alternatives.json");
    assert_no_token(&run, &token);
    assert!(!run.stdout.contains("bot-7") && !run.stdout.contains("secret-team-value"), "{}", run.stdout);
    // `--token -` reads it from stdin; a token carrying both claims adds nothing.
    let carrying = mint(&dir, &["--claim", "client_id=billing-bot", "--claim", r#"org={"tenant":"acme"}"#]);
    let run =
        edgeward(dir.path(), &["check", "--policy", "alternatives.json", "--token", "-"], Some(carrying.as_bytes()));
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("[claim-never-carried]"), "{}", run.stdout);
    // The test policy is clean, with an example too.
    let run = edgeward(dir.path(), &["check", "--policy", "policy.json", "--example-token", "token.txt"], None);
    assert_eq!((run.code, run.stdout.trim()), (0, "policy.json: ok (1 provider, 1 rule)"), "{}", run.stderr);

    // An example of no provider's issuer, or not a token: exit 2, one line, no token.
    let key = "key.json";
    let args = ["mint", "--key", key, "--iss", "https://stranger.example", "--aud", AUDIENCE];
    let stranger = edgeward(dir.path(), &args, None).stdout.trim().to_owned();
    dir.write("stranger.txt", &stranger);
    let run = edgeward(dir.path(), &["check", "--policy", "policy.json", "--example-token", "stranger.txt"], None);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.stderr.trim(),
        "edgeward: the example token stranger.txt: \"iss\" claim has an unexpected value (expected \
         \"https://idp.example.com\") (ERR_JWT_CLAIM_VALIDATION_FAILED)"
    );
    assert_no_token(&run, &stranger);
    assert!(!run.stderr.contains("stranger.example"));
    let run = edgeward(dir.path(), &["check", "--policy", "policy.json", "--token", "-"], Some(b"not-a-token\n"));
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr.trim(),
        "edgeward: the example token (stdin): token is not a compact JWS (three segments) (ERR_JWT_INVALID)"
    );
    dir.write("empty.txt", "\n");
    let run = edgeward(dir.path(), &["check", "--policy", "policy.json", "--example-token", "empty.txt"], None);
    assert_eq!((run.code, run.stderr.trim()), (2, "edgeward: the example token empty.txt is empty"));
    let run = edgeward(dir.path(), &["check", "--help"], None);
    assert!(run.stdout.contains("--example-token <FILE>") && run.stdout.contains("claim-never-carried"));
}

#[test]
fn check_says_when_the_allowlist_cannot_use_the_providers_keys() {
    // The algorithm is the operator's choice: a PS384 key under the default ["ES256"] is never
    // used, and `check` refuses the policy saying so (key type, allowlist, what to add).
    let dir = setup("PS384");
    let jwks: Value = serde_json::from_str(&dir.read("jwks.json")).unwrap();
    let unlisted = json!({
        "providers": { "corp-idp": { "issuer": ISSUER, "audiences": [AUDIENCE], "local_jwks": jwks } },
        "rules": [{ "match": { "prefix": "/" }, "requires": { "provider_name": "corp-idp" } }]
    });
    dir.write("unlisted.json", &unlisted.to_string());
    let run = edgeward(dir.path(), &["check", "--policy", "unlisted.json"], None);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("providers.corp-idp.local_jwks.keys"), "{}", run.stderr);
    assert!(
        run.stderr.contains("the keys are RSA (alg PS384); algorithms allows ES256: add PS384 to algorithms"),
        "{}",
        run.stderr
    );
    // Listed, the same keys load.
    let run = edgeward(dir.path(), &["check", "--policy", "policy.json"], None);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

/// A provider whose keys are fetched (`remote_jwks` at `uri`), for the --fetch-keys tests that
/// need no network (js/test/cli-fetch-keys.test.mjs runs them against a real IdP).
fn remote_policy(dir: &Scratch, uri: &str) -> Run {
    let remote = json!({
        "providers": { "corp-idp": {
            "issuer": ISSUER, "audiences": [AUDIENCE], "algorithms": ["ES256"],
            "remote_jwks": { "cluster": "idp", "uri": uri, "timeout_ms": 500 }
        }},
        "rules": [{ "match": { "prefix": "/" }, "requires": { "provider_name": "corp-idp" } }]
    });
    dir.write("remote.json", &remote.to_string());
    edgeward(dir.path(), &["check", "--policy", "remote.json"], None)
}

#[test]
fn fetch_keys_refuses_plain_http_before_any_request_and_bad_usage() {
    let dir = setup("ES256");
    let token = mint(&dir, &[]);
    // Nothing listens on port 9 of the loopback; the refusal comes before any connection anyway.
    assert_eq!(remote_policy(&dir, "http://127.0.0.1:9/jwks").code, 0);
    let fetch = ["verify", "--policy", "remote.json", "--now", "1900000100", "--fetch-keys"];
    let run = edgeward(dir.path(), &fetch, Some(token.as_bytes()));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("remote.json: providers.corp-idp.remote_jwks.uri is plain http"), "{}", run.stderr);
    assert!(run.stderr.contains("--allow-http"), "{}", run.stderr);
    assert_no_token(&run, &token);
    let run = edgeward(dir.path(), &["check", "--policy", "remote.json", "--fetch-keys"], None);
    assert_eq!(run.code, 2, "check refuses the same: {}", run.stderr);
    assert!(run.stderr.contains("--allow-http"), "{}", run.stderr);

    // --allow-http and --ca-file belong to --fetch-keys; --jwks and --fetch-keys exclude each other.
    for extra in [&["--allow-http"][..], &["--ca-file", "ca.pem"], &["--fetch-keys", "--jwks", "jwks.json"]] {
        let args = [&["verify", "--policy", "remote.json"][..], extra].concat();
        let run = edgeward(dir.path(), &args, Some(token.as_bytes()));
        assert_eq!(run.code, 2, "{extra:?}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{extra:?}: {}", run.stderr);
    }
    // A CA file without a certificate is bad usage (exit 2), named.
    dir.write("ca.pem", "not a certificate\n");
    let run = edgeward(dir.path(), &[&fetch[..], &["--allow-http", "--ca-file", "ca.pem"]].concat(), Some(b"x"));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("CA file ca.pem: no PEM certificate"), "{}", run.stderr);
}

#[test]
fn fetch_keys_from_a_closed_port_is_exit_3_and_names_provider_and_uri() {
    let dir = setup("ES256");
    let token = mint(&dir, &[]);
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let uri = format!("https://127.0.0.1:{port}/jwks");
    assert_eq!(remote_policy(&dir, &uri).code, 0);
    let fetch = ["verify", "--policy", "remote.json", "--now", "1900000100", "--fetch-keys"];
    let run = edgeward(dir.path(), &fetch, Some(token.as_bytes()));
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "", "no verdict without keys");
    assert_eq!(
        run.stderr.trim(),
        format!(
            "edgeward: cannot fetch the keys of provider \"corp-idp\": {uri}: connection refused (nothing listens there)"
        )
    );
    let run = edgeward(dir.path(), &["check", "--policy", "remote.json", "--fetch-keys"], None);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
}

#[test]
fn fetch_keys_without_remote_providers_warns_and_verifies_with_the_inline_keys() {
    let dir = setup("ES256");
    let token = mint(&dir, &[]);
    let run = verify(&dir, &token, &["--fetch-keys"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr.trim(),
        "edgeward: warning: --fetch-keys: no provider of policy.json has remote_jwks: nothing fetched"
    );
    let run = edgeward(dir.path(), &["verify", "--help"], None);
    for needle in ["--fetch-keys", "--allow-http", "--ca-file", "exit 3", "redirects are not followed"] {
        assert!(run.stdout.contains(needle), "verify --help mentions {needle}");
    }
}

/// A self-signed P-256 client certificate made with the `openssl` command (scripts/setup.sh
/// openssl installs it), written as `name`.pem in `dir`.
fn client_certificate(dir: &Scratch, name: &str) {
    let status = std::process::Command::new("openssl")
        .current_dir(dir.path())
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"])
        .args(["-keyout", &format!("{name}.key"), "-out", &format!("{name}.pem"), "-days", "1"])
        .args(["-subj", &format!("/CN={name}")])
        .stderr(std::process::Stdio::null())
        .status()
        .expect("the openssl command (scripts/setup.sh openssl)");
    assert!(status.success());
}

#[test]
fn dpop_bound_tokens_mint_prove_and_verify() {
    let dir = setup("ES256");
    let run = edgeward(
        dir.path(),
        &["keygen", "--alg", "ES256", "--private-out", "bot.json", "--public-out", "bot-jwks.json"],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let token = mint(&dir, &["--bind-key", "bot-jwks.json"]);
    let claims = issuer_claims(&token);
    let thumbprint = PrivateJwk::from_json(&dir.read("bot.json")).unwrap().thumbprint();
    assert_eq!(claims["cnf"]["jkt"], json!(thumbprint), "bound to the bot's key (from its JWKS)");
    let url = "https://api.example.com/orders/1";
    let proof = edgeward(
        dir.path(),
        &["proof", "--key", "bot.json", "--method", "GET", "--url", url, "--now", "1900000100"],
        Some(token.as_bytes()),
    );
    assert_eq!(proof.code, 0, "{}", proof.stderr);
    assert_no_token(&proof, &token);
    dir.write("proof.txt", &proof.stdout);
    let request = ["--method", "GET", "--path", "/orders/1", "--origin", "https://api.example.com"];
    let with_proof: Vec<&str> = request.iter().copied().chain(["--dpop", "proof.txt"]).collect();
    let run = verify(&dir, &token, &with_proof);
    assert_eq!(run.code, 0, "{} {}", run.stdout, run.stderr);
    assert_eq!(run.json()["access"], json!("granted"));
    // As a bearer token, or with the proof for another origin: refused.
    assert_refused(&verify(&dir, &token, &request), &token, "ERR_POP_MISSING");
    let elsewhere: Vec<&str> =
        ["--method", "GET", "--path", "/orders/1", "--origin", "https://evil.example.com", "--dpop", "proof.txt"]
            .to_vec();
    assert_refused(&verify(&dir, &token, &elsewhere), &token, "ERR_DPOP_PROOF_INVALID");
}

#[test]
fn certificate_bound_tokens_verify_with_their_certificate_only() {
    let dir = setup("ES256");
    client_certificate(&dir, "a");
    client_certificate(&dir, "b");
    let token = mint(&dir, &["--bind-cert", "a.pem"]);
    assert!(issuer_claims(&token)["cnf"]["x5t#S256"].is_string());
    let run = verify(&dir, &token, &["--method", "GET", "--path", "/orders", "--peer-cert", "a.pem"]);
    assert_eq!(run.code, 0, "{} {}", run.stdout, run.stderr);
    assert_refused(
        &verify(&dir, &token, &["--method", "GET", "--path", "/orders", "--peer-cert", "b.pem"]),
        &token,
        "ERR_MTLS_BINDING_MISMATCH",
    );
    assert_refused(&verify(&dir, &token, &["--method", "GET", "--path", "/orders"]), &token, "ERR_POP_MISSING");
    dir.write("not.pem", "hello");
    let run = verify(&dir, &token, &["--method", "GET", "--path", "/orders", "--peer-cert", "not.pem"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not a PEM certificate"), "{}", run.stderr);
}

/// The claims of a token, decoded without verifying.
fn issuer_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&edgeward::base64url::decode(payload).unwrap()).unwrap()
}
