//! `edgeward report` on decision records: the pair a real Envoy and the real middleware wrote for
//! the same requests (cli/tests/fixtures/decisions/, from envoy/tests/decision-log.test.mjs), and
//! generated files for what real runs rarely hold: many principals, malformed and huge lines,
//! terminal escapes in a `sub`. Text and JSON outputs asserted; the HTML page is checked in
//! Chromium by js/test/report-html.test.mjs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use std::path::PathBuf;
use support::{Run, Scratch, edgeward};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/decisions")
}

fn report(args: &[&str], stdin: Option<&[u8]>) -> Run {
    let fixtures = fixtures();
    let mut all = vec!["report", "--policy", "policy.json"];
    all.extend_from_slice(args);
    edgeward(&fixtures, &all, stdin)
}

fn json_report(args: &[&str]) -> Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let run = report(&all, None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.json()
}

#[test]
fn json_of_the_envoy_and_the_middleware_logs() {
    for file in ["envoy.log", "node.log"] {
        let r = json_report(&[file]);
        assert_eq!(r["counts"]["records"], 6, "{file}");
        assert_eq!(
            (r["counts"]["skipped_malformed"].as_u64(), r["counts"]["skipped_too_long"].as_u64()),
            (Some(0), Some(0))
        );
        assert_eq!(r["principals_capped"], false);
        let principals = r["principals"].as_array().unwrap();
        assert_eq!(principals.len(), 2);
        let bot1 = principals.iter().find(|p| p["sub"] == "bot-1").unwrap();
        assert_eq!(bot1["iss"], "https://idp.decisions");
        assert_eq!(bot1["client_ids"], json!(["billing-bot"]));
        assert_eq!((bot1["allowed"].as_u64(), bot1["refused"].as_u64()), (Some(1), Some(1)));
        assert_eq!(
            bot1["rules"],
            json!({"orders-read": {"allowed": 1, "refused": 0}, "orders-write": {"allowed": 0, "refused": 1}})
        );
        assert_eq!(bot1["granted"], json!(["admin:*", "read:orders"]));
        assert_eq!(bot1["exercised"], json!(["read:orders"]));
        assert_eq!(bot1["unused"], json!(["admin:*"]));
        assert_eq!(bot1["recommendation"], "reduce to read:orders");
        assert_eq!(bot1["wildcards"], json!(["admin:*"]));
        assert_eq!(
            bot1["refusals"],
            json!([{"code": "ERR_SCOPE_INSUFFICIENT", "needed": ["write:orders"], "count": 1}])
        );
        assert_eq!(
            (bot1["longest_lifetime_seconds"].as_i64(), bot1["lifetime_bound_seconds"].as_u64()),
            (Some(305), Some(86_400))
        );
        let bot2 = principals.iter().find(|p| p["sub"] == "bot-2").unwrap();
        assert_eq!(bot2["client_ids"], json!(["audit-bot"]));
        assert_eq!(bot2["unused"], json!(["read:orders"]));
        assert_eq!(bot2["recommendation"], "reduce to write:orders");
        assert_eq!(bot2["longest_lifetime_seconds"], 7800);
        assert_eq!(bot2["only_long_lived"], true);
        assert_eq!(r["only_long_lived"], json!(["https://idp.decisions bot-2"]));
        assert_eq!(
            r["unidentified"],
            json!([
                {"rule": "-", "code": "ERR_ROUTE_DENIED", "count": 1},
                {"rule": "0", "code": "allowed", "count": 1},
                {"rule": "orders-read", "code": "ERR_JWT_MISSING", "count": 1},
            ])
        );
        assert_eq!(r["inventory"]["public_routes"], json!(["0"]));
        assert_eq!(r["inventory"]["rules"][1]["admits"][0]["scopes"], json!(["read:orders"]));
        assert_eq!(r["inventory"]["rules"][2]["admits"][0]["issuer"], "https://idp.decisions");
    }
}

#[test]
fn both_logs_at_once_and_stdin() {
    let both = json_report(&["envoy.log", "node.log"]);
    assert_eq!(both["counts"]["records"], 12);
    let bot1 = both["principals"].as_array().unwrap().iter().find(|p| p["sub"] == "bot-1").unwrap().clone();
    assert_eq!(bot1["allowed"], 2);
    let log = std::fs::read(fixtures().join("node.log")).unwrap();
    let run = report(&["--format", "json", "-"], Some(&log));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["counts"]["records"], 6);
}

