//! Interop with an implementation that shares no code with edgeward: Node's `node:crypto`
//! (OpenSSL), driven by `tests/interop/node_jws.mjs`.
//!
//! (a) Node makes a key pair and signs a JWT; `edgeward verify` accepts it, and refuses it with
//!     one signature byte flipped.
//! (b) `edgeward keygen` + `edgeward mint` output verifies under Node, and a flipped byte does not.
//!
//! Without `node` on PATH the tests print why they are skipped and pass.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::{ALGORITHMS, AUDIENCE, ISSUER, NOW, Scratch, edgeward, policy, tamper_signature};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/node_jws.mjs")
}

/// Whether `node` runs; prints the skip reason when it does not.
fn node_available(test: &str) -> bool {
    let ok = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIPPED {test}: `node` is not on PATH (Node 20+ runs the node:crypto interop tests)");
    }
    ok
}

/// Runs the Node script with `args` and a JSON document on stdin; returns its JSON output.
fn node(args: &[&str], input: &Value) -> Value {
    let mut child = Command::new("node")
        .arg(script())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs");
    child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "node {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

fn claims() -> Value {
    json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "node-bot",
        "scope": "read:orders", "iat": NOW, "exp": NOW + 600, "jti": "interop-1"
    })
}

#[test]
fn tokens_signed_by_node_crypto_verify_with_edgeward() {
    if !node_available("tokens_signed_by_node_crypto_verify_with_edgeward") {
        return;
    }
    let dir = Scratch::new("interop-node-signs");
    for alg in ALGORITHMS {
        let signed = node(&["sign", alg], &json!({ "claims": claims(), "kid": format!("node-{alg}") }));
        let jwks = json!({ "keys": [signed["jwk"].clone()] });
        dir.write("policy.json", &policy(&jwks, &[alg]));
        let token = signed["token"].as_str().unwrap();

        let args = ["verify", "--policy", "policy.json", "--scope", "read:orders", "--now", "1900000060"];
        let run = edgeward(dir.path(), &args, Some(token.as_bytes()));
        assert_eq!(run.code, 0, "{alg}: edgeward refused node's token: {} {}", run.stdout, run.stderr);
        let out = run.json();
        assert_eq!(out["claims"], claims(), "{alg}");
        assert_eq!(out["header"], json!({ "alg": alg, "typ": "at+jwt", "kid": format!("node-{alg}") }));

        let tampered = tamper_signature(token);
        let run = edgeward(dir.path(), &args, Some(tampered.as_bytes()));
        assert_eq!(run.code, 1, "{alg}: a flipped signature byte must be refused");
        assert_eq!(run.error_code(), "ERR_JWS_SIGNATURE_VERIFICATION_FAILED", "{alg}");
    }
}

#[test]
fn tokens_minted_by_edgeward_verify_with_node_crypto() {
    if !node_available("tokens_minted_by_edgeward_verify_with_node_crypto") {
        return;
    }
    let dir = Scratch::new("interop-node-verifies");
    for alg in ALGORITHMS {
        let kid = format!("ours-{alg}");
        let args = ["keygen", "--alg", alg, "--kid", &kid, "--private-out", "key.json", "--public-out", "jwks.json"];
        let run = edgeward(dir.path(), &[&args[..], &["--force"]].concat(), None);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let jwks: Value = serde_json::from_str(&dir.read("jwks.json")).unwrap();
        let jwk = jwks["keys"][0].clone();

        let mint = ["mint", "--key", "key.json", "--iss", ISSUER, "--aud", AUDIENCE, "--sub", "our-bot"];
        let run = edgeward(dir.path(), &[&mint[..], &["--scope", "read:orders", "--now", "1900000000"]].concat(), None);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let token = run.stdout.trim().to_owned();

        let verdict = node(&["verify"], &json!({ "jwk": jwk, "token": token }));
        assert_eq!(verdict["valid"], json!(true), "{alg}: node:crypto refused our token");
        assert_eq!(verdict["alg"], json!(alg));
        assert_eq!(verdict["kid"], json!(kid));
        assert_eq!(verdict["claims"]["sub"], json!("our-bot"));
        assert_eq!(verdict["claims"]["exp"], json!(NOW + 900));

        let verdict = node(&["verify"], &json!({ "jwk": jwk, "token": tamper_signature(&token) }));
        assert_eq!(verdict["valid"], json!(false), "{alg}: node:crypto accepted a flipped signature byte");
    }
}
