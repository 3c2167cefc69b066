//! `edgeward scan` on trees made at test time: a git repository whose history adds and later
//! deletes a token, ignored and hidden files, a binary file, every kind of token the audit
//! judges, suppression, `--fail-on`, JSON lines and SARIF (validated with Microsoft's SARIF
//! multitool, installed by `scripts/setup.sh sarif`). No output ever holds a token.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use edgeward::Algorithm;
use edgeward::base64url;
use edgeward::issuer::{PrivateJwk, jwks, sign_token};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use support::{AUDIENCE, ISSUER, NOW, Run, Scratch, edgeward};

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => panic!("not an object"),
    }
}

fn es256_key() -> PrivateJwk {
    PrivateJwk::generate(Algorithm::ES256, Some("k1")).unwrap()
}

fn signed(key: &PrivateJwk, claims: Value) -> String {
    sign_token(key, &object(json!({ "alg": "ES256", "kid": "k1", "typ": "at+jwt" })), &object(claims))
}

/// A token with any header (HS256, none, ...) and a made-up signature.
fn unsigned(header: Value, claims: Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        base64url::encode(header.to_string().as_bytes()),
        base64url::encode(claims.to_string().as_bytes()),
        base64url::encode(signature)
    )
}

fn jwe() -> String {
    format!(
        "{}.{}.{}.{}.{}",
        base64url::encode(br#"{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"enc-1"}"#),
        base64url::encode(&[9; 256]),
        base64url::encode(&[8; 12]),
        base64url::encode(&[7; 180]),
        base64url::encode(&[6; 16])
    )
}

/// The claims of a well-behaved token: 15 minutes, expired long before NOW.
fn expired_claims() -> Value {
    json!({ "iss": ISSUER, "aud": AUDIENCE, "sub": "bot-7", "scope": "read:orders", "iat": NOW - 100_000, "exp": NOW - 99_100 })
}

fn git(dir: &Path, args: &[&str]) {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"])
        .args(args)
        .output()
        .expect("the git command");
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

fn git_out(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git").arg("-C").arg(dir).args(args).output().unwrap();
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

fn scan(dir: &Path, args: &[&str]) -> Run {
    let now = NOW.to_string();
    let mut all = vec!["scan", "--now", &now];
    all.extend_from_slice(args);
    edgeward(dir, &all, None)
}

/// JSON lines as values (each line must parse).
fn lines(run: &Run) -> Vec<Value> {
    run.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect()
}

fn findings(token: &Value) -> Vec<String> {
    token["findings"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap().to_owned()).collect()
}

fn by_path<'a>(tokens: &'a [Value], path: &str) -> Vec<&'a Value> {
    tokens.iter().filter(|t| t["path"] == json!(path)).collect()
}

/// No token, nor its payload or signature segment, in any output.
fn assert_hidden(run: &Run, tokens: &[&str]) {
    for token in tokens {
        for part in std::iter::once(*token).chain(token.split('.').skip(1).filter(|p| p.len() >= 16)) {
            for (name, output) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
                assert!(!output.contains(part), "a token leaked on {name}: {output}");
            }
        }
    }
}

/// A working tree with one of everything, and the tokens in it.
struct Tree {
    dir: Scratch,
    tokens: Vec<String>,
}

