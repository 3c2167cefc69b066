//! Shared helpers for the CLI tests: run the real `edgeward` binary, scratch directories that
//! clean up after themselves, and policy documents.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fixed "now" for every test (2030-03-17), far from today's clock.
pub const NOW: i64 = 1_900_000_000;
pub const ISSUER: &str = "https://idp.example.com";
pub const AUDIENCE: &str = "orders-api";
pub const ALGORITHMS: [&str; 10] =
    ["ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"];

/// What one run of the binary did.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout as JSON (panics with the output if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    /// The refusal code of a `verify` that exited 1.
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or_default().to_owned()
    }
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Runs `edgeward ARGS` in `dir` with `stdin` (or an empty stdin).
pub fn edgeward(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_edgeward"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the edgeward binary runs");
    {
        let mut pipe = child.stdin.take().unwrap();
        if let Some(bytes) = stdin {
            // The child may exit before reading everything (e.g. a usage error): not a test failure.
            let _ = pipe.write_all(bytes);
        }
    }
    child.wait_with_output().unwrap().into()
}

/// A scratch directory, removed when dropped.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("edgeward-cli-{name}-{}-{unique}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.0.join(name)).unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A one-provider policy ("corp-idp") trusting `jwks` for `algorithms`, with /orders rules.
pub fn policy(jwks: &Value, algorithms: &[&str]) -> String {
    json!({
        "providers": { "corp-idp": {
            "issuer": ISSUER,
            "audiences": [AUDIENCE],
            "algorithms": algorithms,
            "local_jwks": jwks,
            "max_lifetime_seconds": 3600,
        }},
        "rules": [
            { "match": { "prefix": "/orders", "methods": ["GET"] },
              "requires": { "provider_name": "corp-idp", "scopes": ["read:orders"] } }
        ]
    })
    .to_string()
}

/// Flips one bit in the first byte of the signature segment's decoded bytes, keeping strict base64url.
pub fn tamper_signature(token: &str) -> String {
    let (signing_input, signature) = token.rsplit_once('.').unwrap();
    let mut bytes = edgeward::base64url::decode(signature).unwrap();
    bytes[0] ^= 0x01;
    format!("{signing_input}.{}", edgeward::base64url::encode(&bytes))
}