#[test]
fn the_terminal_table() {
    let run = report(&["envoy.log"], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let out = &run.stdout;
    assert!(out.contains("6 records read, 2026-12-01T16:29:20.188Z to 2026-12-01T16:29:20.240Z; 0 skipped"), "{out}");
    assert!(out.contains("Principals (2)"), "{out}");
    let row = out.lines().find(|l| l.starts_with("https://idp.decisions bot-1")).unwrap();
    let cells: Vec<&str> = row.split("  ").map(str::trim).filter(|c| !c.is_empty()).collect();
    assert_eq!(
        cells,
        [
            "https://idp.decisions bot-1",
            "billing-bot",
            "2026-12-01T16:29:20.188Z",
            "2026-12-01T16:29:20.211Z",
            "1",
            "1",
            "admin:* read:orders",
            "read:orders",
            "admin:*"
        ]
    );
    assert!(out.contains("  unused scopes:     admin:* -> reduce to read:orders"), "{out}");
    assert!(out.contains("  wildcard grants:   admin:*"), "{out}");
    assert!(out.contains("  refused:           ERR_SCOPE_INSUFFICIENT, needed `write:orders`, 1 time"), "{out}");
    assert!(out.contains("  longest lifetime:  7800 s (bound 86400 s), only long-lived tokens"), "{out}");
    assert!(out.contains("Only long-lived tokens (over 3600 s): https://idp.decisions bot-2"), "{out}");
    assert!(out.contains("Permissions inventory (from the policy)"), "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("orders-read")
            && l.contains("GET")
            && l.contains("prefix /orders")
            && l.contains("provider idp, scopes read:orders")),
        "{out}"
    );
    assert!(out.contains("Public routes: 0"), "{out}");
}

#[test]
fn bad_lines_are_counted_and_escapes_neutralised() {
    let dir = Scratch::new("report-bad");
    std::fs::copy(fixtures().join("policy.json"), dir.path().join("policy.json")).unwrap();
    let mut text = std::fs::read_to_string(fixtures().join("node.log")).unwrap();
    text.push_str("not json\n{\"time\":\"yesterday\",\"status\":200}\n\n");
    text.push_str(&format!(
        "{{\"time\":\"2026-12-01T16:30:00.000Z\",\"iss\":\"https://idp.decisions\",\"sub\":\"{}\",\"status\":200}}\n",
        "x".repeat(70_000)
    ));
    text.push_str("{\"time\":\"2026-12-01T16:30:00.000Z\",\"iss\":\"https://idp.decisions\",\"sub\":\"evil\\u001b[31m\",\"status\":200}\n");
    text.push_str("{\"time\":\"2026-12-01T16:30:01.000Z\"");
    dir.write("records.log", &text);
    let run = edgeward(dir.path(), &["report", "--policy", "policy.json", "records.log"], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr.trim(), "edgeward: 4 lines skipped (3 not decision records, 1 over 65536 bytes)");
    assert!(run.stdout.contains("7 records read"), "{}", run.stdout);
    assert!(!run.stdout.contains('\u{1b}') && run.stdout.contains("evil?[31m"), "{}", run.stdout);
    let run = edgeward(dir.path(), &["report", "--policy", "policy.json", "--format", "json", "records.log"], None);
    let counts = run.json()["counts"].clone();
    assert_eq!(
        counts,
        json!({"records": 7, "skipped_malformed": 3, "skipped_too_long": 1, "blank": 1, "beyond_principal_cap": 0})
    );
}

#[test]
fn principals_beyond_the_cap_are_counted_and_said() {
    let dir = Scratch::new("report-cap");
    std::fs::copy(fixtures().join("policy.json"), dir.path().join("policy.json")).unwrap();
    let lines: String = (0..50)
        .map(|i| format!("{{\"time\":\"2026-12-01T16:30:00.000Z\",\"iss\":\"https://idp.decisions\",\"sub\":\"bot-{i}\",\"rule\":\"orders-read\",\"scopes\":\"read:orders\",\"required_scopes\":\"read:orders\",\"status\":200}}\n"))
        .collect();
    dir.write("many.log", &lines);
    let args = ["report", "--policy", "policy.json", "--max-principals", "10", "--format", "json", "many.log"];
    let run = edgeward(dir.path(), &args, None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let r = run.json();
    assert_eq!((r["principals"].as_array().unwrap().len(), r["principals_capped"].as_bool()), (10, Some(true)));
    assert_eq!(r["counts"]["beyond_principal_cap"], 40);
    assert!(
        run.stderr.contains("more than 10 principals: 40 records of later principals were counted"),
        "{}",
        run.stderr
    );
    let text = edgeward(dir.path(), &["report", "--policy", "policy.json", "--max-principals", "10", "many.log"], None);
    assert!(text.stdout.contains("more than 10 principals"), "{}", text.stdout);
}

#[test]
fn usage_errors() {
    let run = report(&[], None);
    assert_eq!(run.code, 2);
    let run = report(&["missing.log"], None);
    assert_eq!((run.code, run.stderr.trim()), (2, "edgeward: cannot read missing.log: no such file"));
    let run = edgeward(&fixtures(), &["report", "--policy", "node.log", "node.log"], None);
    assert_eq!(run.code, 2, "a records file is not a policy");
    let run = report(&["--max-principals", "0", "node.log"], None);
    assert_eq!(run.code, 2);
}