fn tree() -> Tree {
    let dir = Scratch::new("scan-tree");
    let key = es256_key();
    let live = signed(
        &key,
        json!({ "iss": ISSUER, "aud": AUDIENCE, "sub": "bot-7", "scope": "orders:* read", "iat": NOW - 60, "exp": NOW + 30 * 86_400 }),
    );
    let expired = signed(&key, expired_claims());
    let hs = unsigned(
        json!({ "alg": "HS256", "typ": "JWT" }),
        json!({ "sub": "1234567890", "name": "Ann", "iat": 1_516_239_022 }),
        &[1; 32],
    );
    let none = unsigned(json!({ "alg": "none" }), json!({ "sub": "admin", "exp": NOW - 10 }), &[]);
    let embedded = sign_token(
        &key,
        &object(json!({ "alg": "ES256", "jwk": key.public_jwk() })),
        &object(json!({ "iss": ISSUER, "iat": NOW - 3600, "exp": NOW - 3000 })),
    );
    let encrypted = jwe();
    std::fs::create_dir_all(dir.path().join("config")).unwrap();
    dir.write("config/app.yaml", &format!("auth:\n  token: \"{live}\"\n  old: {expired}\n"));
    dir.write("legacy.env", &format!("# hs\nAPI_TOKEN={hs}\nNONE={none}\n"));
    dir.write("src.rs", &format!("const A: &str = \"{embedded}\";\nconst B: &str = \"{encrypted}\";\n"));
    dir.write(".gitignore", "ignored.log\n");
    dir.write("ignored.log", &format!("Authorization: Bearer {live}\n"));
    dir.write(".hidden.env", &format!("T={expired}\n"));
    let mut binary = b"\x7fELF\0\0\0".to_vec();
    binary.extend_from_slice(live.as_bytes());
    std::fs::write(dir.path().join("tool.bin"), binary).unwrap();
    // Not tokens: a four-segment string, and one that is not base64url JSON.
    dir.write("noise.txt", &format!("{expired}.extra\neyes.are.watching you\n"));
    // .gitignore is read inside a git repository (as ripgrep does).
    git(dir.path(), &["init", "-q"]);
    Tree { dir, tokens: vec![live, expired, hs, none, embedded, encrypted] }
}

#[test]
fn finds_every_kind_of_token_and_judges_it() {
    let t = tree();
    let run = scan(t.dir.path(), &["--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_hidden(&run, &t.tokens.iter().map(String::as_str).collect::<Vec<_>>());
    let tokens = lines(&run);
    let paths: Vec<&str> = tokens.iter().map(|t| t["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["config/app.yaml", "config/app.yaml", "legacy.env", "legacy.env", "src.rs", "src.rs"]);

    let app = by_path(&tokens, "config/app.yaml");
    let live = app[0];
    assert_eq!((live["line"].clone(), live["column"].clone()), (json!(2), json!(11)));
    assert_eq!(live["type"], json!("JWS"));
    assert_eq!(live["alg"], json!("ES256"));
    assert_eq!(live["kid"], json!("k1"));
    assert_eq!(live["iss"], json!(ISSUER));
    assert_eq!(live["sub"], json!("bot-7"));
    assert_eq!(live["aud"], json!([AUDIENCE]));
    assert_eq!(live["scopes"], json!(["orders:*", "read"]));
    assert_eq!(live["lifetime_seconds"], json!(30 * 86_400 + 60));
    assert_eq!(findings(live), ["still-valid", "long-lived", "wildcard-scope"]);
    assert_eq!(live["severity"], json!("high"));
    assert!(live["redacted"].as_str().unwrap().starts_with("eyJhbGciOi…[sha256:"));
    let old = app[1];
    assert_eq!((old["line"].clone(), findings(old).len(), old["severity"].clone()), (json!(3), 0, json!("low")));

    let legacy = by_path(&tokens, "legacy.env");
    assert_eq!(legacy[0]["alg"], json!("HS256"));
    assert_eq!(findings(legacy[0]), ["no-exp", "still-valid", "hmac"]);
    assert_eq!(legacy[1]["alg"], json!("none"));
    assert_eq!(findings(legacy[1]), ["alg-none"]);
    assert_eq!(legacy[1]["severity"], json!("critical"));

    let src = by_path(&tokens, "src.rs");
    assert_eq!(findings(src[0]), ["embedded-key"]);
    assert_eq!(src[1]["type"], json!("JWE"));
    assert_eq!((src[1]["alg"].clone(), src[1]["enc"].clone()), (json!("RSA-OAEP-256"), json!("A256GCM")));
    assert_eq!(findings(src[1]), ["encrypted"]);
}

#[test]
fn ignored_hidden_and_binary_files_are_walked_like_ripgrep() {
    let t = tree();
    let count = |args: &[&str], path: &str| {
        let mut all = vec!["--format", "json", "--fail-on", "never"];
        all.extend_from_slice(args);
        let run = scan(t.dir.path(), &all);
        assert_eq!(run.code, 0, "{}", run.stderr);
        by_path(&lines(&run), path).len()
    };
    assert_eq!(count(&[], "ignored.log"), 0);
    assert_eq!(count(&["--no-ignore"], "ignored.log"), 1);
    assert_eq!(count(&[], ".hidden.env"), 0);
    assert_eq!(count(&["--hidden"], ".hidden.env"), 1);
    // Binary: searched up to its first NUL byte only.
    assert_eq!(count(&["--no-ignore", "--hidden"], "tool.bin"), 0);
    let table = scan(t.dir.path(), &["--fail-on", "never"]);
    assert!(table.stdout.contains("1 binary"), "{}", table.stdout);
    // An explicit file is searched whatever the ignore files say.
    let run = scan(t.dir.path(), &["--format", "json", "ignored.log"]);
    assert_eq!(lines(&run).len(), 1, "{}", run.stderr);
}

#[test]
fn the_table_names_places_and_findings_never_tokens() {
    let t = tree();
    let run = scan(t.dir.path(), &[]);
    assert_eq!(run.code, 1);
    assert_hidden(&run, &t.tokens.iter().map(String::as_str).collect::<Vec<_>>());
    let header = run.stdout.lines().next().unwrap();
    for column in [
        "SEVERITY",
        "LOCATION",
        "TOKEN",
        "ALG",
        "KID",
        "ISS",
        "SUB/CLIENT",
        "AUD",
        "SCOPES",
        "IAT",
        "EXP",
        "LIFETIME",
        "FINDINGS",
    ] {
        assert!(header.contains(column), "{header}");
    }
    assert!(run.stdout.contains("config/app.yaml:2:11"), "{}", run.stdout);
    assert!(run.stdout.contains("still-valid,long-lived,wildcard-scope"), "{}", run.stdout);
    assert!(run.stdout.contains("JWE RSA-OAEP-256/A256GCM"), "{}", run.stdout);
    let summary = run.stdout.lines().last().unwrap();
    assert!(summary.starts_with("6 tokens (1 critical, 3 high, 1 medium, 1 low)"), "{summary}");
    assert_eq!(run.stderr.trim(), "edgeward: 5 tokens at or above --fail-on medium found");
    // No progress line when stderr is not a terminal.
    assert!(!run.stderr.contains("scanning:"));
}

#[test]
fn fail_on_sets_the_exit_status() {
    let dir = Scratch::new("scan-fail-on");
    let key = es256_key();
    // Long-lived but expired: medium.
    let long = signed(&key, json!({ "iss": ISSUER, "iat": NOW - 200_000, "exp": NOW - 100_000 }));
    dir.write("a.txt", &long);
    for (fail_on, code) in [("low", 1), ("medium", 1), ("high", 0), ("critical", 0), ("never", 0)] {
        let run = scan(dir.path(), &["--fail-on", fail_on]);
        assert_eq!(run.code, code, "--fail-on {fail_on}: {}", run.stderr);
    }
    let run = scan(dir.path(), &["--format", "json", "--max-lifetime", "3d"]);
    assert_eq!((run.code, findings(&lines(&run)[0]).len()), (0, 0), "{}", run.stdout);
    let run = scan(dir.path(), &["--format", "json"]);
    let line = &lines(&run)[0];
    assert_eq!(findings(line), ["long-lived"]);
    assert!(line["findings"][0]["message"].as_str().unwrap().contains("over the 1h bound"), "{line}");
    // Nothing found: exit 0, at any threshold.
    let clean = Scratch::new("scan-clean");
    clean.write("readme.md", "no tokens here\n");
    let run = scan(clean.path(), &["--fail-on", "low"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("0 tokens; 1 file"), "{}", run.stdout);
    // Bad usage: exit 2.
    assert_eq!(scan(clean.path(), &["missing-dir"]).code, 2);
    assert_eq!(scan(clean.path(), &["--max-lifetime", "1w"]).code, 2);
    assert_eq!(scan(clean.path(), &["--fetch-keys"]).code, 2);
}

#[test]
fn suppression_by_fingerprint() {
    let t = tree();
    let run = scan(t.dir.path(), &["--format", "json"]);
    let tokens = lines(&run);
    let none = &by_path(&tokens, "legacy.env")[1];
    let hs = &by_path(&tokens, "legacy.env")[0];
    // A fingerprint, and a redacted form as printed; comments and blank lines.
    let list = format!(
        "# fixtures\n\n{}  # alg none demo\n{}\n",
        none["fingerprint"].as_str().unwrap(),
        hs["redacted"].as_str().unwrap()
    );
    t.dir.write(".edgeward-scan-ignore", &list);
    let run = scan(t.dir.path(), &["--format", "json"]);
    let after = lines(&run);
    assert_eq!(after.len(), tokens.len() - 2);
    assert!(by_path(&after, "legacy.env").is_empty());
    let table = scan(t.dir.path(), &["--fail-on", "critical"]);
    assert_eq!(table.code, 0, "{}", table.stdout);
    assert!(table.stdout.contains("2 suppressed"), "{}", table.stdout);
    // Fingerprints are stable from run to run.
    assert_eq!(lines(&scan(t.dir.path(), &["--format", "json"])), after);
    // A line that is not a fingerprint is bad usage.
    t.dir.write(".edgeward-scan-ignore", "sha256:xyz\n");
    let run = scan(t.dir.path(), &[]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(".edgeward-scan-ignore:1: expected a fingerprint"), "{}", run.stderr);
    // --ignore-file, from elsewhere.
    std::fs::remove_file(t.dir.path().join(".edgeward-scan-ignore")).unwrap();
    let elsewhere = Scratch::new("scan-ignore-file");
    let file = elsewhere.write("list", none["fingerprint"].as_str().unwrap());
    let run = scan(t.dir.path(), &["--format", "json", "--ignore-file", file.to_str().unwrap()]);
    assert_eq!(lines(&run).len(), tokens.len() - 1);
}

#[test]
fn git_history_finds_a_deleted_token_with_the_commit_that_added_it() {
    let dir = Scratch::new("scan-history");
    let repo = dir.path();
    git(repo, &["init", "-q"]);
    dir.write("README.md", "a service\n");
    git(repo, &["add", "."]);
    git(repo, &["commit", "-qm", "start"]);
    let key = es256_key();
    let leaked = signed(&key, json!({ "iss": ISSUER, "sub": "ci-bot", "iat": NOW - 10, "exp": NOW + 365 * 86_400 }));
    dir.write("deploy.sh", &format!("#!/bin/sh\ncurl -H 'Authorization: Bearer {leaked}' https://api\n"));
    git(repo, &["add", "."]);
    git(repo, &["commit", "-qm", "deploy script"]);
    let added = git_out(repo, &["rev-parse", "HEAD"]);
    // Changed twice (new blobs, same token), then deleted.
    dir.write("deploy.sh", &format!("#!/bin/sh\n# v2\ncurl -H 'Authorization: Bearer {leaked}' https://api\n"));
    git(repo, &["commit", "-qam", "v2"]);
    // On a branch too: every ref is searched.
    git(repo, &["checkout", "-qb", "side"]);
    let side = signed(&key, json!({ "iss": ISSUER, "iat": NOW - 10, "exp": NOW - 5 }));
    // A path that looks like git log's own fields, not ASCII, with a space.
    dir.write("commit :é side.txt", &side);
    git(repo, &["add", "."]);
    git(repo, &["commit", "-qm", "side"]);
    git(repo, &["checkout", "-q", "-"]);
    git(repo, &["rm", "-q", "deploy.sh"]);
    git(repo, &["commit", "-qm", "remove the token"]);

    let run = scan(repo, &["--format", "json"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "the working tree no longer has it: {}", run.stderr);
    let run = scan(repo, &["--format", "json", "--git-history"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_hidden(&run, &[&leaked, &side]);
    let tokens = lines(&run);
    assert_eq!(tokens.len(), 2, "{}", run.stdout);
    let first = &tokens[0];
    assert_eq!(first["path"], json!("deploy.sh"));
    assert_eq!(first["commit"], json!(added));
    assert_eq!((first["line"].clone(), first["column"].clone()), (json!(2), json!(32)));
    assert_eq!(first["sub"], json!("ci-bot"));
    assert_eq!(findings(first), ["still-valid", "long-lived"]);
    assert_eq!(tokens[1]["path"], json!("commit :é side.txt"));
    let table = scan(repo, &["--git-history"]);
    assert!(table.stdout.contains(&format!("{}:deploy.sh:2:32", &added[..12])), "{}", table.stdout);
    assert!(table.stdout.contains("blobs of the git history"), "{}", table.stdout);
    // Outside a repository: bad usage.
    let plain = Scratch::new("scan-no-repo");
    let run = scan(plain.path(), &["--git-history"]);
    if git_out(plain.path(), &["rev-parse", "--is-inside-work-tree"]) != "true" {
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains("not inside a git work tree"), "{}", run.stderr);
    }
}

#[test]
fn with_a_policy_tokens_are_checked_against_its_keys() {
    let dir = Scratch::new("scan-policy");
    let key = es256_key();
    let other = es256_key();
    dir.write("policy.json", &support::policy(&jwks(&[&key]), &["ES256"]));
    let accepted = signed(&key, json!({ "iss": ISSUER, "aud": AUDIENCE, "iat": NOW - 60, "exp": NOW + 600 }));
    let expired = signed(&key, expired_claims());
    let forged = signed(&other, json!({ "iss": ISSUER, "aud": AUDIENCE, "iat": NOW - 60, "exp": NOW + 600 }));
    dir.write("a.txt", &format!("{accepted}\n{expired}\n{forged}\n"));
    let run = scan(dir.path(), &["--format", "json", "--policy", "policy.json", "a.txt"]);
    assert_hidden(&run, &[&accepted, &expired, &forged]);
    let tokens = lines(&run);
    assert_eq!(tokens.len(), 3, "{}", run.stderr);
    assert_eq!(findings(&tokens[0]), ["accepted", "still-valid"]);
    assert_eq!(
        tokens[0]["policy"],
        json!({ "provider": "corp-idp", "signature_verifies": true, "accepted": true, "refusal": null })
    );
    assert_eq!(tokens[1]["policy"]["signature_verifies"], json!(true));
    assert_eq!(tokens[1]["policy"]["refusal"], json!("ERR_JWT_EXPIRED"));
    assert_eq!(tokens[2]["policy"]["signature_verifies"], json!(false));
    assert_eq!(tokens[2]["policy"]["refusal"], json!("ERR_JWS_SIGNATURE_VERIFICATION_FAILED"));
    assert_eq!(findings(&tokens[2]), ["still-valid"]);
}

#[test]
fn huge_lines_invalid_utf8_and_oversized_files_are_bounded() {
    let dir = Scratch::new("scan-bounded");
    let key = es256_key();
    let token = signed(&key, expired_claims());
    // 3 MiB on one line of invalid UTF-8 and token bytes, the token at its end.
    let mut huge = vec![0xC3u8; 1 << 20];
    huge.extend(std::iter::repeat_n(b'A', 2 << 20));
    huge.push(b' ');
    huge.extend_from_slice(token.as_bytes());
    std::fs::write(dir.path().join("huge.txt"), &huge).unwrap();
    // A candidate longer than the policy's max_token_bytes (16 KiB without a policy).
    let long = unsigned(json!({ "alg": "HS256" }), json!({ "pad": "x".repeat(20_000) }), &[1; 32]);
    dir.write("long.txt", &long);
    let run = scan(dir.path(), &["--format", "json", "--fail-on", "never"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let tokens = lines(&run);
    assert_eq!(tokens.len(), 1, "{}", run.stdout);
    assert_eq!((tokens[0]["path"].clone(), tokens[0]["column"].clone()), (json!("huge.txt"), json!((3 << 20) + 2)));
    // Over --max-filesize: skipped and named on stderr.
    let run = scan(dir.path(), &["--format", "json", "--max-filesize", "1M"]);
    assert!(lines(&run).is_empty());
    assert!(run.stderr.contains("skipped huge.txt: 3.0 MiB is over --max-filesize (1.0 MiB)"), "{}", run.stderr);
}

/// The SARIF multitool: `EDGEWARD_SARIF_MULTITOOL`, else `.tools/sarif-multitool` (scripts/setup.sh sarif).
fn multitool() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("EDGEWARD_SARIF_MULTITOOL") {
        return Some(PathBuf::from(path));
    }
    let linked = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/sarif-multitool");
    linked.exists().then_some(linked)
}

#[test]
fn sarif_is_valid_and_names_every_finding() {
    let t = tree();
    let run = scan(t.dir.path(), &["--format", "sarif"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_hidden(&run, &t.tokens.iter().map(String::as_str).collect::<Vec<_>>());
    let log: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(log["version"], json!("2.1.0"));
    let sarif_run = &log["runs"][0];
    let rules = sarif_run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = sarif_run["results"].as_array().unwrap();
    // One result per finding, a `token` note for a token without any: 3 + 1 + 3 + 1 + 1 + 1.
    assert_eq!(results.len(), 10, "{}", run.stdout);
    for result in results {
        let rule = &rules[usize::try_from(result["ruleIndex"].as_u64().unwrap()).unwrap()];
        assert_eq!(result["ruleId"], rule["id"]);
        assert_eq!(result["properties"]["finding"], rule["properties"]["kind"]);
        assert!(result["partialFingerprints"]["edgewardToken/v1"].as_str().unwrap().starts_with("sha256:"));
    }
    let live = results.iter().find(|r| r["properties"]["finding"] == json!("still-valid")).unwrap();
    assert_eq!(live["level"], json!("error"));
    let region = &live["locations"][0]["physicalLocation"]["region"];
    assert_eq!((region["startLine"].clone(), region["startColumn"].clone()), (json!(2), json!(11)));
    assert_eq!(live["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], json!("config/app.yaml"));

    let Some(tool) = multitool() else {
        assert!(std::env::var_os("CI").is_none(), "CI must validate SARIF: run scripts/setup.sh sarif");
        eprintln!("SKIPPED the SARIF multitool check: run scripts/setup.sh sarif (or set EDGEWARD_SARIF_MULTITOOL)");
        return;
    };
    let out = Scratch::new("scan-sarif");
    let log_file = out.write("scan.sarif", &run.stdout);
    let report = out.path().join("validation.sarif");
    let validated = Command::new(&tool)
        .arg("validate")
        .arg(&log_file)
        .arg("--output")
        .arg(&report)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", tool.display()));
    let console = String::from_utf8_lossy(&validated.stdout);
    assert!(validated.status.success(), "{console}");
    // The multitool exits 0 with errors too: its own SARIF report must list no result at all
    // (schema errors, and warnings and notes about SARIF practice).
    let verdict: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let problems = verdict["runs"][0]["results"].as_array().unwrap();
    assert!(problems.is_empty(), "the SARIF multitool found problems: {console}");
    assert_eq!(verdict["runs"][0]["invocations"][0]["executionSuccessful"], json!(true), "{console}");
}
